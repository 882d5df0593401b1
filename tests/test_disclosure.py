"""Small-cell suppression: primary cells, complementary cells, the LP audit, the frame helper."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from disclosure import (
    THRESHOLD,
    SuppressedTable,
    feasible_ranges,
    suppress,
    suppress_frame,
)
from disclosure.audit import movable_cells
from disclosure.suppression import complete_lines, suppression_costs
from disclosure.tables import with_margins


def assert_protected(table: SuppressedTable) -> None:
    """Every small cell is withheld and the LP cannot narrow any withheld cell below width 1."""
    assert np.array_equal(table.primary, table.values < THRESHOLD)
    assert not np.any(table.primary & ~table.suppressed)
    hidden = np.where(table.suppressed, np.nan, table.values)
    ranges = feasible_ranges(hidden, table.suppressed)
    assert set(ranges) == {(int(i), int(j)) for i, j in np.argwhere(table.suppressed)}
    narrow = {cell: bounds for cell, bounds in ranges.items() if bounds[1] - bounds[0] < 1 - 1e-6}
    assert narrow == {}


def random_counts(rng: np.random.Generator, shape: tuple[int, int], small: float) -> np.ndarray:
    """Counts of which a share ``small`` is under the threshold (zeros included)."""
    is_small = rng.random(shape) < small
    return np.where(is_small, rng.integers(0, THRESHOLD, shape), rng.integers(THRESHOLD, 80, shape))


def lines_with_one_suppressed(suppressed: np.ndarray) -> int:
    return int(np.sum(suppressed.sum(axis=0) == 1) + np.sum(suppressed.sum(axis=1) == 1))


# --- the table and its primary cells -------------------------------------------------------


def test_values_carry_the_margins_and_small_margins_are_primary() -> None:
    table = suppress(np.array([[2, 3], [40, 50]]))

    assert table.values.tolist() == [[2, 3, 5], [40, 50, 90], [42, 53, 95]]
    assert table.primary.tolist() == [[True, True, True], [False] * 3, [False] * 3]
    assert_protected(table)


def test_a_table_without_small_cells_suppresses_nothing() -> None:
    table = suppress(np.array([[10, 25, 40], [11, 12, 99]]))

    assert not table.suppressed.any()
    assert not table.primary.any()


@pytest.mark.parametrize(
    "counts",
    [
        pytest.param([[1, -2]], id="negative"),
        pytest.param([[1.5, 20]], id="fractional"),
        pytest.param([1, 2, 3], id="one-dimensional"),
        pytest.param(np.zeros((0, 3)), id="empty"),
        pytest.param([[np.nan, 20]], id="missing"),
    ],
)
def test_suppress_rejects_what_is_not_a_table_of_counts(counts: object) -> None:
    with pytest.raises(ValueError):
        suppress(np.asarray(counts))


# --- the LP audit --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_the_cycle_search_finds_the_cells_the_linear_programs_cannot_pin(seed: int) -> None:
    # GIVEN random tables of counts (zeros and ones included) and random withheld cells
    rng = np.random.default_rng(seed)
    for _ in range(25):
        shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        values = with_margins(rng.integers(0, 4, shape) * rng.integers(0, 2, shape))
        suppressed = rng.random(values.shape) < rng.uniform(0.2, 0.7)
        if not suppressed.any():
            continue
        # WHEN the network says which cells move by 1
        movable = movable_cells(values, suppressed, suppressed)
        # THEN they are the cells whose interval, by linear programming, is 1 wide or more
        ranges = feasible_ranges(np.where(suppressed, np.nan, values), suppressed)
        wide = {cell for cell, (low, high) in ranges.items() if high - low >= 1 - 1e-6}
        assert {(int(i), int(j)) for i, j in np.argwhere(movable)} == wide


def test_feasible_ranges_recovers_a_lone_suppressed_interior_cell_exactly() -> None:
    # GIVEN a table in which only one interior cell is withheld (and its value hidden)
    values = suppress(np.array([[4, 30, 20], [50, 60, 70]])).values.astype(float)
    suppressed = np.zeros(values.shape, dtype=bool)
    suppressed[0, 0] = True
    values[0, 0] = np.nan

    # WHEN the intruder solves the linear programs THEN the cell is known exactly
    assert feasible_ranges(values, suppressed) == {(0, 0): (4.0, 4.0)}


def test_feasible_ranges_of_a_withheld_rectangle() -> None:
    # Moving the rectangle by d keeps all totals: x00 = 3 + d, x01 = 5 - d, x10 = 4 - d,
    # x11 = 6 + d, with -3 <= d <= 4 for all four to stay >= 0.
    values = suppress(np.array([[3, 5, 20], [4, 6, 30], [40, 50, 60]])).values
    suppressed = np.zeros(values.shape, dtype=bool)
    suppressed[:2, :2] = True

    assert feasible_ranges(values, suppressed) == {
        (0, 0): (0.0, 7.0),
        (0, 1): (1.0, 8.0),
        (1, 0): (0.0, 7.0),
        (1, 1): (3.0, 10.0),
    }


def test_feasible_ranges_reports_an_unbounded_cell_as_infinite() -> None:
    values = suppress(np.array([[1, 2], [3, 0]])).values
    suppressed = np.ones(values.shape, dtype=bool)

    ranges = feasible_ranges(values, suppressed)

    assert all(low == 0.0 and high == math.inf for low, high in ranges.values())


def test_feasible_ranges_rejects_published_cells_that_contradict_the_totals() -> None:
    values = suppress(np.array([[4, 30], [50, 60]])).values
    values[1, 1] += 1
    suppressed = np.zeros(values.shape, dtype=bool)
    suppressed[0, 0] = True

    with pytest.raises(ValueError, match="contradict"):
        feasible_ranges(values, suppressed)


# --- complementary suppression -------------------------------------------------------------

ZEROS_PINNED_BY_THEIR_ROW = np.array([[0, 0, 30], [5, 5, 30], [40, 40, 40]])
# Two withheld rectangles joined by one withheld cell (1, 2): every line holds two or three
# withheld cells, yet the joining cell is fixed by the equations.
BRIDGE = np.array(
    [
        [3, 4, 40, 50, 60],
        [5, 6, 7, 55, 65],
        [45, 35, 2, 8, 70],
        [30, 20, 9, 1, 80],
        [90, 85, 75, 66, 44],
    ]
)


@pytest.mark.parametrize(
    "counts",
    [
        pytest.param(ZEROS_PINNED_BY_THEIR_ROW, id="zeros-pinned-by-their-row-total"),
        pytest.param(BRIDGE, id="cell-joining-two-rectangles"),
    ],
)
def test_two_suppressions_per_line_is_not_enough_and_suppress_fixes_it(counts: np.ndarray) -> None:
    # GIVEN a table whose small cells already leave no line with a single withheld cell
    table = suppress(counts)
    assert lines_with_one_suppressed(table.primary) == 0

    # WHEN only the small cells are withheld THEN the LP recovers one of them exactly
    naive = feasible_ranges(table.values, table.primary)
    assert any(low == high for low, high in naive.values())

    # AND suppress withholds more, until no cell can be recovered
    assert table.suppressed.sum() > table.primary.sum()
    assert_protected(table)


def test_complementary_cells_are_the_cheapest_interior_cells() -> None:
    # One small cell: the cheapest rectangle through it, without any margin, is 3-12-15-90
    # (3-12-40-70 withholds more people; any pattern through a total withholds a total).
    table = suppress(np.array([[3, 50, 12], [40, 60, 70], [15, 80, 90]]))

    assert np.argwhere(table.suppressed).tolist() == [[0, 0], [0, 2], [2, 0], [2, 2]]
    assert_protected(table)


def test_structural_pass_gives_each_lonely_line_its_cheapest_partner() -> None:
    # GIVEN one small cell; its row and column each need a partner, and so does each partner
    values = with_margins(np.array([[3, 50, 12], [40, 60, 70], [15, 80, 90]]))
    primary = values < THRESHOLD

    # WHEN the structural pass runs (no LP) THEN it closes the cheapest interior rectangle
    completed = complete_lines(suppression_costs(values), primary)

    assert np.argwhere(completed).tolist() == [[0, 0], [0, 2], [2, 0], [2, 2]]
    assert not np.any(primary & ~completed)


def test_cells_the_audit_clears_get_no_extra_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a table whose structural pass already yields a safe pattern
    def no_cycle(*args: object) -> None:
        raise AssertionError("a protecting cycle was added although the audit passed")

    monkeypatch.setattr("disclosure.suppression.protecting_cycle", no_cycle)

    # WHEN suppressing THEN the LP audit clears every cell and nothing is added
    table = suppress(np.array([[3, 50, 12], [40, 60, 70], [15, 80, 90]]))

    assert table.suppressed.sum() == 4


def test_a_lonely_small_margin_gets_partners_in_its_lines() -> None:
    # Row 0 totals 9 from three published cells of 3: the total and its row need partners.
    table = suppress(np.array([[3, 3, 3], [20, 30, 40], [25, 35, 45]]))

    assert table.primary[0, 3]
    assert lines_with_one_suppressed(table.suppressed) == 0
    assert_protected(table)


SHAPES = [(1, 1), (1, 6), (6, 1), (2, 2), (3, 3), (6, 2), (30, 2), (22, 4), (40, 4)]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("shape", [pytest.param(s, id=f"{s[0]}x{s[1]}") for s in SHAPES])
def test_random_tables_with_many_small_cells_are_protected(
    seed: int, shape: tuple[int, int]
) -> None:
    rng = np.random.default_rng([seed, *shape])
    for small in (0.3, 0.7):
        assert_protected(suppress(random_counts(rng, shape, small)))


@pytest.mark.parametrize(
    ("counts", "everything"),
    [
        pytest.param([[7]], True, id="1x1-small"),
        pytest.param([[12]], False, id="1x1-large"),
        pytest.param([[0, 0, 0], [0, 0, 0]], True, id="all-zero"),
        pytest.param([[1, 2], [3, 2]], True, id="grand-total-under-10"),
        pytest.param([[9, 9], [9, 9]], False, id="all-interior-small"),
        pytest.param([[0, 40, 50, 60]], False, id="1xC-one-zero"),
        pytest.param([[3], [40], [50]], False, id="Rx1-one-small"),
        pytest.param([[5, 5, 5, 60]], False, id="1xC-small-row-cells"),
        pytest.param([[0, 0, 50]], False, id="1xC-two-zeros"),
    ],
)
def test_edge_shapes_are_protected(counts: list[list[int]], everything: bool) -> None:
    table = suppress(np.array(counts))

    assert_protected(table)
    assert table.suppressed.all() == everything
    assert table.suppressed.any() == table.primary.any()


# --- suppress_frame ------------------------------------------------------------------------

GRADES = ["主事", "主任", "係長"]
STATUSES = ["completed", "not_completed"]


def training_frame() -> pd.DataFrame:
    """Two wards x one year; ward 131024 has no 係長 row and no 主任 x not_completed row."""
    records = [
        ("131016", 2024, "主事", "completed", 40),
        ("131016", 2024, "主事", "not_completed", 3),
        ("131016", 2024, "主任", "completed", 25),
        ("131016", 2024, "主任", "not_completed", 12),
        ("131016", 2024, "係長", "completed", 30),
        ("131016", 2024, "係長", "not_completed", 20),
        ("131024", 2024, "主事", "completed", 15),
        ("131024", 2024, "主事", "not_completed", 2),
        ("131024", 2024, "主任", "completed", 22),
    ]
    frame = pd.DataFrame(records, columns=["ward_code", "fiscal_year", "grade", "status", "people"])
    return frame.astype({"fiscal_year": "int32"})


def test_suppress_frame_suppresses_each_group_and_adds_margins() -> None:
    frame = training_frame()

    result = suppress_frame(
        frame, ["ward_code", "fiscal_year"], "grade", "status",
        row_order=GRADES, column_order=STATUSES,
    )  # fmt: skip

    assert list(result.columns) == [
        "ward_code", "fiscal_year", "grade", "status", "people", "is_suppressed", "is_primary",
    ]  # fmt: skip
    assert result["ward_code"].dtype == frame["ward_code"].dtype
    assert result["fiscal_year"].dtype == np.dtype("int32")
    assert result["grade"].dtype == frame["grade"].dtype
    assert result["people"].dtype == pd.Int64Dtype()
    first = result[result["ward_code"] == "131016"]
    second = result[result["ward_code"] == "131024"]
    assert first["grade"].tolist() == [g for g in [*GRADES, "計"] for _ in range(3)]
    assert first["status"].tolist() == [*STATUSES, "計"] * 4
    # The absent grade is left out; the absent combination is a zero, withheld.
    assert second["grade"].tolist() == [g for g in ["主事", "主任", "計"] for _ in range(3)]
    expected = suppress(np.array([[15, 2], [22, 0]]))
    assert second["is_primary"].tolist() == expected.primary.ravel().tolist()
    assert second["is_suppressed"].tolist() == expected.suppressed.ravel().tolist()
    assert second["people"].isna().tolist() == expected.suppressed.ravel().tolist()
    published = ~second["is_suppressed"]
    assert second["people"][published].tolist() == expected.values.ravel()[published].tolist()
    assert first.loc[first["grade"].eq("計") & first["status"].eq("計"), "people"].item() == 130


def test_suppress_frame_keeps_a_category_absent_from_a_group() -> None:
    # Nobody in ward 131024 is not_completed: the column stays, as protected zeros.
    frame = training_frame()
    frame = frame[~((frame["ward_code"] == "131024") & (frame["status"] == "not_completed"))]

    result = suppress_frame(frame, "ward_code", "grade", "status", row_order=GRADES)

    cells = result[(result["ward_code"] == "131024") & (result["status"] == "not_completed")]
    assert cells["grade"].tolist() == ["主事", "主任", "計"]
    assert cells["is_primary"].all()
    assert cells["people"].isna().all()


def test_suppress_frame_takes_integer_labels_and_sorts_them() -> None:
    frame = pd.DataFrame(
        {
            "ward": ["a"] * 4,
            "level": [3, 1, 3, 1],
            "item": [20, 20, 10, 10],
            "people": [30, 40, 5, 60],
        }
    )

    result = suppress_frame(frame, "ward", "level", "item", total_label="total")

    assert result["level"].tolist() == [1, 1, 1, 3, 3, 3, "total", "total", "total"]
    assert result["item"].tolist() == [10, 20, "total"] * 3
    assert result.loc[result["is_primary"], ["level", "item"]].values.tolist() == [[3, 10]]
    assert result["is_suppressed"].sum() == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda f: pd.concat([f, f.head(1)]), "more than one row", id="duplicate"),
        pytest.param(
            lambda f: f.assign(people=f["people"].astype("Int64").where(f.index > 0)),
            "missing counts",
            id="missing-count",
        ),  # fmt: skip
        pytest.param(
            lambda f: f.replace({"grade": {"係長": "課長"}}), "not in its order", id="unknown-row"
        ),  # fmt: skip
        pytest.param(lambda f: f.drop(columns="people"), "lacks column", id="no-count-column"),
    ],
)
def test_suppress_frame_rejects_bad_frames(change: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        suppress_frame(change(training_frame()), "ward_code", "grade", "status", row_order=GRADES)


def test_suppress_frame_of_an_empty_frame_is_empty() -> None:
    frame = training_frame().head(0)

    result = suppress_frame(frame, ["ward_code", "fiscal_year"], "grade", "status")

    assert result.empty
    assert list(result.columns)[:2] == ["ward_code", "fiscal_year"]
    assert result["people"].dtype == pd.Int64Dtype()


def test_forced_cells_are_withheld_and_protected() -> None:
    # a table with no small cell; another table withholds its first column total
    counts = np.array([[40, 50], [60, 70]])
    forced = np.zeros((3, 3), dtype=bool)
    forced[2, 0] = True
    table = suppress(counts, forced=forced)
    assert table.suppressed[2, 0] and not table.primary.any()
    ranges = feasible_ranges(table.values.astype(float), table.suppressed)
    assert all(hi - lo >= 1 for lo, hi in ranges.values())


def test_suppress_frame_withholds_forced_cells_of_a_group() -> None:
    frame = pd.DataFrame(
        {
            "ward": ["a", "a", "b", "b"],
            "status": ["completed", "not"] * 2,
            "grade": "g1",
            "people": [40, 60, 40, 60],
        }
    )
    forced = pd.DataFrame({"ward": ["b"], "grade": ["計"], "status": ["completed"]})
    result = suppress_frame(frame, "ward", "grade", "status", forced=forced)
    withheld = result[result["is_suppressed"]]
    assert set(withheld["ward"]) == {"b"} and not result["is_primary"].any()
    assert ("計", "completed") in set(zip(withheld["grade"], withheld["status"], strict=True))


def public_total_row(counts: np.ndarray) -> np.ndarray:
    public = np.zeros((counts.shape[0] + 1, counts.shape[1] + 1), dtype=bool)
    public[-1, :] = True
    return public


def test_a_public_total_row_is_never_withheld_and_the_audit_knows_it() -> None:
    # GIVEN grade x (completed, not) whose totals (175 completed of 182) an indicator already
    # publishes: the "not" total of 7 is small, but withholding it would hide nothing
    counts = np.array([[95, 3], [80, 4]])
    public = public_total_row(counts)
    alone = suppress(counts)
    assert alone.suppressed[-1, 1]
    # WHEN the table is protected knowing that row is public
    table = suppress(counts, public=public)
    # THEN the row stays published, and every withheld cell keeps a range with it known
    assert not table.suppressed[-1].any() and not table.unprotectable.any()
    assert table.suppressed[0, 1] and table.suppressed[1, 1]
    ranges = feasible_ranges(table.values.astype(float), table.suppressed)
    assert ranges and all(hi - lo >= 1 for lo, hi in ranges.values())


def test_a_cell_the_public_cells_fix_is_reported_unprotectable() -> None:
    # one grade only: its row is the public total row, so its 3 is known whatever happens
    counts = np.array([[95, 3]])
    table = suppress(counts, public=public_total_row(counts))
    assert table.suppressed[0, 1] and table.unprotectable[0, 1]
    assert not table.suppressed[-1].any()


@pytest.mark.parametrize("seed", range(3))
def test_random_tables_with_a_public_total_row_are_protected(seed: int) -> None:
    generator = np.random.default_rng(seed)
    for shape in [(2, 2), (6, 2), (22, 4), (30, 2)]:
        counts = generator.integers(0, 40, size=shape)
        counts[generator.random(shape) < 0.5] = generator.integers(0, 10)
        public = public_total_row(counts)
        table = suppress(counts, public=public)
        assert not (table.suppressed & public).any()
        assert (table.suppressed | public)[table.values < THRESHOLD].all()
        ranges = feasible_ranges(table.values.astype(float), table.suppressed)
        for (row, column), (lo, hi) in ranges.items():
            assert hi - lo >= 1 or table.unprotectable[row, column], (shape, row, column)


def test_suppress_frame_keeps_a_public_total_row() -> None:
    frame = pd.DataFrame(
        {
            "ward": "a",
            "grade": ["g1", "g1", "g2", "g2"],
            "status": ["completed", "not"] * 2,
            "people": [95, 3, 80, 4],
        }
    )
    result = suppress_frame(frame, "ward", "grade", "status", public_total_row=True)
    total = result[result["grade"] == "計"]
    assert not total["is_suppressed"].any() and total["people"].tolist() == [175, 7, 182]


def test_suppression_runs_without_importing_scipy() -> None:
    # SciPy costs about a second to import in every dbt build; only the LP audit needs it.
    script = (
        "import sys, numpy as np\n"
        "from disclosure import suppress\n"
        "table = suppress(np.array([[2, 30, 40], [35, 1, 50], [44, 52, 3]]))\n"
        "assert table.suppressed.sum() > 3\n"
        "print('scipy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
