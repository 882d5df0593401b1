"""The row rules of the floor, as plain SQL: what a row must satisfy to count.

These restate the raw-layer suites (a grade in the list, a level 1..4, a completion not
before its application, a key unique in its file) as one `where` clause per dataset, written
by hand from sources.md, so that the floor drops the rows the pipeline quarantines. Each rule
is a violation: a row is kept when no violation is true (a null comparison is no violation,
as in the suites).
"""

from __future__ import annotations

from expectations import suites

EARLY, LATE, HIRED = "timestamp '2000-01-01'", "timestamp '2100-01-01'", "timestamp '1950-01-01'"


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
            _not_in("grade", *suites.GRADES),
            _not_in("employment_type", *suites.EMPLOYMENT_TYPES),
            *_outside("hire_date", HIRED, LATE),
            "retirement_date < hire_date",
            "hire_date > reference_date",
        ],
    ),
    "training_course": (
        ("course_code",),
        [
            *_outside("fiscal_year", "2000", "2100"),
            _not_in("category", *suites.COURSE_CATEGORIES),
            _not_in("requirement", *suites.COURSE_REQUIREMENTS),
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
            _not_in("status", *suites.ENROLLMENT_STATUSES),
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
            _not_in("review_result", *suites.REVIEW_RESULTS),
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
            _not_in("contract_type", *suites.CONTRACT_TYPES),
        ],
    ),
    "hr_personnel_exchange": (
        ("exchange_id",),
        [
            _not_in("counterpart_type", *suites.COUNTERPART_TYPES),
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
            _not_in("project_status", *suites.PROJECT_STATUSES),
            "project_status = '完了' and ended_on is null",
            _not_in("external_advice", *suites.ADVICE_FLAGS),
            "annual_savings_yen < 0",
        ],
    ),
    "dx_office_bpr_measurement": (
        ("task_code", "measurement_type", "measured_on"),
        [
            _not_in("measurement_type", *suites.MEASUREMENT_TYPES),
            *_dated("measured_on"),
            *_outside("minutes_per_case", "0", "100000"),
            *_outside("annual_cases", "0", "100000000"),
        ],
    ),
    "dx_office_system_migration": (
        ("system_code",),
        [
            _not_in("migration_status", *suites.MIGRATION_STATUSES),
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
