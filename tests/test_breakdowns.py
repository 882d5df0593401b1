"""The four disclosure-controlled breakdown marts on a warehouse built from a generated sample.

The sample's exports go through the real ingestion path (readers, suites, row rules) into a
throwaway warehouse, without Dagster or the catalogue, and one `dbt build` makes the KPI
values and the breakdowns. The tests only read what that left behind: the totals must be the
published indicators' counts, no published count may be small, and no withheld count may be
recoverable from what is published (audited by `disclosure.feasible_ranges`), nor from what
the mart and fct_kpi_values publish together (a linear program of the same kind, with the sums
fct_kpi_values prints as further equations).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from test_dbt_project import DBT_PROJECT_DIR, run_dbt

from disclosure import THRESHOLD, feasible_ranges, suppress_frame
from disclosure.wide import wide_table
from expectations.row_rules import broken_row_rules
from ingestion.common.ingest import ingest_exports
from ingestion.common.landing import survey_landing_zone
from ingestion.common.loader import ensure_ops_schema
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.schema import ensure_raw_schema
from ingestion.registry import DATASETS_BY_SYSTEM, FILE_CONTRACTS
from sampledata.generate import GeneratorConfig, generate

WARDS = ["131016", "131032"]
YEARS = [2024, 2025]
# Big enough for unsuppressed totals, small enough for many small cells.
STAFF_RANGE = (150, 300)
LOADED_AT = datetime(2026, 6, 1, 9, 0)
TOTAL = "計"


@dataclass(frozen=True)
class Breakdown:
    """A published breakdown: its row label, counts (interior columns, then the row total)."""

    mart: str
    label: str
    interior: tuple[str, ...]
    row_total: str
    indicator_id: str
    ratio: str | None = None
    ratio_part: str | None = None

    @property
    def counts(self) -> list[str]:
        return [*self.interior, self.row_total]


TRAINING_BY_GRADE = Breakdown(
    "mart_training_completion_by_grade",
    "grade",
    ("completed", "not_completed"),
    "staff",
    "m1_ksi_basic_training_completion",
    "completion_rate",
    "completed",
)
TRAINING_BY_DEPARTMENT = Breakdown(
    "mart_training_completion_by_department",
    "department_code",
    ("completed", "not_completed"),
    "staff",
    "m1_ksi_basic_training_completion",
    "completion_rate",
    "completed",
)
SKILL_LEVELS = Breakdown(
    "mart_skill_levels_by_item",
    "skill_item",
    ("level_1", "level_2", "level_3", "level_4"),
    "assessed",
    "m2_kpi_skill_map_registration",
)
SATISFACTION_BY_GRADE = Breakdown(
    "mart_staff_satisfaction_by_grade",
    "grade_class",
    ("satisfied", "not_satisfied"),
    "respondents",
    "m1_kgi_staff_digital_satisfaction",
    "satisfied_share",
    "satisfied",
)
BREAKDOWNS = [TRAINING_BY_GRADE, TRAINING_BY_DEPARTMENT, SKILL_LEVELS, SATISFACTION_BY_GRADE]
# The breakdowns whose 計 row holds the indicator's numerator (ratio_part) and denominator
# (row_total).
TOTALS_OF_INDICATORS = [TRAINING_BY_GRADE, TRAINING_BY_DEPARTMENT, SATISFACTION_BY_GRADE]


@dataclass(frozen=True)
class Accepted:
    """A suite outcome that passes: the suites have their own tests, and skipping them here
    saves most of the load's time."""

    success: bool = True
    warnings: tuple[object, ...] = ()

    def describe(self, source_file: str) -> str:
        return f"{source_file}: not validated"


def accept_every_export(dataset: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, Accepted]:
    return dict.fromkeys(frames, Accepted())


def load_landing_zone(landing: Path, warehouse: Path) -> None:
    """Every export of the landing zone into the raw tables, as the landing assets load them
    (readers, row rules, pseudonyms), the Great Expectations suites aside."""
    survey = survey_landing_zone(landing, DATASETS_BY_SYSTEM, WARDS, settle_seconds=0)
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con)
        ensure_ops_schema(con)
        for contract in FILE_CONTRACTS.values():
            ingest_exports(
                con,
                survey.exports_of(contract.system, contract.dataset),
                contract,
                accept_every_export,
                Pseudonymiser.from_environment(),
                LOADED_AT,
                row_rules=broken_row_rules,
            )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated sample, loaded and built up to fct_kpi_values and the breakdowns."""
    data = tmp_path_factory.mktemp("breakdowns")
    generate(GeneratorConfig(data, WARDS, STAFF_RANGE, YEARS, seed=23, dirty_share=0.01))
    path = data / "warehouse.duckdb"
    load_landing_zone(data / "landing", path)
    run_dbt(
        [
            "build",
            "--select",
            "+fct_kpi_values",
            "+path:models/marts/breakdowns",
            "path:models/intermediate/breakdowns",
            # The data tests of the breakdowns only (selected by their path), not of the
            # models upstream: the other tests of the project hold those.
            "--indirect-selection",
            "empty",
            "--exclude-resource-type",
            "unit_test",
        ],
        path,
        data,
    )
    return path


@pytest.fixture(scope="module")
def marts(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {b.mart: con.sql(f"select * from marts.{b.mart}").df() for b in BREAKDOWNS}
        tables["fct_kpi_values"] = con.sql("select * from marts.fct_kpi_values").df()
    return tables


def indicator_counts(marts: dict[str, pd.DataFrame], indicator_id: str) -> pd.DataFrame:
    """The indicator's value, numerator and denominator by ward and fiscal year."""
    values = marts["fct_kpi_values"]
    return values[values["indicator_id"] == indicator_id].set_index(["ward_code", "fiscal_year"])


def table_of(rows: pd.DataFrame, breakdown: Breakdown) -> np.ndarray:
    """One ward x fiscal year as the (R+1) x (C+1) table with margins, NaN where withheld."""
    ordered = pd.concat([rows[~rows["is_total"]], rows[rows["is_total"]]])
    return ordered[breakdown.counts].astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def ranges_with_public_sums(
    values: np.ndarray,
    suppressed: np.ndarray,
    public_sums: list[tuple[list[tuple[int, int]], float]],
) -> dict[tuple[int, int], tuple[float, float]]:
    """`disclosure.feasible_ranges` with more equations an intruder knows: each public sum
    says that its cells add up to its value (e.g. the staff of the grades 係長級 and above)."""
    unknowns = [(int(i), int(j)) for i, j in np.argwhere(suppressed)]
    position = {cell: k for k, cell in enumerate(unknowns)}
    n_rows, n_columns = values.shape
    equations = [
        [((i, j), -1.0 if j == n_columns - 1 else 1.0) for j in range(n_columns)]
        for i in range(n_rows)
    ] + [
        [((i, j), -1.0 if i == n_rows - 1 else 1.0) for i in range(n_rows)]
        for j in range(n_columns)
    ]
    equations += [
        [*((cell, 1.0) for cell in cells), (None, -total)] for cells, total in public_sums
    ]
    a_eq, b_eq = [], []
    for terms in equations:
        coefficients, known = np.zeros(len(unknowns)), 0.0
        for cell, sign in terms:
            if cell is None:
                known += sign
            elif cell in position:
                coefficients[position[cell]] += sign
            else:
                known += sign * values[cell]
        if coefficients.any():
            a_eq.append(coefficients)
            b_eq.append(-known)
    ranges = {}
    for k, cell in enumerate(unknowns):
        objective = np.zeros(len(unknowns))
        objective[k] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status in (0, 3), (cell, low.message, high.message)
        ranges[cell] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return ranges


def load_grade_mart() -> ModuleType:
    """The grade mart's dbt Python model as a module, to call it on hand-made cells."""
    path = (
        DBT_PROJECT_DIR / "models" / "marts" / "breakdowns" / "mart_training_completion_by_grade.py"
    )
    spec = importlib.util.spec_from_file_location("mart_training_completion_by_grade", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class StubRelation:
    frame: pd.DataFrame

    def df(self) -> pd.DataFrame:
        return self.frame


@dataclass(frozen=True)
class StubDbt:
    """What a dbt Python model sees of `dbt`: ref() of a relation with .df()."""

    frames: dict[str, pd.DataFrame]

    def ref(self, name: str) -> StubRelation:
        return StubRelation(self.frames[name])


# 部長級 (8 staff) is withheld. In the table of all grades its cheapest partner in the staff
# column is 主任 (25), a grade below 係長級; then the published number of staff at 係長級 and
# above (40 + 30 + 8) gives the 8 away.
GRADE_CELLS = [
    ("係員", 1, False, 60, 40),
    ("主任", 2, False, 15, 10),
    ("係長級", 3, True, 25, 15),
    ("課長級", 5, True, 20, 10),
    ("部長級", 6, True, 5, 3),
]


def grade_cells() -> pd.DataFrame:
    rows = [
        ("131032", 2024, grade, rank, plus, status, people)
        for grade, rank, plus, completed, not_completed in GRADE_CELLS
        for status, people in (("completed", completed), ("not_completed", not_completed))
    ]
    columns = [
        "ward_code",
        "fiscal_year",
        "grade",
        "grade_rank",
        "is_kakaricho_plus",
        "completion_status",
        "people",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"ward_code": "str", "fiscal_year": "int32", "grade_rank": "Int32"})


def grade_audit(table: pd.DataFrame, kakaricho_plus: set[str]) -> dict:
    """Ranges of the withheld cells of one grade table, knowing the staff at 係長級 and above."""
    values = table_of(table, TRAINING_BY_GRADE)
    interior = table[~table["is_total"]]
    staff_column = len(TRAINING_BY_GRADE.interior)
    plus_rows = [i for i, grade in enumerate(interior["grade"]) if grade in kakaricho_plus]
    kakaricho_staff = sum(c + n for grade, _, plus, c, n in GRADE_CELLS if plus)
    public_sums = [([(i, staff_column) for i in plus_rows], kakaricho_staff)]
    return ranges_with_public_sums(values, np.isnan(values), public_sums)


def test_grade_mart_protects_withheld_staff_against_the_published_kakaricho_count() -> None:
    # GIVEN a grade table whose plain suppression pairs 部長級's staff with 主任's
    mart = load_grade_mart()
    cells = grade_cells()
    kakaricho_plus = {grade for grade, _, plus, _, _ in GRADE_CELLS if plus}
    plain = suppress_frame(
        cells.drop(columns=["grade_rank", "is_kakaricho_plus"]),
        by=["ward_code", "fiscal_year"],
        row="grade",
        column="completion_status",
    )
    plain_table = wide_table(
        plain, mart.TABLE_KEYS, "grade", "completion_status", mart.COUNT_COLUMNS
    )
    pinned = [b for b in grade_audit(plain_table, kakaricho_plus).values() if b[1] - b[0] < 1]
    assert pinned, "the case no longer shows the risk: choose other counts"
    # WHEN the mart publishes it
    table = mart.model(StubDbt({"int_breakdown_training_completion_by_grade": cells}), None)
    # THEN no withheld count is pinned, knowing the number of staff at 係長級 and above
    ranges = grade_audit(table, kakaricho_plus)
    assert ranges and all(high - low >= 1 for low, high in ranges.values())
    assert table.loc[table["grade"] == "部長級", "staff"].isna().all()


def test_every_breakdown_has_tables_with_withheld_and_published_cells(
    marts: dict[str, pd.DataFrame],
) -> None:
    for breakdown in BREAKDOWNS:
        mart = marts[breakdown.mart]
        counts = mart[breakdown.counts]
        assert mart["is_total"].sum() == mart.groupby(["ward_code", "fiscal_year"]).ngroups > 0
        assert counts.isna().to_numpy().any(), breakdown.mart
        assert counts.notna().to_numpy().any(), breakdown.mart
        assert (mart.loc[mart["is_total"], breakdown.label] == TOTAL).all()


@pytest.mark.parametrize("breakdown", BREAKDOWNS, ids=lambda b: b.mart)
def test_breakdown_covers_the_fiscal_years_its_indicator_has_a_value_for(
    marts: dict[str, pd.DataFrame], breakdown: Breakdown
) -> None:
    indicator = indicator_counts(marts, breakdown.indicator_id)
    measured = set(indicator.index[indicator["value"].notna()])
    mart = marts[breakdown.mart]
    assert set(zip(mart["ward_code"], mart["fiscal_year"], strict=True)) == measured


@pytest.mark.parametrize("breakdown", TOTALS_OF_INDICATORS, ids=lambda b: b.mart)
def test_total_row_holds_the_indicators_numerator_and_denominator(
    marts: dict[str, pd.DataFrame], breakdown: Breakdown
) -> None:
    indicator = indicator_counts(marts, breakdown.indicator_id)
    mart = marts[breakdown.mart]
    totals = mart[mart["is_total"]].set_index(["ward_code", "fiscal_year"])
    # public already (fct_kpi_values): never withheld, whatever their size
    assert len(totals) > 0 and not totals["is_suppressed"].any()
    for key, total in totals.iterrows():
        assert total[breakdown.row_total] == indicator.loc[key, "denominator"], key
        assert total[breakdown.ratio_part] == indicator.loc[key, "numerator"], key
        assert total[breakdown.ratio] == pytest.approx(indicator.loc[key, "value"]), key


def test_no_skill_item_counts_more_staff_than_the_skill_map_registered(
    marts: dict[str, pd.DataFrame],
) -> None:
    registered = indicator_counts(marts, SKILL_LEVELS.indicator_id)["numerator"]
    mart = marts[SKILL_LEVELS.mart]
    items = mart[~mart["is_total"] & mart["assessed"].notna()]
    assert len(items) > 0
    for (ward_code, fiscal_year), assessed in items.groupby(["ward_code", "fiscal_year"]):
        assert assessed["assessed"].max() <= registered.loc[(ward_code, fiscal_year)]


@pytest.mark.parametrize("breakdown", BREAKDOWNS, ids=lambda b: b.mart)
def test_no_published_count_is_under_the_threshold(
    marts: dict[str, pd.DataFrame], breakdown: Breakdown
) -> None:
    mart = marts[breakdown.mart]
    if breakdown in TOTALS_OF_INDICATORS:  # the 計 row is the indicator's, published anyway
        mart = mart[~mart["is_total"]]
    counts = mart[breakdown.counts].to_numpy(dtype=float, na_value=np.nan)
    published = counts[~np.isnan(counts)]
    assert (published >= THRESHOLD).all()


@pytest.mark.parametrize("breakdown", BREAKDOWNS, ids=lambda b: b.mart)
def test_rows_add_up_and_say_when_they_are_suppressed(
    marts: dict[str, pd.DataFrame], breakdown: Breakdown
) -> None:
    mart = marts[breakdown.mart]
    withheld = mart[breakdown.counts].isna()
    assert (mart["is_suppressed"] == withheld.any(axis=1)).all()
    complete = mart[~withheld.any(axis=1)]
    interior_sum = complete[list(breakdown.interior)].sum(axis=1)
    assert (interior_sum == complete[breakdown.row_total]).all()


@pytest.mark.parametrize("breakdown", TOTALS_OF_INDICATORS, ids=lambda b: b.mart)
def test_ratio_is_null_exactly_where_one_of_its_counts_is(
    marts: dict[str, pd.DataFrame], breakdown: Breakdown
) -> None:
    mart = marts[breakdown.mart]
    counts_withheld = mart[[breakdown.ratio_part, breakdown.row_total]].isna().any(axis=1)
    assert (mart[breakdown.ratio].isna() == counts_withheld).all()
    shown = mart[~counts_withheld]
    expected = 100 * shown[breakdown.ratio_part] / shown[breakdown.row_total]
    assert np.allclose(shown[breakdown.ratio].astype(float), expected.astype(float))


@pytest.mark.parametrize("breakdown", BREAKDOWNS, ids=lambda b: b.mart)
def test_no_withheld_count_can_be_worked_out_from_the_published_table(
    marts: dict[str, pd.DataFrame], breakdown: Breakdown
) -> None:
    """The intruder's best inference (linear programming over the published cells and the
    totals) leaves every withheld cell at least two whole-number values."""
    audited = 0
    for key, rows in marts[breakdown.mart].groupby(["ward_code", "fiscal_year"]):
        values = table_of(rows, breakdown)
        ranges = feasible_ranges(values, np.isnan(values))
        narrow = {cell: bounds for cell, bounds in ranges.items() if bounds[1] - bounds[0] < 1}
        if breakdown in TOTALS_OF_INDICATORS:
            # a cell the public 計 row alone fixes (a table of one grade) cannot be protected
            narrow = {cell: b for cell, b in narrow.items() if cell not in fixed_by_total(values)}
        assert not narrow, (key, narrow)
        audited += len(ranges)
    assert audited > 0


def fixed_by_total(values: np.ndarray) -> set[tuple[int, int]]:
    """The cells of a table that its total row alone determines, whatever else is withheld."""
    hidden = np.ones(values.shape, dtype=bool)
    hidden[-1, :] = False
    ranges = feasible_ranges(np.where(hidden, np.nan, values), hidden)
    return {cell for cell, (low, high) in ranges.items() if high - low < 1}


@pytest.mark.parametrize("breakdown", TOTALS_OF_INDICATORS, ids=lambda b: b.mart)
def test_no_withheld_count_can_be_worked_out_with_what_fct_kpi_values_publishes(
    marts: dict[str, pd.DataFrame], warehouse: Path, breakdown: Breakdown
) -> None:
    """The 計 row is the indicator's numerator and denominator, published in fct_kpi_values
    whatever the mart withholds; for the grades, so is the number of staff at 係長級 and above
    (the denominator of m2_ksi_certified_dx_leader_ratio)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kakaricho_plus = {
            grade
            for (grade,) in con.execute(
                "select grade from reference.grade_levels where is_kakaricho_plus"
            ).fetchall()
        }
    indicator = indicator_counts(marts, breakdown.indicator_id)
    leaders = indicator_counts(marts, "m2_ksi_certified_dx_leader_ratio")
    audited = 0
    for key, rows in marts[breakdown.mart].groupby(["ward_code", "fiscal_year"]):
        values = table_of(rows, breakdown)
        numerator, denominator = indicator.loc[key, ["numerator", "denominator"]]
        values[-1, :] = [numerator, denominator - numerator, denominator]
        public_sums = []
        if breakdown is TRAINING_BY_GRADE:
            labels = list(rows.loc[~rows["is_total"], breakdown.label])
            plus_rows = [i for i, label in enumerate(labels) if label in kakaricho_plus]
            staff = [(i, len(breakdown.interior)) for i in plus_rows]
            public_sums.append((staff, leaders.loc[key, "denominator"]))
        ranges = ranges_with_public_sums(values, np.isnan(values), public_sums)
        narrow = {cell: bounds for cell, bounds in ranges.items() if bounds[1] - bounds[0] < 1}
        assert not narrow, (key, narrow)
        audited += len(ranges)
    assert audited > 0


@pytest.mark.parametrize("breakdown", BREAKDOWNS, ids=lambda b: b.mart)
def test_mart_has_its_column_types_and_a_comment_on_every_column(
    warehouse: Path, breakdown: Breakdown
) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (table_comment,) = con.execute(
            "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ?",
            [breakdown.mart],
        ).fetchone()
        columns = con.execute(
            "select column_name, data_type, comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = ?",
            [breakdown.mart],
        ).fetchall()
    assert "10" in table_comment and "計" in table_comment
    types = {name: data_type for name, data_type, _ in columns}
    assert {types[name] for name in breakdown.counts} == {"BIGINT"}
    assert (types["ward_code"], types["fiscal_year"], types[breakdown.label]) == (
        "VARCHAR",
        "INTEGER",
        "VARCHAR",
    )
    assert types["is_total"] == types["is_suppressed"] == "BOOLEAN"
    if breakdown.ratio:
        assert types[breakdown.ratio] == "DOUBLE"
    assert [name for name, _, comment in columns if not comment] == []
