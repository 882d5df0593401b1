"""The GX suites of the raw datasets: valid frames pass, each broken rule is caught at its rows."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pandas as pd
import pytest

from expectations import (
    FailedExpectation,
    SuiteResult,
    build_suite,
    run_suite,
    run_suite_per_file,
    runner,
    suite_names,
)
from expectations.suites import (
    COURSE_CATEGORIES,
    ENROLLMENT_STATUS_COMPLETED,
    GRADES,
    STANDARD_SYSTEM_COUNT,
    rules_for,
    ward_code_is_valid,
)
from ingestion.common.schema import DATASET_COLUMNS, LINEAGE_COLUMNS

REFERENCE_DATE = pd.Timestamp("2025-04-01")
ROWS = 6
# source_row is the file line: line 1 is the header, so frame position i is line i + 2.
FIRST_LINE = 2

NOT_NULL = "expect_column_values_to_not_be_null"
UNIQUE = "expect_compound_columns_to_be_unique"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
REGEX = "expect_column_values_to_match_regex"
PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
CHECK_DIGIT = "expect_column_values_to_be_valid_ward_code"
COLUMN_SET = "expect_table_columns_to_match_set"
ROW_COUNT = "expect_table_row_count_to_be_between"
OF_TYPE = "expect_column_values_to_be_of_type"


# --- Frame builders ---------------------------------------------------------------------------


def _text(values: list[str | None]) -> pd.Series:
    return pd.Series(values, dtype="str")


def _dates(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values), dtype="datetime64[us]")


def _ints(values: list[int | None]) -> pd.Series:
    return pd.Series(values, dtype="Int64")


def _lineage(n: int) -> dict[str, pd.Series]:
    return {
        "ward_code": _text(["131016"] * n),
        "reference_date": _dates([REFERENCE_DATE.isoformat()] * n),
        "source_file": _text(["landing/x/131016_x_20250401.csv"] * n),
        "file_sha256": _text(["0f" * 32] * n),
        "source_row": _ints(list(range(FIRST_LINE, FIRST_LINE + n))),
        "loaded_at": _dates(["2025-04-02T09:30:00"] * n),
    }


def _dataset_columns(dataset: str, n: int) -> dict[str, pd.Series]:
    ids = [f"{i:05d}" for i in range(n)]
    if dataset == "hr_staff":
        return {
            "staff_id": _text([f"S{i}" for i in ids]),
            "org_code": _text(["110100"] * n),
            "org_name": _text(["総務課"] * n),
            "grade": _text([GRADES[i % len(GRADES)] for i in range(n)]),
            "job_title": _text(["主事"] * n),
            "employment_type": _text(["正規"] * n),
            "hire_date": _dates(["2010-04-01"] * n),
            "retirement_date": _dates([None] * (n - 1) + ["2025-03-31"]),
        }
    if dataset == "training_course":
        return {
            "fiscal_year": _ints([2025] * n),
            "course_code": _text([f"C{i}" for i in ids]),
            "course_name": _text(["Excel入門"] * n),
            "category": _text([COURSE_CATEGORIES[i % len(COURSE_CATEGORIES)] for i in range(n)]),
            "requirement": _text(["必修", "選択"] * (n // 2) + ["必修"] * (n % 2)),
            "delivery_format": _text(["集合"] * n),
            "hours": pd.Series([3.5] * (n - 1) + [None], dtype="Float64"),
        }
    if dataset == "training_session":
        return {
            "session_id": _text([f"T{i}" for i in ids]),
            "course_code": _text(["C00001"] * n),
            "session_date": _dates(["2025-05-10"] * n),
            "capacity": _ints([30] * (n - 1) + [None]),
            "venue": _text(["本庁舎"] * n),
        }
    if dataset == "training_enrollment":
        return {
            "enrollment_id": _text([f"E{i}" for i in ids]),
            "staff_id": _text([f"S{i}" for i in ids]),
            "course_code": _text(["C00001"] * n),
            "session_id": _text([None] * n),
            "applied_on": _dates(["2025-01-10"] * n),
            "status": _text([ENROLLMENT_STATUS_COMPLETED] * (n - 1) + ["申込"]),
            "completed_on": _dates(["2025-02-01"] * (n - 1) + [None]),
        }
    if dataset == "proposals_proposal":
        return {
            "proposal_id": _text([f"P{i}" for i in ids]),
            "submitted_on": _dates(["2025-03-01"] * n),
            "proposer_ids": _text(["S1・S2"] * n),
            "proposer_count": _ints([2] * n),
            "org_code": _text(["110100"] * n),
            "category": _text(["業務改善"] * n),
            "review_result": _text(["採用"] * n),
            "effect_amount_yen": _ints([1_200_000] * (n - 1) + [None]),
        }
    if dataset == "hr_skill_assessment":
        return {
            "staff_id": _text([f"S{i}" for i in ids]),
            "assessed_on": _dates(["2025-03-01"] * n),
            "skill_item_code": _text([f"S{i % 22 + 1:02d}" for i in range(n)]),
            "skill_level": _ints([i % 4 + 1 for i in range(n)]),
        }
    if dataset == "hr_dx_leader_certification":
        return {
            "staff_id": _text([f"S{i}" for i in ids]),
            "certification_id": _text([f"L{i}" for i in ids]),
            "certified_on": _dates(["2024-04-01"] * n),
            "lapsed_on": _dates([None] * (n - 1) + ["2026-03-31"]),
        }
    if dataset == "hr_external_specialist":
        return {
            "contract_id": _text([f"K{i}" for i in ids]),
            "staff_id": _text([f"X{i}" for i in ids]),
            "role": _text(["CIO補佐官"] + ["データサイエンティスト"] * (n - 1)),
            "term_start": _dates(["2024-04-01"] * n),
            "term_end": _dates(["2025-03-31"] * (n - 1) + [None]),
            "contract_type": _text(["新規", "更新"] * (n // 2) + ["新規"] * (n % 2)),
        }
    if dataset == "hr_personnel_exchange":
        return {
            "exchange_id": _text([f"X{i}" for i in ids]),
            "staff_id": _text([f"S{i}" for i in ids[:-1]] + [None]),
            "counterpart_type": _text(["民間企業", "国", "他自治体", "その他"] * n)[:n],
            "counterpart_name": _text(["株式会社サンプル"] * n),
            "started_on": _dates(["2024-10-01"] * n),
            "ended_on": _dates(["2025-03-31"] * (n - 1) + [None]),
        }
    if dataset == "hr_hr_regulation":
        return {
            "regulation_id": _text([f"R{i}" for i in ids]),
            "regulation_name": _text(["職員の任用に関する規程"] * n),
            "regulation_type": _text(["デジタル専門職キャリアパス"] + ["任用"] * (n - 1)),
            "effective_on": _dates(["1999-04-01"] * n),
            "repealed_on": _dates([None] * (n - 1) + ["2024-03-31"]),
        }
    if dataset == "dx_office_dx_project":
        return {
            "project_id": _text([f"J{i}" for i in ids]),
            "org_code": _text(["0100"] * n),
            "leader_staff_id": _text([f"S{i}" for i in ids]),
            "started_on": _dates(["2024-04-01"] * n),
            "ended_on": _dates(["2025-03-31"] * (n - 1) + [None]),
            "project_status": _text(["完了"] * (n - 1) + ["実施中"]),
            "external_advice": _text(["有", "無"] * (n // 2) + ["無"] * (n % 2)),
            "annual_savings_yen": _ints([1_200_000] * (n - 1) + [None]),
        }
    if dataset == "dx_office_bpr_measurement":
        return {
            "task_code": _text([f"B{i // 2}" for i in range(n)]),
            "task_name": _text(["窓口受付"] * n),
            "measurement_type": _text(["改善前", "改善後"] * (n // 2) + ["改善前"] * (n % 2)),
            "measured_on": _dates(["2024-06-01"] * n),
            "minutes_per_case": pd.Series([12.5] * n, dtype="Float64"),
            "annual_cases": _ints([1200] * n),
        }
    if dataset == "dx_office_system_migration":
        return {
            "system_code": _text([f"{i + 1:02d}" for i in range(n)]),
            "system_name": _text(["住民基本台帳"] * n),
            "migration_status": _text(["移行完了"] * (n - 1) + ["移行中"]),
            "migrated_on": _dates(["2025-01-01"] * (n - 1) + [None]),
        }
    if dataset == "surveys_staff_survey":
        return {
            "response_id": _text([f"A{i}" for i in ids]),
            "answered_on": _dates(["2025-02-01"] * n),
            "department_code": _text(["01"] * n),
            "grade_group": _text(["係員"] * n),
            "satisfaction": _ints([i % 5 + 1 for i in range(n - 1)] + [None]),
        }
    if dataset == "surveys_procedure_survey":
        return {
            "response_id": _text([f"Q{i}" for i in ids]),
            "procedure_code": _text(["T01"] * n),
            "procedure_name": _text(["住民票の写しの交付"] * n),
            "answered_at": _dates(["2025-02-01T10:30:00"] * n),
            "satisfaction": _ints([i % 5 + 1 for i in range(n - 1)] + [None]),
        }
    if dataset == "opendata_package":
        return {
            "snapshot_id": _text(["snap-1"] * n),
            "taken_at": _dates(["2025-04-01T03:00:00"] * n),
            "organization": _text(["t131016"] * n),
            "package_id": _text([f"pkg-{i}" for i in ids]),
            "package_name": _text([f"dataset-{i}" for i in ids]),
            "state": _text(["active"] * n),
            "is_private": pd.Series([False] * n, dtype="boolean"),
            "metadata_created": _dates(["2024-01-01T00:00:00"] * n),
            "metadata_modified": _dates(["2025-03-01T12:00:00"] * n),
            "num_resources": _ints([2] * n),
        }
    raise KeyError(dataset)


def valid_frame(dataset: str, n: int = ROWS) -> pd.DataFrame:
    """Return a frame of `n` rows that every rule of the dataset accepts (a system-migration
    snapshot always lists the 20 standardised systems)."""
    if dataset == "dx_office_system_migration":
        n = STANDARD_SYSTEM_COUNT
    return pd.DataFrame({**_lineage(n), **_dataset_columns(dataset, n)})


def line(position: int) -> int:
    """Return the file line number of a frame position."""
    return position + FIRST_LINE


def _set(column: str, positions: list[int], value: object) -> Callable[[pd.DataFrame], None]:
    def mutate(frame: pd.DataFrame) -> None:
        frame.loc[positions, column] = value

    return mutate


def _drop(column: str) -> Callable[[pd.DataFrame], None]:
    def mutate(frame: pd.DataFrame) -> None:
        frame.drop(columns=[column], inplace=True)

    return mutate


def _copy_value(column: str, source: int, target: int) -> Callable[[pd.DataFrame], None]:
    def mutate(frame: pd.DataFrame) -> None:
        frame.loc[target, column] = frame.loc[source, column]

    return mutate


def _retype_as_text(column: str) -> Callable[[pd.DataFrame], None]:
    def mutate(frame: pd.DataFrame) -> None:
        frame[column] = frame[column].dt.strftime("%Y-%m-%d").astype("str")

    return mutate


# --- Valid frames -------------------------------------------------------------------------------


def test_suite_names_are_the_raw_tables_with_rules() -> None:
    assert sorted(suite_names()) == sorted(DATASET_COLUMNS)


@pytest.mark.parametrize("dataset", suite_names())
def test_valid_frame_passes(dataset: str) -> None:
    result = run_suite(dataset, valid_frame(dataset))

    assert result.failures == [], result.describe("valid.csv")
    assert result.success
    assert result.evaluated == len(rules_for(dataset))


@pytest.mark.parametrize("dataset", suite_names())
def test_build_suite_has_one_expectation_per_rule(dataset: str) -> None:
    suite = build_suite(dataset)

    assert suite.name == dataset
    assert [e.meta["rule"] for e in suite.expectations] == [r.rule for r in rules_for(dataset)]


# --- Broken frames ----------------------------------------------------------------------------

# (dataset, mutation, expected failures as (expectation, column, file lines)). The expected list
# is the whole set of failures: a broken rule must not drag unrelated rules down with it.
BROKEN = [
    pytest.param("hr_staff", _drop("org_name"), [(COLUMN_SET, None, [])], id="hr-missing-column"),
    pytest.param(
        "hr_staff",
        _copy_value("staff_id", 0, 3),
        [(UNIQUE, "staff_id", [line(0), line(3)])],
        id="hr-duplicate-staff-id",
    ),
    pytest.param(
        "hr_staff",
        _set("staff_id", [2], None),
        [(NOT_NULL, "staff_id", [line(2)])],
        id="hr-null-staff-id",
    ),
    pytest.param(
        "hr_staff",
        _set("grade", [1, 4], "課長代理"),
        [(IN_SET, "grade", [line(1), line(4)])],
        id="hr-grade-not-in-set",
    ),
    pytest.param(
        "hr_staff",
        _set("employment_type", [5], "臨時"),
        [(IN_SET, "employment_type", [line(5)])],
        id="hr-employment-type-not-in-set",
    ),
    pytest.param(
        "hr_staff",
        _set("ward_code", [3], "131017"),
        [(CHECK_DIGIT, "ward_code", [line(3)])],
        id="hr-bad-check-digit",
    ),
    pytest.param(
        "hr_staff",
        _set("ward_code", [0], "13101"),
        [(REGEX, "ward_code", [line(0)]), (CHECK_DIGIT, "ward_code", [line(0)])],
        id="hr-ward-code-five-digits",
    ),
    pytest.param(
        "hr_staff",
        _set("hire_date", [2], pd.Timestamp("2025-04-02")),
        [(PAIR, "hire_date", [line(2)])],
        id="hr-hire-date-after-reference-date",
    ),
    pytest.param(
        "hr_staff",
        _set("hire_date", [1], pd.Timestamp("1949-12-31")),
        [(BETWEEN, "hire_date", [line(1)])],
        id="hr-hire-date-too-early",
    ),
    pytest.param(
        "hr_staff",
        _set("retirement_date", [0], pd.Timestamp("2009-03-31")),
        [(PAIR, "retirement_date", [line(0)])],
        id="hr-retired-before-hired",
    ),
    pytest.param(
        "hr_staff",
        _retype_as_text("hire_date"),
        # The dtype rule says why; the range rule cannot compare text with dates. (The pair
        # rules still run: pandas parses ISO text when comparing it with a datetime column.)
        [(OF_TYPE, "hire_date", []), (BETWEEN, "hire_date", [])],
        id="hr-hire-date-as-text",
    ),
    pytest.param(
        "hr_staff",
        _copy_value("source_row", 1, 2),
        [(UNIQUE, "source_row", [line(1), line(1)])],
        id="hr-duplicate-source-row",
    ),
    pytest.param(
        "training_course",
        _copy_value("course_code", 1, 5),
        [(UNIQUE, "course_code", [line(1), line(5)])],
        id="course-duplicate-code",
    ),
    pytest.param(
        "training_course",
        _set("category", [2], "語学"),
        [(IN_SET, "category", [line(2)])],
        id="course-category-not-in-set",
    ),
    pytest.param(
        "training_course",
        _set("fiscal_year", [0], None),
        [(NOT_NULL, "fiscal_year", [line(0)])],
        id="course-null-fiscal-year",
    ),
    pytest.param(
        "training_course",
        _set("hours", [3], 1000.5),
        [(BETWEEN, "hours", [line(3)])],
        id="course-hours-out-of-range",
    ),
    pytest.param(
        "training_session",
        _set("session_id", [4], None),
        [(NOT_NULL, "session_id", [line(4)])],
        id="session-null-key",
    ),
    pytest.param(
        "training_session",
        _set("capacity", [1], -1),
        [(BETWEEN, "capacity", [line(1)])],
        id="session-negative-capacity",
    ),
    pytest.param(
        "training_session",
        _set("session_date", [0], pd.Timestamp("1999-12-31")),
        [(BETWEEN, "session_date", [line(0)])],
        id="session-date-too-early",
    ),
    pytest.param(
        "training_enrollment",
        _set("status", [0], "完了"),
        [(IN_SET, "status", [line(0)])],
        id="enrollment-status-not-in-set",
    ),
    pytest.param(
        "training_enrollment",
        _set("completed_on", [2, 3], pd.NaT),
        [(NOT_NULL, "completed_on", [line(2), line(3)])],
        id="enrollment-completed-without-date",
    ),
    pytest.param(
        "training_enrollment",
        _set("completed_on", [1], pd.Timestamp("2025-04-02")),
        [(PAIR, "completed_on", [line(1)])],
        id="enrollment-completed-after-reference-date",
    ),
    pytest.param(
        "training_enrollment",
        _set("applied_on", [1], pd.Timestamp("1925-04-02")),
        [(BETWEEN, "applied_on", [line(1)])],
        id="enrollment-applied-in-a-mistyped-year",
    ),
    pytest.param(
        "training_enrollment",
        _copy_value("enrollment_id", 0, 1),
        [(UNIQUE, "enrollment_id", [line(0), line(1)])],
        id="enrollment-duplicate-key",
    ),
    pytest.param(
        "proposals_proposal",
        _set("submitted_on", [3], pd.Timestamp("2025-04-15")),
        [(PAIR, "submitted_on", [line(3)])],
        id="proposal-submitted-after-reference-date",
    ),
    pytest.param(
        "proposals_proposal",
        _set("proposer_count", [2], 0),
        [(BETWEEN, "proposer_count", [line(2)])],
        id="proposal-no-proposer",
    ),
    pytest.param(
        "proposals_proposal",
        _set("review_result", [4], "保留"),
        [(IN_SET, "review_result", [line(4)])],
        id="proposal-review-result-not-in-set",
    ),
    pytest.param(
        "proposals_proposal",
        _set("effect_amount_yen", [0], -1),
        [(BETWEEN, "effect_amount_yen", [line(0)])],
        id="proposal-negative-effect",
    ),
    pytest.param(
        "opendata_package",
        _set("organization", [1], "131016"),
        [(REGEX, "organization", [line(1)])],
        id="package-organization-without-t",
    ),
    pytest.param(
        "opendata_package",
        _set("state", [0], "archived"),
        [(IN_SET, "state", [line(0)])],
        id="package-state-not-in-set",
    ),
    pytest.param(
        "opendata_package",
        _set("is_private", [5], None),
        [(NOT_NULL, "is_private", [line(5)])],
        id="package-null-is-private",
    ),
    pytest.param(
        "opendata_package",
        _copy_value("package_id", 2, 3),
        [(UNIQUE, "package_id", [line(2), line(3)])],
        id="package-duplicate-key",
    ),
    pytest.param(
        "opendata_package",
        _set("source_file", [0], None),
        [(NOT_NULL, "source_file", [line(0)])],
        id="package-null-lineage",
    ),
]


@pytest.mark.parametrize(("dataset", "mutate", "expected"), BROKEN)
def test_broken_frame_fails_on_the_right_rule_and_rows(
    dataset: str,
    mutate: Callable[[pd.DataFrame], None],
    expected: list[tuple[str, str | None, list[int]]],
) -> None:
    frame = valid_frame(dataset)
    mutate(frame)

    result = run_suite(dataset, frame)

    assert not result.success
    found = [(f.expectation, f.column, f.source_rows) for f in result.failures]
    assert sorted(found, key=repr) == sorted(expected, key=repr), result.describe("x.csv")
    assert all(f.severity == "error" for f in result.failures)


def test_duplicate_source_row_reports_the_duplicated_line() -> None:
    frame = valid_frame("hr_staff")
    frame.loc[2, "source_row"] = frame.loc[1, "source_row"]

    (failure,) = run_suite("hr_staff", frame).failures

    assert failure.sample_values == [str(line(1))]
    assert failure.unexpected_count == 2


def test_missing_column_is_named_and_hides_the_rules_it_blocks() -> None:
    frame = valid_frame("training_enrollment").drop(columns=["status"])

    (failure,) = run_suite("training_enrollment", frame).failures

    assert failure.expectation == COLUMN_SET
    assert failure.sample_values == ["status"]
    assert "missing: status" in failure.note


def test_extra_column_fails_the_column_set() -> None:
    frame = valid_frame("training_session").assign(note=_text(["x"] * ROWS))

    (failure,) = run_suite("training_session", frame).failures

    assert (failure.expectation, failure.sample_values) == (COLUMN_SET, ["note"])


def test_empty_frame_fails_the_row_count() -> None:
    result = run_suite("proposals_proposal", valid_frame("proposals_proposal").iloc[0:0])

    assert [(f.expectation, f.rule) for f in result.failures] == [(ROW_COUNT, "at least 1 row")]
    assert not result.success


def test_warning_only_failure_keeps_success_but_is_listed() -> None:
    frame = valid_frame("training_enrollment")
    # Applied after the export's reference date (completed_on left blank: a pending row).
    frame.loc[[1, 4], "applied_on"] = pd.Timestamp("2026-01-01")
    frame.loc[[1, 4], "completed_on"] = pd.NaT
    frame.loc[[1, 4], "status"] = "申込"

    result = run_suite("training_enrollment", frame)

    assert result.success
    assert result.errors == []
    (warning,) = result.warnings
    assert warning == FailedExpectation(
        expectation=PAIR,
        column="applied_on",
        severity="warning",
        rule="applied_on <= reference_date",
        unexpected_count=2,
        source_rows=[line(1), line(4)],
        sample_values=["2026-01-01"],
    )
    assert "passed with warnings" in result.describe("e.csv")


def test_source_rows_are_capped_at_twenty_and_values_at_five_distinct() -> None:
    frame = valid_frame("hr_staff", n=30)
    frame["grade"] = _text([f"等級{i % 7}" for i in range(30)])

    (failure,) = run_suite("hr_staff", frame).failures

    assert failure.unexpected_count == 30
    assert failure.source_rows == [line(i) for i in range(20)]
    assert failure.sample_values == [f"等級{i}" for i in range(5)]
    assert "first 20 of 30 rows" in failure.describe()


def test_rows_come_from_source_row_whatever_the_frame_index() -> None:
    frame = valid_frame("hr_staff")
    frame.loc[3, "grade"] = "課長代理"
    frame.index = pd.Index([f"r{i}" for i in range(ROWS)], name="row_key")

    (failure,) = run_suite("hr_staff", frame).failures

    assert failure.source_rows == [line(3)]


def test_describe_names_file_rule_column_rows_and_values() -> None:
    frame = valid_frame("hr_staff")
    frame.loc[[3, 5], "grade"] = "課長代理"
    source_file = "landing/hr/131016_staff_20250401.csv"

    text = run_suite("hr_staff", frame).describe(source_file)

    summary, detail = text.splitlines()
    assert summary.startswith(f"{source_file}: hr_staff failed: 1 error(s)")
    assert detail == (
        f"{source_file}: error: rule 'grade in {{{', '.join(GRADES)}}}' failed on column grade "
        f"at rows {line(3)}, {line(5)} (2 rows): values 課長代理"
    )


def test_describe_of_a_clean_result() -> None:
    result = SuiteResult(dataset="hr_staff", success=True, evaluated=3, failures=[])

    assert result.describe("f.csv") == "f.csv: hr_staff: all 3 expectations passed"


def test_unknown_dataset_is_refused() -> None:
    with pytest.raises(KeyError, match="no expectation suite"):
        run_suite("hr_nothing", valid_frame("hr_staff"))


def test_context_and_suites_are_built_once() -> None:
    run_suite("training_session", valid_frame("training_session"))
    context, compiled = runner._get_context(), runner._compiled["training_session"]

    run_suite("training_session", valid_frame("training_session"))

    assert runner._get_context() is context
    assert runner._compiled["training_session"] is compiled


# --- The check digit and the cheap import -----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("131016", True),
        ("131032", True),
        ("131083", True),
        ("131237", True),
        ("131017", False),
        ("13101", False),
        ("１３１０１６", False),
        (None, False),
    ],
)
def test_ward_code_check_digit(code: str | None, valid: bool) -> None:
    assert ward_code_is_valid(code) is valid


def test_all_23_ward_codes_pass_the_custom_expectation() -> None:
    codes = [
        next(f"{13100 + w}{d}" for d in "0123456789" if ward_code_is_valid(f"{13100 + w}{d}"))
        for w in range(1, 24)
    ]
    frame = valid_frame("hr_staff", n=23)
    frame["ward_code"] = _text(codes)

    assert run_suite("hr_staff", frame).failures == []
    assert codes[0] == "131016" and codes[-1] == "131237"


def test_importing_the_package_does_not_import_great_expectations() -> None:
    code = (
        "import sys, expectations, expectations.suites; "
        "assert 'great_expectations' not in sys.modules, 'GX imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lineage_columns_are_checked_for_every_dataset() -> None:
    for dataset in suite_names():
        checked = {r.column for r in rules_for(dataset) if r.expectation == NOT_NULL}
        assert {name for name, _ in LINEAGE_COLUMNS} <= checked


# --- Several exports validated together ----------------------------------------------------


def _export(name: str, n: int = ROWS) -> pd.DataFrame:
    frame = valid_frame("hr_staff", n)
    frame["source_file"] = pd.Series([name] * len(frame), dtype="str")
    return frame


def test_per_file_results_pin_a_failure_to_its_own_export() -> None:
    # GIVEN five monthly snapshots listing the same staff, one with a grade outside the set
    frames = {f"hr/131016_staff_2025{m:02d}01.csv": _export(f"m{m}") for m in range(4, 9)}
    bad = "hr/131016_staff_20250601.csv"
    frames[bad].loc[2, "grade"] = "課長代理"
    # WHEN they are validated together
    results = run_suite_per_file("hr_staff", frames)
    # THEN only that export fails, and its result names its own row; the others pass
    assert list(results) == list(frames)
    assert [name for name, r in results.items() if not r.success] == [bad]
    failure = results[bad].errors[0]
    assert (failure.column, failure.source_rows, failure.sample_values) == (
        "grade",
        [line(2)],
        ["課長代理"],
    )


def test_an_empty_export_among_others_still_fails_its_row_count() -> None:
    frames = {"a.csv": _export("a"), "b.csv": _export("b").iloc[0:0], "c.csv": _export("c")}
    results = run_suite_per_file("hr_staff", frames)
    assert {name: r.success for name, r in results.items()} == {
        "a.csv": True,
        "b.csv": False,
        "c.csv": True,
    }


def test_batches_split_on_the_row_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("expectations.runner.BATCH_ROWS", ROWS * 2)
    frames = {f"{i}.csv": _export(str(i)) for i in range(5)}
    frames["3.csv"].loc[0, "staff_id"] = None
    results = run_suite_per_file("hr_staff", frames)
    assert [name for name, r in results.items() if not r.success] == ["3.csv"]


def _snapshot(name: str) -> pd.DataFrame:
    frame = valid_frame("dx_office_system_migration")
    frame["source_file"] = pd.Series([name] * len(frame), dtype="str")
    return frame


def test_exports_meeting_an_exact_row_count_are_validated_in_one_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN six system-migration snapshots of 20 systems each (the rule: exactly 20 rows)
    frames = {f"{m}.csv": _snapshot(f"{m}.csv") for m in range(6)}
    validated: list[int] = []
    validate = runner._validate

    def counting(dataset: str, frame: pd.DataFrame, **kwargs: int) -> object:
        validated.append(len(frame))
        return validate(dataset, frame, **kwargs)

    monkeypatch.setattr(runner, "_validate", counting)
    # WHEN they are validated together
    results = run_suite_per_file("dx_office_system_migration", frames)
    # THEN one GX validation covers all 120 rows (the row count was judged per export) and
    # every export passes with the row-count rules counted as evaluated
    assert validated == [6 * STANDARD_SYSTEM_COUNT]
    alone = run_suite("dx_office_system_migration", frames["0.csv"])
    assert {r.evaluated for r in results.values()} == {alone.evaluated}
    assert all(r.success and not r.failures for r in results.values())


def test_an_export_breaking_a_row_count_in_a_batch_gets_its_own_warning() -> None:
    frames = {f"{m}.csv": _snapshot(f"{m}.csv") for m in range(4)}
    frames["2.csv"] = frames["2.csv"].iloc[:19]
    results = run_suite_per_file("dx_office_system_migration", frames)
    assert [name for name, r in results.items() if r.failures] == ["2.csv"]
    (warning,) = results["2.csv"].warnings
    assert results["2.csv"].success
    assert warning.rule == f"{STANDARD_SYSTEM_COUNT} systems"


def test_a_validation_does_not_fingerprint_the_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    # GX hashed every row of every frame (about 1 microsecond a row) only to label the batch.
    from great_expectations.execution_engine import pandas_execution_engine

    hashed: list[int] = []
    original = pandas_execution_engine.hash_pandas_dataframe

    def recording(frame: pd.DataFrame) -> str:
        hashed.append(len(frame))
        return original(frame)

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", recording)
    results = run_suite_per_file("hr_staff", {"a.csv": valid_frame("hr_staff")})
    assert results["a.csv"].success
    assert hashed == []
