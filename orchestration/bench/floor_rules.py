"""The row rules of the floor, as plain SQL: what a row must satisfy to count.

These restate the raw-layer suites (a grade in the list, a level 1..4, a completion not
before its application, a key unique in its file) as one `where` clause per dataset, written
by hand from sources.md, so that the floor drops the rows the pipeline quarantines. Each rule
is a violation: a row is kept when no violation is true (a null comparison is no violation,
as in the suites).
"""

from __future__ import annotations

import csv

from ingestion.common.reference import GRADE_LEVELS_CSV

EARLY, LATE, HIRED = "timestamp '2000-01-01'", "timestamp '2100-01-01'", "timestamp '1950-01-01'"


def _grades() -> str:
    with GRADE_LEVELS_CSV.open(encoding="utf-8", newline="") as handle:
        return _listed(row["grade"] for row in csv.DictReader(handle))


def _listed(values: object) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"  # type: ignore[attr-defined]


def _outside(column: str, low: str | None = None, high: str | None = None) -> list[str]:
    rules = [f"{column} < {low}"] if low is not None else []
    return rules + ([f"{column} > {high}"] if high is not None else [])


def _not_in(column: str, *values: str) -> str:
    return f"{column} not in {_listed(values)}"


def _dated(column: str) -> list[str]:
    """A programme date: 2000..2100, and not after the export's reference date."""
    return [*_outside(column, EARLY, LATE), f"{column} > reference_date"]


# raw table -> (key unique within a file, violations). Blank required cells and unreadable
# cells never get here: the reader dropped their rows.
ROW_RULES: dict[str, tuple[tuple[str, ...], list[str]]] = {
    "hr_staff": (
        ("staff_id",),
        [
            f"grade not in {_grades()}",
            _not_in(
                "employment_type",
                "正規",
                "再任用",
                "任期付",
                "特定任期付",
                "会計年度任用(フルタイム)",
                "会計年度任用(パートタイム)",
            ),
            *_outside("hire_date", HIRED, LATE),
            "retirement_date < hire_date",
            "hire_date > reference_date",
        ],
    ),
    "training_course": (
        ("course_code",),
        [
            *_outside("fiscal_year", "2000", "2100"),
            _not_in(
                "category",
                "デジタル基礎",
                "ツール活用",
                "DX推進リーダー育成",
                "管理職向け",
                "その他",
            ),
            _not_in("requirement", "必修", "選択"),
            *_outside("hours", "0", "1000"),
        ],
    ),
    "training_session": (
        ("session_id",),
        [*_outside("session_date", EARLY, LATE), *_outside("capacity", "0", "10000")],
    ),
    "training_enrollment": (
        ("enrollment_id",),
        [
            _not_in("status", "申込", "受講中", "修了", "未修了", "欠席", "取消"),
            "status = '修了' and completed_on is null",
            *_outside("applied_on", EARLY, LATE),
            *_dated("completed_on"),
            "completed_on < applied_on",
        ],
    ),
    "proposals_proposal": (
        ("proposal_id",),
        [
            *_dated("submitted_on"),
            "proposer_count < 1",
            _not_in("review_result", "採用", "一部採用", "不採用", "審査中"),
            "effect_amount_yen < 0",
        ],
    ),
    "hr_skill_assessment": (
        ("staff_id", "assessed_on", "skill_item_code"),
        [
            *_dated("assessed_on"),
            "not regexp_full_match(skill_item_code, 'S[0-9]{2}')",
            *_outside("skill_level", "1", "4"),
        ],
    ),
    "hr_dx_leader_certification": (
        ("certification_id",),
        [*_dated("certified_on"), *_outside("lapsed_on", EARLY, LATE), "lapsed_on < certified_on"],
    ),
    "hr_external_specialist": (
        ("contract_id",),
        [
            *_outside("term_start", EARLY, LATE),
            *_outside("term_end", EARLY, LATE),
            "term_end < term_start",
            _not_in("contract_type", "新規", "更新"),
        ],
    ),
    "hr_personnel_exchange": (
        ("exchange_id",),
        [
            _not_in("counterpart_type", "民間企業", "国", "他自治体", "その他"),
            *_outside("started_on", EARLY, LATE),
            *_outside("ended_on", EARLY, LATE),
            "ended_on < started_on",
        ],
    ),
    "hr_hr_regulation": (
        ("regulation_id",),
        [
            *_outside("effective_on", HIRED, LATE),
            *_outside("repealed_on", HIRED, LATE),
            "repealed_on < effective_on",
        ],
    ),
    "dx_office_dx_project": (
        ("project_id",),
        [
            *_outside("started_on", EARLY, LATE),
            *_outside("ended_on", EARLY, LATE),
            "ended_on < started_on",
            _not_in("project_status", "企画", "実施中", "完了", "中止"),
            "project_status = '完了' and ended_on is null",
            _not_in("external_advice", "有", "無"),
            "annual_savings_yen < 0",
        ],
    ),
    "dx_office_bpr_measurement": (
        ("task_code", "measurement_type", "measured_on"),
        [
            _not_in("measurement_type", "改善前", "改善後"),
            *_dated("measured_on"),
            *_outside("minutes_per_case", "0", "100000"),
            *_outside("annual_cases", "0", "100000000"),
        ],
    ),
    "dx_office_system_migration": (
        ("system_code",),
        [
            _not_in("migration_status", "未着手", "移行中", "移行完了"),
            "migration_status = '移行完了' and migrated_on is null",
            *_outside("migrated_on", EARLY, LATE),
        ],
    ),
    "surveys_staff_survey": (
        ("response_id",),
        [*_dated("answered_on"), *_outside("satisfaction", "1", "5")],
    ),
    "surveys_procedure_survey": (
        ("response_id",),
        [*_outside("answered_at", EARLY, LATE), *_outside("satisfaction", "1", "5")],
    ),
}


def unique_key(table: str) -> tuple[str, ...]:
    """The columns a dataset's key holds, unique within one file."""
    return ROW_RULES[table][0]


def rules_filter(table: str) -> str:
    """The `where` condition of the rows of `table` that break no rule (key aside)."""
    _, violations = ROW_RULES[table]
    return " and ".join(f"not coalesce({violation}, false)" for violation in violations)
