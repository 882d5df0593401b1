"""Suppression of a long frame of counts, one table per group (ward x fiscal year, ...)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from disclosure.suppression import suppress
from disclosure.tables import THRESHOLD


@dataclass(frozen=True)
class _Layout:
    """How the long frame maps onto tables: the argument columns and the shared columns."""

    row: str
    column: str
    count: str
    threshold: int
    total_label: Hashable
    row_order: Sequence[Hashable] | None
    columns: list[Hashable]
    forced: dict[tuple[Hashable, ...], set[tuple[Hashable, Hashable]]]
    public_total_row: bool


def suppress_frame(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    row: str,
    column: str,
    count: str = "people",
    threshold: int = THRESHOLD,
    total_label: Hashable = "計",
    row_order: Sequence[Hashable] | None = None,
    column_order: Sequence[Hashable] | None = None,
    forced: pd.DataFrame | None = None,
    public_total_row: bool = False,
) -> pd.DataFrame:
    """Suppress small cells in one two-way table per group, margins added.

    Each group of ``by`` is a table with ``row`` down and ``column`` across. Its rows are the
    row labels found in the group (a subpopulation absent from the group has nobody to
    protect); its columns are the column labels of the whole frame, or ``column_order``, so a
    category nobody in the group falls into is a zero cell that is protected like any other
    (leaving the column out would tell that everybody is in the other categories). Missing
    row x column combinations count 0. Each table goes through :func:`disclosure.suppress`.

    Args:
        frame: Interior cells in long form, at most one row per group x row x column.
        by: Column(s) naming a table (e.g. ``["ward_code", "fiscal_year"]``).
        row: Column of the row labels (strings or integers).
        column: Column of the column labels.
        count: Column of the people counts (non-negative whole numbers).
        threshold: Cells counting fewer people are primary-suppressed.
        total_label: Label of the margins (row totals in ``column``, column totals in ``row``).
        row_order: Order of the rows (labels absent from a group are skipped); default sorted.
        column_order: The columns, in order; default the frame's labels sorted.
        forced: Cells to withhold whatever their count (``by`` columns, ``row``, ``column``;
            margins by ``total_label``), e.g. the cells another table printing the same
            margin withholds.
        public_total_row: The total row (column totals and grand total) is published
            elsewhere, e.g. as the numerator and denominator of an indicator: it is never
            withheld and the other cells are protected knowing it.

    Returns:
        Long form, ``by`` columns with their dtypes, then ``row``, ``column``, ``count``
        (Int64, <NA> when suppressed), ``is_suppressed``, ``is_primary``; ordered by group, row
        (total last) and column (total last). A label column keeps its string dtype when its
        labels and ``total_label`` are strings, otherwise it is of dtype object.

    Raises:
        ValueError: On missing columns, duplicated or unknown labels, or counts that are
            missing, negative or fractional.
    """
    by_columns = [by] if isinstance(by, str) else list(by)
    _check_columns(frame, [*by_columns, row, column, count])
    columns = _ordered_labels(frame[column], column_order, total_label, keep_absent=True)
    forced_cells = _forced_cells(forced, by_columns, row, column)
    layout = _Layout(
        row,
        column,
        count,
        threshold,
        total_label,
        row_order,
        columns,
        forced_cells,
        public_total_row,
    )
    pieces = [_suppressed_group(key, group, layout) for key, group in _groups(frame, by_columns)]
    return _assembled(frame, pieces, by_columns, row, column, count, total_label)


def _forced_cells(
    forced: pd.DataFrame | None, by_columns: list[str], row: str, column: str
) -> dict[tuple[Hashable, ...], set[tuple[Hashable, Hashable]]]:
    """The cells to withhold, per group key."""
    cells: dict[tuple[Hashable, ...], set[tuple[Hashable, Hashable]]] = {}
    if forced is None:
        return cells
    _check_columns(forced.assign(_count=0), [*by_columns, row, column, "_count"])
    for record in forced[[*by_columns, row, column]].itertuples(index=False):
        key = tuple(record[: len(by_columns)])
        cells.setdefault(key, set()).add((record[-2], record[-1]))
    return cells


def _check_columns(frame: pd.DataFrame, needed: list[str]) -> None:
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}")
    if len(set(needed)) != len(needed):
        raise ValueError(f"by, row, column and count must be distinct columns: {needed}")
    if frame.duplicated(subset=needed[:-1]).any():
        raise ValueError(f"frame has more than one row per {needed[:-1]}")


def _groups(
    frame: pd.DataFrame, by_columns: list[str]
) -> list[tuple[tuple[Hashable, ...], pd.DataFrame]]:
    if not by_columns:
        return [((), frame)] if len(frame) else []
    return [
        (key if isinstance(key, tuple) else (key,), group)
        for key, group in frame.groupby(by_columns, sort=True, dropna=False)
    ]


def _ordered_labels(
    labels: pd.Series,
    order: Sequence[Hashable] | None,
    total_label: Hashable,
    keep_absent: bool,
) -> list[Hashable]:
    """Labels of one axis: ``order`` (checked) or the sorted labels present."""
    if labels.isna().any():
        raise ValueError(f"column {labels.name!r} has missing labels")
    present = list(pd.unique(labels))
    if order is None:
        ordered = sorted(present)
    else:
        ordered = list(order)
        if len(set(ordered)) != len(ordered):
            raise ValueError(f"the order of {labels.name!r} repeats a label")
        unknown = set(present) - set(ordered)
        if unknown:
            unknown_labels = sorted(map(str, unknown))
            raise ValueError(f"labels of {labels.name!r} not in its order: {unknown_labels}")
        if not keep_absent:
            ordered = [label for label in ordered if label in set(present)]
    if total_label in set(ordered):
        raise ValueError(f"{labels.name!r} already uses the total label {total_label!r}")
    return ordered


def _suppressed_group(
    key: tuple[Hashable, ...], group: pd.DataFrame, layout: _Layout
) -> dict[str, object]:
    """Suppress one group's table; return its cells in long form, margins included."""
    rows = _ordered_labels(group[layout.row], layout.row_order, layout.total_label, False)
    people = pd.to_numeric(group[layout.count]).to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(people).any():
        raise ValueError(f"column {layout.count!r} has missing counts")
    counts = np.zeros((len(rows), len(layout.columns)))
    row_index = pd.Index(rows).get_indexer(group[layout.row])
    column_index = pd.Index(layout.columns).get_indexer(group[layout.column])
    counts[row_index, column_index] = people
    forced = np.zeros((len(rows) + 1, len(layout.columns) + 1), dtype=bool)
    row_positions = {label: i for i, label in enumerate([*rows, layout.total_label])}
    column_positions = {label: j for j, label in enumerate([*layout.columns, layout.total_label])}
    for row_label, column_label in layout.forced.get(key, ()):
        if row_label in row_positions and column_label in column_positions:
            forced[row_positions[row_label], column_positions[column_label]] = True
    public = np.zeros_like(forced)
    public[-1, :] = layout.public_total_row
    table = suppress(counts, layout.threshold, forced, public)
    shape = table.values.shape
    return {
        "key": key,
        "size": table.values.size,
        "row": np.repeat(np.array([*rows, layout.total_label], dtype=object), shape[1]),
        "column": np.tile(np.array([*layout.columns, layout.total_label], dtype=object), shape[0]),
        "values": table.values.ravel(),
        "suppressed": table.suppressed.ravel(),
        "primary": table.primary.ravel(),
    }


def _assembled(
    frame: pd.DataFrame,
    pieces: list[dict[str, object]],
    by_columns: list[str],
    row: str,
    column: str,
    count: str,
    total_label: Hashable,
) -> pd.DataFrame:
    """Concatenate the groups' cells and give every column its dtype."""
    sizes = [piece["size"] for piece in pieces]
    result = {}
    for position, name in enumerate(by_columns):
        keys = np.array([piece["key"][position] for piece in pieces], dtype=object)
        result[name] = pd.Series(np.repeat(keys, sizes), dtype=object).astype(frame[name].dtype)
    for name, part in ((row, "row"), (column, "column")):
        labels = pd.Series(_joined(pieces, part, object), dtype=object)
        result[name] = _label_dtype(labels, frame[name], total_label)
    suppressed = _joined(pieces, "suppressed", bool)
    result[count] = pd.arrays.IntegerArray(_joined(pieces, "values", np.int64), suppressed.copy())
    result["is_suppressed"] = suppressed
    result["is_primary"] = _joined(pieces, "primary", bool)
    return pd.DataFrame(result)


def _joined(pieces: list[dict[str, object]], part: str, dtype: type) -> np.ndarray:
    if not pieces:
        return np.array([], dtype=dtype)
    return np.concatenate([piece[part] for piece in pieces]).astype(dtype)


def _label_dtype(labels: pd.Series, original: pd.Series, total_label: Hashable) -> pd.Series:
    """Keep a string dtype when every label (the total included) is a string."""
    if isinstance(total_label, str) and pd.api.types.is_string_dtype(original.dtype):
        return labels.astype(original.dtype)
    return labels
