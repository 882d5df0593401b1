"""Small-cell suppression of a table of people counts, with complementary suppression.

The rule:

1. *Primary*: every cell of the table with margins counting fewer than ``threshold`` people
   (0 included, margins included) is withheld.
2. *Complementary*: further cells are withheld until no withheld cell can be worked out from
   what is published. "Worked out" is judged by linear programming (:mod:`disclosure.audit`):
   with the published cells fixed, the withheld cells >= 0 and every row and column adding up
   to its total, each withheld cell must still range over an interval of width >= 1.

Why it is safe: the audit is exactly the intruder's best inference from additivity and
non-negativity, so a width >= 1 means at least two whole-number values stay possible for every
withheld cell. A rule such as "two withheld cells in every row and column" is not enough: a
withheld cell can be the only link between two groups of withheld cells (it is then fixed by
the equations), or zeros can pin a whole cycle (a zero can only go up).

How cells are chosen, cheapest first:

* A structural pass: a line (row or column, totals included) with a single withheld cell
  gives it away at once, so the pass adds, in such a line, the published cell losing the least
  information - the smallest count, any margin only when no interior cell is left, counting
  also the partner the new cell's other line will then need.
* The linear-programming audit of the result.
* For every cell the audit cannot clear, the cheapest *protecting cycle* through it: a closed
  alternating path of cells, row - column - row - ..., along which adding and subtracting 1 in
  turn keeps every total and every count >= 0. It is found as a shortest path (withheld cells
  cost nothing, published cells their count, margins a penalty above any sum of counts), and
  moving the table along it is itself a feasible point at distance 1, a certificate that every
  cell of the cycle is safe. Such a cycle always exists (the cell with its row total, column
  total and grand total, for instance), so the procedure ends on every input.

Withholding more cells only enlarges the intruder's feasible set, so a cell once cleared stays
cleared while others are added.
"""

from __future__ import annotations

import numpy as np

from disclosure.audit import movable_cells
from disclosure.tables import (
    THRESHOLD,
    SuppressedTable,
    as_counts,
    line_signs,
    margin_mask,
    with_margins,
)


def suppress(
    counts: np.ndarray,
    threshold: int = THRESHOLD,
    forced: np.ndarray | None = None,
    public: np.ndarray | None = None,
) -> SuppressedTable:
    """Withhold the small cells of a table and enough others to protect them.

    Args:
        counts: R x C interior table of people counts (non-negative whole numbers, R, C >= 1).
        threshold: Cells counting fewer people are primary-suppressed.
        forced: Optional (R+1) x (C+1) mask of cells to withhold whatever their count, and to
            protect like primary ones: the cells another published table shares with this one
            and withholds (a margin both tables print must be withheld in both or neither).
        public: Optional (R+1) x (C+1) mask of cells another table publishes whatever happens
            here (a breakdown's total row is its indicator's numerator and denominator):
            never withheld, never chosen as complementary cells, and known to the audit. A cell
            that the public cells alone determine (a table of one row, say) cannot be
            protected: it is withheld and reported in ``SuppressedTable.unprotectable``.

    Returns:
        The table with margins, its primary cells and all suppressed cells; every suppressed
        cell has a feasible interval of width >= 1 (see :func:`disclosure.feasible_ranges`).

    Raises:
        ValueError: If ``counts`` is not a non-empty table of non-negative whole numbers.
    """
    values = with_margins(as_counts(counts))
    known = _mask(public, values.shape, "public")
    primary = (values < threshold) & ~known
    suppressed = primary | (_mask(forced, values.shape, "forced") & ~known)
    protected_first = suppressed.copy()
    unprotectable = np.zeros_like(suppressed)
    if suppressed.any():
        costs = np.where(known, np.inf, suppression_costs(values))
        suppressed = complete_lines(costs, suppressed)
        unprotectable = protect_unsafe(values, costs, protected_first, suppressed)
    return SuppressedTable(
        values=values, suppressed=suppressed, primary=primary, unprotectable=unprotectable
    )


def _mask(mask: np.ndarray | None, shape: tuple[int, ...], name: str) -> np.ndarray:
    if mask is None:
        return np.zeros(shape, dtype=bool)
    if mask.shape != shape:
        raise ValueError(f"{name} mask of shape {mask.shape}, table of {shape}")
    return mask.astype(bool)


def suppression_costs(values: np.ndarray) -> np.ndarray:
    """Information lost by withholding each cell of a table with margins.

    A cell costs its count; a margin costs a penalty above the sum of all cells on top, so
    that a margin is chosen only when no interior cell will do.

    Args:
        values: The (R+1) x (C+1) table with margins.

    Returns:
        Float array of the same shape.
    """
    penalty = float(values.sum()) + 1.0
    return values.astype(float) + penalty * margin_mask(values.shape)


def complete_lines(costs: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    """Structural pass: no line may hold exactly one suppressed cell.

    Args:
        costs: Cost of withholding each cell (:func:`suppression_costs`).
        suppressed: Boolean mask of the cells withheld so far.

    Returns:
        A new mask in which every row and column (totals included) holds zero or at least two
        suppressed cells.
    """
    suppressed = suppressed.copy()
    # Lines whose only partners are public cells: the audit and its cycles deal with them.
    stuck_rows: set[int] = set()
    stuck_columns: set[int] = set()
    while True:
        lonely_rows = [
            r for r in np.flatnonzero(suppressed.sum(axis=1) == 1) if r not in stuck_rows
        ]
        lonely_columns = [
            c for c in np.flatnonzero(suppressed.sum(axis=0) == 1) if c not in stuck_columns
        ]
        if lonely_rows:
            row = int(lonely_rows[0])
            column = _cheapest_partner(costs, suppressed, row)
            if not suppressed[row, column] and np.isfinite(costs[row, column]):
                suppressed[row, column] = True
            else:
                stuck_rows.add(row)
        elif lonely_columns:
            column = int(lonely_columns[0])
            row = _cheapest_partner(costs.T, suppressed.T, column)
            if not suppressed[row, column] and np.isfinite(costs[row, column]):
                suppressed[row, column] = True
            else:
                stuck_columns.add(column)
        else:
            return suppressed


def protect_unsafe(
    values: np.ndarray, costs: np.ndarray, primary: np.ndarray, suppressed: np.ndarray
) -> np.ndarray:
    """Audit the pattern (`movable_cells`) and add a protecting cycle where it fails.

    Args:
        values: The table with margins.
        costs: Cost of withholding each cell (inf: a public cell, never withheld).
        primary: Mask of the primary cells (protected first).
        suppressed: Mask of the suppressed cells, updated in place.

    Returns:
        Mask of the suppressed cells no cycle can protect: the public cells fix them.
    """
    unprotectable = np.zeros_like(suppressed)
    cleared = movable_cells(values, suppressed, suppressed)
    unsafe = np.argwhere(suppressed & ~cleared)
    cells = tuple(unsafe.T)
    order = np.lexsort((unsafe[:, 1], unsafe[:, 0], values[cells], ~primary[cells]))
    for row, column in unsafe[order]:
        if cleared[row, column]:
            continue
        cycle = protecting_cycle(values, costs, suppressed, (int(row), int(column)))
        if cycle is None:
            unprotectable[row, column] = True
            continue
        suppressed[tuple(cycle.T)] = True
        cleared[tuple(cycle.T)] = True
    return unprotectable


def protecting_cycle(
    values: np.ndarray, costs: np.ndarray, suppressed: np.ndarray, cell: tuple[int, int]
) -> np.ndarray | None:
    """Cheapest cycle of cells through ``cell`` along which the table can move by 1.

    Each cell is an arc between its row and its column. After rescaling each cell by the
    signs of its two equations (a part counts +1, a total -1), stepping row -> column adds 1
    to the cell and column -> row subtracts 1, and a closed path keeps every total. A step that
    lowers a count is allowed only from a count >= 1.

    Args:
        values: The table with margins.
        costs: Cost of withholding each cell; suppressed cells cost nothing.
        suppressed: Mask of the cells withheld so far.
        cell: The cell to protect.

    Returns:
        (n, 2) indices of the cells of the cycle, ``cell`` first; None when none exists, which
        only public cells (infinite cost) can cause: without them the cell, its row total,
        column total and grand total always make one.
    """
    row_sign, column_sign = line_signs(values.shape)
    raises = np.outer(column_sign, row_sign) > 0  # does row -> column raise the count?
    step_cost = np.where(suppressed, 0.0, costs)
    forward = np.where(raises | (values >= 1), step_cost, np.inf)
    backward = np.where(~raises | (values >= 1), step_cost, np.inf)
    forward[cell] = backward[cell] = np.inf  # the cycle closes through the cell itself
    n_rows = values.shape[0]
    row_node, column_node = cell[0], n_rows + cell[1]
    starts = []
    if raises[cell] or values[cell] >= 1:  # row -> column through the cell, then back
        starts.append(_shortest_path(forward, backward, column_node, row_node))
    if not raises[cell] or values[cell] >= 1:  # column -> row through the cell, then back
        starts.append(_shortest_path(forward, backward, row_node, column_node))
    cost, path = min(starts, key=lambda found: found[0], default=(np.inf, []))
    if not np.isfinite(cost):
        return None
    return np.array([cell, *path])


def _cheapest_partner(costs: np.ndarray, suppressed: np.ndarray, row: int) -> int:
    """Column of the published cell of ``row`` that is cheapest to withhold next.

    The cost of a candidate includes the cheapest partner its column will need when that
    column holds no suppressed cell yet (columns of a transposed table give the row case).
    """
    open_costs = np.where(suppressed, np.inf, costs)
    elsewhere = np.delete(open_costs, row, axis=0)
    follow_up = np.where(suppressed.any(axis=0), 0.0, elsewhere.min(axis=0))
    return int(np.argmin(open_costs[row] + follow_up))


def _shortest_path(
    forward: np.ndarray, backward: np.ndarray, source: int, target: int
) -> tuple[float, list[tuple[int, int]]]:
    """Dijkstra on the bipartite graph of lines (rows first, then columns).

    Args:
        forward: Cost of stepping row r -> column c through cell (r, c) (inf: not allowed).
        backward: Cost of stepping column c -> row r through cell (r, c).
        source: Start node.
        target: End node.

    Returns:
        The cost and the cells stepped through, in order (empty when unreachable).
    """
    n_rows, n_columns = forward.shape
    distance = np.full(n_rows + n_columns, np.inf)
    previous = np.full(n_rows + n_columns, -1)
    settled = np.zeros(n_rows + n_columns, dtype=bool)
    distance[source] = 0.0
    while not settled[target]:
        open_distance = np.where(settled, np.inf, distance)
        node = int(np.argmin(open_distance))
        if not np.isfinite(open_distance[node]):
            return np.inf, []
        settled[node] = True
        if node < n_rows:
            neighbours = n_rows + np.arange(n_columns)
            reached = distance[node] + forward[node, :]
        else:
            neighbours = np.arange(n_rows)
            reached = distance[node] + backward[:, node - n_rows]
        better = (reached < distance[neighbours]) & ~settled[neighbours]
        distance[neighbours[better]] = reached[better]
        previous[neighbours[better]] = node
    nodes = [target]
    while nodes[-1] != source:
        nodes.append(int(previous[nodes[-1]]))
    nodes.reverse()
    cells = [
        (start, end - n_rows) if start < n_rows else (end, start - n_rows)
        for start, end in zip(nodes[:-1], nodes[1:], strict=True)
    ]
    return float(distance[target]), cells
