"""The table with margins that disclosure control works on, and its additivity structure.

A table of people counts with R rows and C columns is published with its margins as an
(R+1) x (C+1) array: the interior, the row totals in the last column, the column totals in the
last row and the grand total in the corner. Every row of that array (the total row included)
adds up to its last cell and every column (the total column included) to its last cell, so each
cell lies on exactly two *lines*: its row and its column. These are the only equations an
intruder can use, together with "a count is never negative".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THRESHOLD = 10
"""A cell counting fewer people than this (0 included) is not published (primary suppression)."""


@dataclass(frozen=True)
class SuppressedTable:
    """A table with margins and the cells withheld from publication.

    Attributes:
        values: (R+1) x (C+1) integer counts: the interior, row totals in the last column,
            column totals in the last row, the grand total in the corner.
        suppressed: Boolean mask of the cells withheld (primary and complementary).
        primary: Boolean mask of the cells under the threshold (always within ``suppressed``).
        unprotectable: Boolean mask of withheld cells that cells published elsewhere fix
            whatever is withheld here (see ``public`` in :func:`disclosure.suppress`).
    """

    values: np.ndarray
    suppressed: np.ndarray
    primary: np.ndarray
    unprotectable: np.ndarray


def as_counts(counts: np.ndarray) -> np.ndarray:
    """Validate an interior table of people counts.

    Args:
        counts: A non-empty R x C array of non-negative whole numbers (any numeric dtype).

    Returns:
        The counts as an int64 array.

    Raises:
        ValueError: If the array is not 2-D, is empty, or holds negative or fractional values.
    """
    array = np.asarray(counts)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"counts must be a non-empty 2-D table, got shape {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"counts must be numeric, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.round(array)):
        raise ValueError("counts must be non-negative whole numbers")
    return array.astype(np.int64)


def with_margins(counts: np.ndarray) -> np.ndarray:
    """Add row totals, column totals and the grand total to an interior table.

    Args:
        counts: An R x C array of counts.

    Returns:
        The (R+1) x (C+1) array described in the module docstring.
    """
    rows, columns = counts.shape
    values = np.zeros((rows + 1, columns + 1), dtype=counts.dtype)
    values[:rows, :columns] = counts
    values[:rows, columns] = counts.sum(axis=1)
    values[rows, :columns] = counts.sum(axis=0)
    values[rows, columns] = counts.sum()
    return values


def line_signs(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of the additivity equations of a table with margins.

    Row r reads ``sum(row_sign[c] * x[r, c] for c) == 0`` and column c reads
    ``sum(column_sign[r] * x[r, c] for r) == 0``: +1 for a part, -1 for the total it adds to.

    Args:
        shape: (R+1, C+1), the shape of the table with margins.

    Returns:
        ``(row_sign, column_sign)``: arrays of length C+1 and R+1.
    """
    row_sign = np.ones(shape[1])
    row_sign[-1] = -1.0
    column_sign = np.ones(shape[0])
    column_sign[-1] = -1.0
    return row_sign, column_sign


def margin_mask(shape: tuple[int, int]) -> np.ndarray:
    """Boolean mask of the margin cells (last row and last column) of a table with margins."""
    mask = np.zeros(shape, dtype=bool)
    mask[-1, :] = True
    mask[:, -1] = True
    return mask
