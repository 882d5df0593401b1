"""The data-quality rules of every raw dataset, and the GX suites built from them.

Rules are declared here as plain data (`Rule`), so that this module, its value sets and the
check-digit function can be imported without Great Expectations (an import that costs seconds
and hundreds of MB). `build_suite` turns a dataset's rules into a GX 1.x `ExpectationSuite`
and is the only place that imports GX.

Severity: "error" rules block the load; "warning" rules are reported only. They map onto GX's
own `FailureSeverity` (critical / warning) so that the suite means the same thing on its own.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ingestion.common.landing import is_valid_ward_code
from ingestion.common.reference import load_grade_names
from ingestion.common.schema import DATASET_COLUMNS, LINEAGE_COLUMNS
from ingestion.registry import FILE_CONTRACTS

if TYPE_CHECKING:
    import great_expectations as gx

Severity = Literal["error", "warning"]

# --- Value sets (import these rather than repeating the literals) ---------------------------

# 職層: the grade names of the reference seed (dbt_project/seeds/grade_levels.csv), so that a
# ward's own grade name is added once, with its level, for the suite and the marts alike.
GRADES: tuple[str, ...] = load_grade_names()
EMPLOYMENT_TYPES: tuple[str, ...] = (
    "正規",
    "再任用",
    "任期付",
    "特定任期付",
    "会計年度任用(フルタイム)",
    "会計年度任用(パートタイム)",
)
COURSE_CATEGORIES: tuple[str, ...] = (
    "デジタル基礎",
    "ツール活用",
    "DX推進リーダー育成",
    "管理職向け",
    "その他",
)
COURSE_REQUIREMENTS: tuple[str, ...] = ("必修", "選択")
ENROLLMENT_STATUSES: tuple[str, ...] = ("申込", "受講中", "修了", "未修了", "欠席", "取消")
ENROLLMENT_STATUS_COMPLETED = "修了"
REVIEW_RESULTS: tuple[str, ...] = ("採用", "一部採用", "不採用", "審査中")
PACKAGE_STATES: tuple[str, ...] = ("active", "draft", "deleted")
SKILL_ITEM_REGEX = r"^S[0-9]{2}$"
SKILL_LEVEL_RANGE = (1, 4)
CONTRACT_TYPES: tuple[str, ...] = ("新規", "更新")
COUNTERPART_TYPES: tuple[str, ...] = ("民間企業", "国", "他自治体", "その他")
PROJECT_STATUSES: tuple[str, ...] = ("企画", "実施中", "完了", "中止")
PROJECT_STATUS_COMPLETED = "完了"
ADVICE_FLAGS: tuple[str, ...] = ("有", "無")
MEASUREMENT_TYPES: tuple[str, ...] = ("改善前", "改善後")
MIGRATION_STATUSES: tuple[str, ...] = ("未着手", "移行中", "移行完了")
MIGRATION_STATUS_COMPLETED = "移行完了"
# The standardised core business systems are fixed by law (sources.md): 20 per ward.
STANDARD_SYSTEM_COUNT = 20
SATISFACTION_RANGE = (1, 5)
MINUTES_PER_CASE_RANGE = (0, 100_000)
ANNUAL_CASES_RANGE = (0, 100_000_000)

# `[0-9]` rather than `\d`: Python's `\d` also matches full-width digits (１３１０１６), which
# ingestion must have normalised away before a frame reaches validation.
WARD_CODE_REGEX = r"^[0-9]{6}$"
ORGANIZATION_REGEX = r"^t[0-9]{6}$"

# A rule on one export's row count: judged per export, also when exports are validated together.
ROW_COUNT = "expect_table_row_count_to_be_between"
MIN_ROWS_PER_FILE = 1
MAX_ROWS_PER_FILE = 2_000_000
EARLIEST_HIRE_DATE = dt.datetime(1950, 1, 1)
# No programme record predates 2000 or follows 2100: such a date is a typo.
EARLIEST_SESSION_DATE = dt.datetime(2000, 1, 1)
LATEST_DATE = dt.datetime(2100, 1, 1)
FISCAL_YEAR_RANGE = (2000, 2100)
COURSE_HOURS_RANGE = (0, 1000)
SESSION_CAPACITY_RANGE = (0, 10_000)

# The pandas dtype family each warehouse type arrives as, spelled the way GX's
# expect_column_values_to_be_of_type compares on pandas: by the scalar type of the dtype, so
# "int64" accepts Int64 and "bool" accepts boolean ("Int64" and "boolean" never match there).
# "str" is pandas 3's default string dtype; "object" would fail on pandas 3.
GX_TYPE_OF_SQL_TYPE: dict[str, str] = {
    "varchar": "str",
    "date": "datetime64",
    "timestamp": "datetime64",
    "integer": "int64",
    "bigint": "int64",
    "double": "float64",
    "boolean": "bool",
}

_TYPE_FAMILY = {
    "str": "string",
    "datetime64": "datetime",
    "int64": "integer",
    "float64": "float",
    "bool": "boolean",
}


def ward_code_is_valid(code: object) -> bool:
    """Tell whether a value is a 6-digit local-government code with a valid check digit.

    Args:
        code: The value to test; anything but a string of six ASCII digits is invalid.

    Returns:
        True when `code` is six ASCII digits and its last digit is the check digit.
    """
    return isinstance(code, str) and is_valid_ward_code(code)


# --- Rules as data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, described without importing GX.

    Attributes:
        expectation: The GX expectation type in snake case.
        rule: A short human sentence, shown in failure messages.
        column: The column the rule is about (reported on failure), None for table rules.
        severity: "error" blocks the load, "warning" is reported only.
        kwargs: Further GX keyword arguments (value_set, min_value, column_A, ...).
        when: A row condition (column, value): the rule applies where column == value.
    """

    expectation: str
    rule: str
    column: str | None = None
    severity: Severity = "error"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    when: tuple[str, str] | None = None

    @property
    def is_row_count(self) -> bool:
        """A rule on the number of rows of one export (not meaningful on several at once)."""
        return self.expectation == ROW_COUNT

    def row_count_holds(self, rows: int) -> bool:
        """Whether an export of `rows` rows meets this row-count rule."""
        low, high = self.kwargs.get("min_value"), self.kwargs.get("max_value")
        return (low is None or rows >= low) and (high is None or rows <= high)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rule reads: it cannot be evaluated when one is missing."""
        names = [
            self.column,
            self.kwargs.get("column_A"),
            self.kwargs.get("column_B"),
            *self.kwargs.get("column_list", ()),
        ]
        if self.when:
            names.append(self.when[0])
        return tuple(dict.fromkeys(name for name in names if name))


def _fmt(value: object) -> str:
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return str(value)


def not_null(column: str, severity: Severity = "error") -> Rule:
    """Return a rule: the column has no missing values."""
    return Rule("expect_column_values_to_not_be_null", f"{column} not null", column, severity)


def unique(column: str, severity: Severity = "error") -> Rule:
    """Return a rule: the column's non-missing values are unique within the file.

    Compound with `source_file`, so the rule means the same on one export's frame and on a
    frame holding several exports (validated together, see `run_suite_per_file`).
    """
    kwargs = {"column_list": ["source_file", column], "ignore_row_if": "any_value_is_missing"}
    return Rule(
        "expect_compound_columns_to_be_unique",
        f"{column} unique in the file",
        column,
        severity,
        kwargs,
    )


def in_set(column: str, values: Iterable[str], severity: Severity = "error") -> Rule:
    """Return a rule: the column's non-missing values belong to a value set."""
    values = list(values)
    text = f"{column} in {{{', '.join(values)}}}"
    kwargs = {"value_set": values}
    return Rule("expect_column_values_to_be_in_set", text, column, severity, kwargs)


def between(column: str, low: Any = None, high: Any = None, severity: Severity = "error") -> Rule:
    """Return a rule: the column's non-missing values lie in [low, high] (either may be open)."""
    if high is None:
        text = f"{column} >= {_fmt(low)}"
    elif low is None:
        text = f"{column} <= {_fmt(high)}"
    else:
        text = f"{column} between {_fmt(low)} and {_fmt(high)}"
    kwargs = {"min_value": low, "max_value": high}
    return Rule("expect_column_values_to_be_between", text, column, severity, kwargs)


def matches(column: str, regex: str, severity: Severity = "error") -> Rule:
    """Return a rule: the column's non-missing values match a regular expression."""
    kwargs = {"regex": regex}
    text = f"{column} matches {regex}"
    return Rule("expect_column_values_to_match_regex", text, column, severity, kwargs)


def _pair_ordered(greater: str, lesser: str, column: str, text: str, severity: Severity) -> Rule:
    """A rule: `greater` >= `lesser` on every row where both are present, reported on `column`."""
    kwargs = {
        "column_A": greater,
        "column_B": lesser,
        "or_equal": True,
        "ignore_row_if": "either_value_is_missing",
    }
    return Rule("expect_column_pair_values_a_to_be_greater_than_b", text, column, severity, kwargs)


def not_after(column: str, other: str, severity: Severity = "error") -> Rule:
    """Return a rule: column <= other on every row where both are present."""
    return _pair_ordered(other, column, column, f"{column} <= {other}", severity)


def not_before(column: str, other: str, severity: Severity = "error") -> Rule:
    """Return a rule: column >= other on every row where both are present."""
    return _pair_ordered(column, other, column, f"{column} >= {other}", severity)


def valid_ward_code(column: str = "ward_code", severity: Severity = "error") -> Rule:
    """Return a rule: the column's non-missing values carry a valid check digit."""
    return Rule(
        "expect_column_values_to_be_valid_ward_code",
        f"{column} has a valid check digit",
        column,
        severity,
    )


def of_type(column: str, sql_type: str) -> Rule:
    """Return a rule: the column's pandas dtype fits its warehouse type."""
    gx_type = GX_TYPE_OF_SQL_TYPE[sql_type.split()[0]]
    return Rule(
        "expect_column_values_to_be_of_type",
        f"{column} has a {_TYPE_FAMILY[gx_type]} dtype",
        column,
        kwargs={"type_": gx_type},
    )


def columns_of(dataset: str) -> list[tuple[str, str]]:
    """Return (name, warehouse type) of every column a dataset's frame must have."""
    return LINEAGE_COLUMNS + DATASET_COLUMNS[dataset]


def _common_rules(dataset: str) -> list[Rule]:
    columns = columns_of(dataset)
    contract = FILE_CONTRACTS.get(dataset)
    # A register may answer "nothing" with a header alone, and a catalogue organisation may
    # hold no package; other exports may not be empty.
    may_be_empty = dataset == "opendata_package" or (contract is not None and contract.may_be_empty)
    min_rows = 0 if may_be_empty else MIN_ROWS_PER_FILE
    names = [name for name, _ in columns]
    return [
        Rule(
            "expect_table_columns_to_match_set",
            f"columns are exactly the {len(names)} columns of raw.{dataset}",
            kwargs={"column_set": names, "exact_match": True},
        ),
        Rule(
            ROW_COUNT,
            f"at least {min_rows} row",
            kwargs={"min_value": min_rows, "max_value": None},
        ),
        Rule(
            ROW_COUNT,
            f"at most {MAX_ROWS_PER_FILE:,} rows",
            severity="warning",
            kwargs={"min_value": None, "max_value": MAX_ROWS_PER_FILE},
        ),
        *(of_type(name, sql_type) for name, sql_type in columns),
        # Lineage columns are `not null` in the warehouse: catch a null here, with its row.
        *(not_null(name) for name, _ in LINEAGE_COLUMNS),
        matches("ward_code", WARD_CODE_REGEX),
        valid_ward_code("ward_code"),
        unique("source_row"),
    ]


def _hr_staff() -> list[Rule]:
    return [
        not_null("staff_id"),
        unique("staff_id"),
        not_null("org_code"),
        in_set("grade", GRADES),
        in_set("employment_type", EMPLOYMENT_TYPES),
        not_null("hire_date"),
        between("hire_date", EARLIEST_HIRE_DATE, LATEST_DATE),
        not_before("retirement_date", "hire_date"),
        not_after("hire_date", "reference_date"),
    ]


def _training_course() -> list[Rule]:
    return [
        not_null("fiscal_year"),
        between("fiscal_year", *FISCAL_YEAR_RANGE),
        not_null("course_code"),
        unique("course_code"),
        not_null("course_name"),
        in_set("category", COURSE_CATEGORIES),
        in_set("requirement", COURSE_REQUIREMENTS),
        between("hours", *COURSE_HOURS_RANGE),
    ]


def _training_session() -> list[Rule]:
    return [
        not_null("session_id"),
        unique("session_id"),
        not_null("course_code"),
        not_null("session_date"),
        between("session_date", EARLIEST_SESSION_DATE, LATEST_DATE),
        between("capacity", *SESSION_CAPACITY_RANGE),
    ]


def _training_enrollment() -> list[Rule]:
    completed_needs_date = Rule(
        "expect_column_values_to_not_be_null",
        f"completed_on not null where status == {ENROLLMENT_STATUS_COMPLETED}",
        "completed_on",
        when=("status", ENROLLMENT_STATUS_COMPLETED),
    )
    return [
        not_null("enrollment_id"),
        unique("enrollment_id"),
        not_null("staff_id"),
        not_null("course_code"),
        in_set("status", ENROLLMENT_STATUSES),
        completed_needs_date,
        # A mistyped year would stretch every ward's fiscal-year spine: bound the dates.
        between("applied_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        between("completed_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        not_after("completed_on", "reference_date"),
        # An application dated after the export was taken: a clock or a typo, worth a look.
        not_after("applied_on", "reference_date", severity="warning"),
        # A completion dated before its application is no completion: the row is quarantined.
        not_before("completed_on", "applied_on"),
    ]


def _proposals_proposal() -> list[Rule]:
    return [
        not_null("proposal_id"),
        unique("proposal_id"),
        not_null("submitted_on"),
        between("submitted_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        not_after("submitted_on", "reference_date"),
        between("proposer_count", 1),
        in_set("review_result", REVIEW_RESULTS),
        between("effect_amount_yen", 0),
    ]


def _dated(column: str) -> list[Rule]:
    """A programme date: bounded (a mistyped year), and not after the export was taken."""
    return [
        between(column, EARLIEST_SESSION_DATE, LATEST_DATE),
        not_after(column, "reference_date"),
    ]


def _keyed(*key: str) -> list[Rule]:
    """Every key column present, and the key unique within the file."""
    if len(key) == 1:
        return [not_null(key[0]), unique(key[0])]
    kwargs = {"column_list": ["source_file", *key], "ignore_row_if": "any_value_is_missing"}
    together = Rule(
        "expect_compound_columns_to_be_unique",
        f"{' + '.join(key)} unique in the file",
        key[0],
        kwargs=kwargs,
    )
    return [*(not_null(column) for column in key), together]


def _hr_skill_assessment() -> list[Rule]:
    return [
        *_keyed("staff_id", "assessed_on", "skill_item_code"),
        *_dated("assessed_on"),
        matches("skill_item_code", SKILL_ITEM_REGEX),
        not_null("skill_level"),
        between("skill_level", *SKILL_LEVEL_RANGE),
    ]


def _hr_dx_leader_certification() -> list[Rule]:
    return [
        *_keyed("certification_id"),
        not_null("staff_id"),
        not_null("certified_on"),
        *_dated("certified_on"),
        between("lapsed_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        not_before("lapsed_on", "certified_on"),
    ]


def _hr_external_specialist() -> list[Rule]:
    return [
        *_keyed("contract_id"),
        not_null("staff_id"),
        not_null("role"),
        not_null("term_start"),
        between("term_start", EARLIEST_SESSION_DATE, LATEST_DATE),
        between("term_end", EARLIEST_SESSION_DATE, LATEST_DATE),
        not_before("term_end", "term_start"),
        in_set("contract_type", CONTRACT_TYPES),
    ]


def _hr_personnel_exchange() -> list[Rule]:
    return [
        *_keyed("exchange_id"),
        in_set("counterpart_type", COUNTERPART_TYPES),
        not_null("started_on"),
        between("started_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        between("ended_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        not_before("ended_on", "started_on"),
    ]


def _hr_hr_regulation() -> list[Rule]:
    return [
        *_keyed("regulation_id"),
        not_null("regulation_type"),
        not_null("effective_on"),
        between("effective_on", EARLIEST_HIRE_DATE, LATEST_DATE),
        between("repealed_on", EARLIEST_HIRE_DATE, LATEST_DATE),
        not_before("repealed_on", "effective_on"),
    ]


def _dx_office_dx_project() -> list[Rule]:
    completed_needs_end = Rule(
        "expect_column_values_to_not_be_null",
        f"ended_on not null where project_status == {PROJECT_STATUS_COMPLETED}",
        "ended_on",
        when=("project_status", PROJECT_STATUS_COMPLETED),
    )
    return [
        *_keyed("project_id"),
        not_null("started_on"),
        between("started_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        between("ended_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        not_before("ended_on", "started_on"),
        in_set("project_status", PROJECT_STATUSES),
        completed_needs_end,
        in_set("external_advice", ADVICE_FLAGS),
        between("annual_savings_yen", 0),
    ]


def _dx_office_bpr_measurement() -> list[Rule]:
    return [
        *_keyed("task_code", "measurement_type", "measured_on"),
        in_set("measurement_type", MEASUREMENT_TYPES),
        *_dated("measured_on"),
        not_null("minutes_per_case"),
        between("minutes_per_case", *MINUTES_PER_CASE_RANGE),
        not_null("annual_cases"),
        between("annual_cases", *ANNUAL_CASES_RANGE),
    ]


def _dx_office_system_migration() -> list[Rule]:
    completed_needs_date = Rule(
        "expect_column_values_to_not_be_null",
        f"migrated_on not null where migration_status == {MIGRATION_STATUS_COMPLETED}",
        "migrated_on",
        when=("migration_status", MIGRATION_STATUS_COMPLETED),
    )
    return [
        # A full snapshot: one row per system, like a roster's one row per person.
        *_keyed("system_code"),
        in_set("migration_status", MIGRATION_STATUSES),
        completed_needs_date,
        # 移行中 may carry its planned completion day, after the export: bounded only.
        between("migrated_on", EARLIEST_SESSION_DATE, LATEST_DATE),
        # A snapshot lists the 20 systems; a shorter one is worth a look, not a refusal.
        Rule(
            ROW_COUNT,
            f"{STANDARD_SYSTEM_COUNT} systems",
            severity="warning",
            kwargs={"min_value": STANDARD_SYSTEM_COUNT, "max_value": STANDARD_SYSTEM_COUNT},
        ),
    ]


def _surveys_staff_survey() -> list[Rule]:
    return [
        *_keyed("response_id"),
        not_null("answered_on"),
        *_dated("answered_on"),
        between("satisfaction", *SATISFACTION_RANGE),
    ]


def _surveys_procedure_survey() -> list[Rule]:
    return [
        *_keyed("response_id"),
        not_null("answered_at"),
        between("answered_at", EARLIEST_SESSION_DATE, LATEST_DATE),
        # An answer after the export's date (midnight): a clock or a typo, worth a look.
        not_after("answered_at", "reference_date", severity="warning"),
        between("satisfaction", *SATISFACTION_RANGE),
    ]


def _opendata_package() -> list[Rule]:
    return [
        not_null("package_id"),
        unique("package_id"),
        matches("organization", ORGANIZATION_REGEX),
        in_set("state", PACKAGE_STATES),
        not_null("is_private"),
    ]


_DATASET_RULES = {
    "hr_staff": _hr_staff,
    "training_course": _training_course,
    "training_session": _training_session,
    "training_enrollment": _training_enrollment,
    "proposals_proposal": _proposals_proposal,
    "hr_skill_assessment": _hr_skill_assessment,
    "hr_dx_leader_certification": _hr_dx_leader_certification,
    "hr_external_specialist": _hr_external_specialist,
    "hr_personnel_exchange": _hr_personnel_exchange,
    "hr_hr_regulation": _hr_hr_regulation,
    "dx_office_dx_project": _dx_office_dx_project,
    "dx_office_bpr_measurement": _dx_office_bpr_measurement,
    "dx_office_system_migration": _dx_office_system_migration,
    "surveys_staff_survey": _surveys_staff_survey,
    "surveys_procedure_survey": _surveys_procedure_survey,
    "opendata_package": _opendata_package,
}


def suite_names() -> list[str]:
    """Return the datasets that have a suite (the raw table names), in a stable order."""
    return list(_DATASET_RULES)


def rules_for(dataset: str) -> list[Rule]:
    """Return every rule of a dataset: the common ones, then the dataset's own.

    Args:
        dataset: A raw table name, one of `suite_names()`.

    Raises:
        KeyError: If the dataset has no suite.
    """
    if dataset not in _DATASET_RULES:
        raise KeyError(f"no expectation suite for dataset {dataset!r}; known: {suite_names()}")
    return _common_rules(dataset) + _DATASET_RULES[dataset]()


def build_suite(dataset: str, *, row_counts: bool = True) -> gx.ExpectationSuite:
    """Build a fresh, unsaved GX ExpectationSuite named after a dataset.

    Each expectation carries its rule in `meta` (rule sentence, reported column, columns read)
    and its severity as GX's `severity` (error -> critical, warning -> warning).

    Args:
        dataset: A raw table name, one of `suite_names()`.
        row_counts: False for the suite run on several exports at once: its table row-count
            rules are about one export and are left out (named `<dataset>.rows`); every other
            rule keeps its place in the suite order.

    Returns:
        The suite; add it to a context (`context.suites.add`) to store it there.
    """
    # Read by GX when it starts; harmless if it is already set or GX is already imported.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    # Registers the custom ward-code expectation with GX's registry before it is looked up.
    from expectations.check_digit import ExpectColumnValuesToBeValidWardCode  # noqa: F401

    rules = dict(enumerate(rules_for(dataset)))
    if not row_counts:
        rules = {order: rule for order, rule in rules.items() if not rule.is_row_count}
    # Passed to the constructor, not add_expectation(): the latter needs an active context.
    built = [_to_expectation(rule, order) for order, rule in rules.items()]
    suite = gx.ExpectationSuite(
        name=dataset if row_counts else f"{dataset}.rows", expectations=built
    )
    # The constructor logs and drops an expectation it finds invalid: refuse a partial suite.
    if len(suite.expectations) != len(rules):
        raise ValueError(f"suite {dataset}: {len(rules) - len(suite.expectations)} rule(s) dropped")
    return suite


def _to_expectation(rule: Rule, order: int) -> Any:
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.registry import get_expectation_impl
    from great_expectations.expectations.row_conditions import Column

    kwargs = dict(rule.kwargs)
    if rule.column is not None and "column_A" not in kwargs and "column_list" not in kwargs:
        kwargs["column"] = rule.column
    if rule.when is not None:
        when_column, when_value = rule.when
        kwargs["row_condition"] = Column(when_column) == when_value
    severity = FailureSeverity.CRITICAL if rule.severity == "error" else FailureSeverity.WARNING
    meta = {"rule": rule.rule, "column": rule.column, "columns": list(rule.columns), "order": order}
    return get_expectation_impl(rule.expectation)(**kwargs, severity=severity, meta=meta)
