"""Linear-programming audit: what can an intruder infer about the suppressed cells?

The intruder knows every published cell, that every row and column of the table with margins
adds up (see :mod:`disclosure.tables`) and that no count is negative. The suppressed cells are
the unknowns of a linear program; minimising and maximising each one in turn gives the interval
the intruder can narrow it down to. A cell whose interval has width 0 is disclosed exactly.

Suppressed cells that share no line, directly or through other suppressed cells, are
independent unknowns, so each connected group is a separate, small program. After rescaling
the unknowns by +-1 the equations are those of a bipartite network (one node per line, one arc
per cell), whose matrix is totally unimodular: with whole-number counts every optimum is a whole
number, so an interval narrower than 1 means a cell known exactly. (The equations of the total
row and the total column follow from the others; they are kept, as an intruder would.)

The suppression itself only needs to know which cells can move by 1 (:func:`movable_cells`),
which the same network answers by a search for cycles, without a solver.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass

import numpy as np

from disclosure.tables import line_signs

_TOLERANCE = 1e-6


@dataclass(frozen=True)
class _Program:
    """The linear program of one connected group of suppressed cells.

    Attributes:
        cells: (n, 2) row and column indices of the unknowns.
        a_eq: One additivity equation per line through the group (rows first).
        b_eq: Right-hand sides: minus the published part of each equation.
    """

    cells: np.ndarray
    a_eq: np.ndarray
    b_eq: np.ndarray


def feasible_ranges(
    values: np.ndarray, suppressed: np.ndarray
) -> dict[tuple[int, int], tuple[float, float]]:
    """Interval each suppressed cell can be narrowed to from the published cells.

    For every suppressed cell, two linear programs (HiGHS) find its minimum and maximum subject
    to: published cells fixed, suppressed cells >= 0, every row of the table with margins
    adding up to its last cell and every column to its last cell (total row and total column
    included). The values of suppressed cells are never read.

    Args:
        values: (R+1) x (C+1) table with margins (interior, row totals in the last column,
            column totals in the last row, grand total in the corner); entries under
            ``suppressed`` may be anything, NaN included.
        suppressed: Boolean mask of the same shape.

    Returns:
        ``{(i, j): (lo, hi)}`` for every suppressed cell, in row-major order; ``hi`` is
        ``math.inf`` when nothing bounds the cell. Values within 1e-6 of a whole number are
        rounded to it.

    Raises:
        ValueError: If the shapes differ, the table is smaller than 2 x 2, a published cell is
            not finite, or the published cells contradict the totals.
    """
    values, suppressed = _checked(values, suppressed)
    ranges: dict[tuple[int, int], tuple[float, float]] = {}
    for program in _programs(values, suppressed):
        ranges.update(_ranges_of(program))
    return dict(sorted(ranges.items()))


def movable_cells(values: np.ndarray, suppressed: np.ndarray, to_check: np.ndarray) -> np.ndarray:
    """Which suppressed cells the intruder cannot pin down (interval of width >= 1).

    The question :func:`feasible_ranges` answers by linear programming, answered on the
    network instead. A move of the suppressed cells that keeps every published cell and
    every total is a circulation on the graph of lines (one node per row and per column, one
    arc per suppressed cell, directed by the signs of its two equations); with whole-number
    counts, a cell can move by 1 exactly when one unit can go round a cycle through it: a
    step along an arc raises that count, a step against it lowers it and needs a count >= 1.
    So a cell is safe when the other suppressed cells lead back from one end of its arc to the
    other, in a direction its own count allows. (A move of some size >= 1 decomposes into
    such cycles, and the cycle through the cell alone moves it by 1.)

    Args:
        values: The (R+1) x (C+1) table with margins, true values everywhere.
        suppressed: Boolean mask of the suppressed cells (the unknowns).
        to_check: Boolean mask of the suppressed cells to audit.

    Returns:
        Boolean mask of the cells of ``to_check`` shown to move by at least 1.

    Raises:
        ValueError: As :func:`feasible_ranges`.
    """
    values, suppressed = _checked(values, suppressed)
    _published_rests(values, suppressed)
    row_sign, column_sign = line_signs(values.shape)
    raises = np.outer(column_sign, row_sign) > 0  # does row -> column raise the count?
    n_rows = values.shape[0]
    steps: dict[int, list[tuple[int, tuple[int, int]]]] = defaultdict(list)
    for row, column in np.argwhere(suppressed):
        cell = (int(row), int(column))
        lowers = values[cell] >= 1
        if raises[cell] or lowers:
            steps[cell[0]].append((n_rows + cell[1], cell))
        if not raises[cell] or lowers:
            steps[n_rows + cell[1]].append((cell[0], cell))
    movable = np.zeros(values.shape, dtype=bool)
    for row, column in np.argwhere(suppressed & np.asarray(to_check, dtype=bool)):
        cell = (int(row), int(column))
        row_node, column_node = cell[0], n_rows + cell[1]
        lowers = values[cell] >= 1
        movable[cell] = (
            (raises[cell] or lowers) and _leads(steps, column_node, row_node, cell)
        ) or ((not raises[cell] or lowers) and _leads(steps, row_node, column_node, cell))
    return movable


def _leads(
    steps: dict[int, list[tuple[int, tuple[int, int]]]],
    source: int,
    target: int,
    avoided: tuple[int, int],
) -> bool:
    """Whether the steps lead from ``source`` to ``target`` without the cell ``avoided``."""
    seen, waiting = {source}, deque([source])
    while waiting:
        for node, cell in steps[waiting.popleft()]:
            if cell == avoided or node in seen:
                continue
            if node == target:
                return True
            seen.add(node)
            waiting.append(node)
    return False


def suppressed_groups(suppressed: np.ndarray) -> list[np.ndarray]:
    """Split suppressed cells into groups linked by shared lines.

    Args:
        suppressed: Boolean mask of a table with margins.

    Returns:
        One (n, 2) array of cell indices per group, groups in order of their first cell.
    """
    n_rows = suppressed.shape[0]
    parent = list(range(n_rows + suppressed.shape[1]))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    cells = np.argwhere(suppressed)
    for row, column in cells:
        parent[root(int(row))] = root(n_rows + int(column))
    roots = np.array([root(int(row)) for row, _ in cells])
    _, first = np.unique(roots, return_index=True)
    return [cells[roots == roots[index]] for index in np.sort(first)]


def _checked(values: np.ndarray, suppressed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=float)
    suppressed = np.asarray(suppressed, dtype=bool)
    if values.ndim != 2 or values.shape != suppressed.shape or min(values.shape) < 2:
        raise ValueError(
            f"values {values.shape} and suppressed {suppressed.shape} must be the same "
            "table with margins, at least 2 x 2"
        )
    if not np.all(np.isfinite(values[~suppressed])):
        raise ValueError("published cells must be finite")
    return values, suppressed


def _programs(values: np.ndarray, suppressed: np.ndarray) -> list[_Program]:
    """One linear program per group of suppressed cells; check the fully published lines."""
    row_sign, column_sign = line_signs(values.shape)
    row_rest, column_rest = _published_rests(values, suppressed)
    programs = []
    for cells in suppressed_groups(suppressed):
        rows, columns = np.unique(cells[:, 0]), np.unique(cells[:, 1])
        unknown = np.arange(len(cells))
        a_eq = np.zeros((len(rows) + len(columns), len(cells)))
        a_eq[np.searchsorted(rows, cells[:, 0]), unknown] = row_sign[cells[:, 1]]
        a_eq[len(rows) + np.searchsorted(columns, cells[:, 1]), unknown] = column_sign[cells[:, 0]]
        b_eq = -np.concatenate([row_rest[rows], column_rest[columns]])
        programs.append(_Program(cells, a_eq, b_eq))
    return programs


def _published_rests(values: np.ndarray, suppressed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the published cells add to each row's and column's equation; raise ValueError
    when a fully published line does not add up."""
    row_sign, column_sign = line_signs(values.shape)
    published = np.where(suppressed, 0.0, values)
    row_rest = published @ row_sign
    column_rest = column_sign @ published
    _check_published_lines(row_rest, suppressed.any(axis=1), column_rest, suppressed.any(axis=0))
    return row_rest, column_rest


def _check_published_lines(
    row_rest: np.ndarray, row_open: np.ndarray, column_rest: np.ndarray, column_open: np.ndarray
) -> None:
    residuals = np.concatenate([row_rest[~row_open], column_rest[~column_open]])
    if np.any(np.abs(residuals) > _TOLERANCE * (1.0 + np.abs(residuals).max(initial=0.0))):
        raise ValueError("the published cells contradict the table's totals")


def _optimum(program: _Program, objective: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
    """Minimise ``objective @ x`` over the group; None when unbounded."""
    # Imported here: SciPy takes about a second to import, and only this audit needs it.
    from scipy.optimize import linprog

    bounds = np.column_stack([np.zeros(len(upper)), upper])
    result = linprog(objective, A_eq=program.a_eq, b_eq=program.b_eq, bounds=bounds, method="highs")
    if result.status == 0:
        return result.x
    if result.status == 3:
        return None
    if result.status == 2:
        raise ValueError("the published cells contradict the table's totals")
    raise RuntimeError(f"linear program failed: {result.message}")


def _ranges_of(program: _Program) -> dict[tuple[int, int], tuple[float, float]]:
    """Exact min and max of every unknown of one group (a min LP is skipped once 0 is seen)."""
    n = len(program.cells)
    uncapped = np.full(n, np.inf)
    seen_zero = np.zeros(n, dtype=bool)
    ranges = {}
    for k, (row, column) in enumerate(program.cells):
        objective = np.zeros(n)
        objective[k] = -1.0
        top = _optimum(program, objective, uncapped)
        if top is not None:
            seen_zero |= top <= _TOLERANCE
        if seen_zero[k]:
            low = 0.0
        else:
            objective[k] = 1.0
            bottom = _optimum(program, objective, uncapped)
            seen_zero |= bottom <= _TOLERANCE
            low = bottom[k]
        high = math.inf if top is None else top[k]
        ranges[(int(row), int(column))] = (_snapped(low), _snapped(high))
    return ranges


def _snapped(value: float) -> float:
    if math.isfinite(value) and abs(value - round(value)) < _TOLERANCE:
        return float(round(value))
    return float(value)
