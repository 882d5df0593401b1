"""The cross-file data-quality rules (dbt tests tagged `cross_file`) on a hand-made warehouse.

Three wards send rosters, course plans, enrolment exports and proposals. The warehouse first
holds what healthy exports look like, including legitimate oddities the rules must let
through; then the same warehouse is tampered with to break each rule in one known ward. That
costs three dbt invocations (about 4 s each before any work): a `dbt build` of the models the
rules read and of the rules, then a `dbt run` and a `dbt test --select tag:cross_file`. The
tests below only read what they left behind: dbt's run_results.json and the failing rows each
rule stores in `dbt_test__audit`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from dagster_dbt import dbt_assets
from test_dbt_project import DBT_PROJECT_DIR, dbt_executable, run_dbt

from ingestion.common.schema import ensure_raw_schema
from orchestration.assets.dbt import with_failing_rows

CHIYODA = "131016"
CHUO = "131024"
MINATO = "131032"
WARDS = (CHIYODA, CHUO, MINATO)
STAFF_PER_ROSTER = 20
LOADED_AT = dt.datetime(2025, 5, 2, 9, 0, 0)
ROSTER_DATES = ("2025-01-01", "2025-02-01", "2025-03-01")
# Enrolment exports: mid-year and year-end of FY2023 and FY2024 (FY2024 is then complete).
ENROLLMENT_EXPORTS = {
    "2023-10-01": 2023,
    "2024-05-01": 2023,
    "2024-10-01": 2024,
    "2025-05-01": 2024,
}
CANCELLED_PER_YEAR = 6  # at least vanished_status_min_previous_rows: its vanishing is reported

# The rule (dbt test name), its severity, and where Dagster shows it.
RULES = {
    "roster_volume_within_warn_margin": (
        "warn",
        "intermediate/int_staff_snapshots_deduplicated",
    ),
    "roster_volume_within_error_margin": (
        "error",
        "intermediate/int_staff_snapshots_deduplicated",
    ),
    "assert_enrollment_exports_keep_their_fiscal_year_volume": (
        "warn",
        "staging/stg_training__enrollments",
    ),
    "assert_course_categories_persist_into_latest_complete_fiscal_year": (
        "warn",
        "intermediate/int_training_courses_deduplicated",
    ),
    "assert_enrollment_statuses_persist_into_latest_complete_fiscal_year": (
        "warn",
        "intermediate/int_training_enrollments_deduplicated",
    ),
    "assert_enrolled_staff_are_on_a_ward_roster": (
        "warn",
        "intermediate/int_training_enrollments_deduplicated",
    ),
    "assert_proposers_are_on_a_ward_roster": (
        "warn",
        "intermediate/int_proposals_deduplicated",
    ),
    "export_not_loaded_under_two_wards_hr_staff": ("error", "staging/stg_hr__staff"),
    "export_not_loaded_under_two_wards_training_course": (
        "error",
        "staging/stg_training__courses",
    ),
    "export_not_loaded_under_two_wards_training_session": (
        "error",
        "staging/stg_training__sessions",
    ),
    "export_not_loaded_under_two_wards_training_enrollment": (
        "error",
        "staging/stg_training__enrollments",
    ),
    "export_not_loaded_under_two_wards_proposals_proposal": (
        "error",
        "staging/stg_proposals__proposals",
    ),
    "export_not_loaded_under_two_wards_hr_skill_assessment": (
        "error",
        "staging/stg_hr__skill_assessments",
    ),
    "export_not_loaded_under_two_wards_hr_dx_leader_certification": (
        "error",
        "staging/stg_hr__dx_leader_certifications",
    ),
    "export_not_loaded_under_two_wards_hr_external_specialist": (
        "error",
        "staging/stg_hr__external_specialist_contracts",
    ),
    "export_not_loaded_under_two_wards_hr_personnel_exchange": (
        "error",
        "staging/stg_hr__personnel_exchanges",
    ),
    "export_not_loaded_under_two_wards_hr_hr_regulation": (
        "error",
        "staging/stg_hr__regulations",
    ),
    "export_not_loaded_under_two_wards_dx_office_dx_project": (
        "error",
        "staging/stg_dx_office__projects",
    ),
    "export_not_loaded_under_two_wards_dx_office_bpr_measurement": (
        "error",
        "staging/stg_dx_office__bpr_measurements",
    ),
    "export_not_loaded_under_two_wards_surveys_staff_survey": (
        "error",
        "staging/stg_surveys__staff_survey_responses",
    ),
    "export_not_loaded_under_two_wards_surveys_procedure_survey": (
        "error",
        "staging/stg_surveys__procedure_survey_responses",
    ),
    "export_not_repeated_under_a_later_date_hr_staff": ("warn", "staging/stg_hr__staff"),
}


@dataclass(frozen=True)
class RuleRun:
    """What `dbt test --select tag:cross_file` said: status and failing wards per rule."""

    statuses: dict[str, str]
    failing_wards: dict[str, set[str]]
    manifest_path: Path


def staff_id(ward_code: str, number: int) -> str:
    """A pseudonym as the loader writes it: opaque, unique within the ward."""
    return f"{ward_code}-staff-{number:03d}"


def insert_export(
    con: duckdb.DuckDBPyConnection,
    table: str,
    ward_code: str,
    reference_date: str,
    rows: list[dict[str, Any]],
    file_sha256: str | None = None,
) -> None:
    """Insert one export file's rows into raw.<table> with the lineage the loader writes:
    `<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv` and, unless told, bytes of its own."""
    system, dataset = table.split("_", 1)
    lineage = {
        "ward_code": ward_code,
        "reference_date": reference_date,
        "source_file": f"{system}/{ward_code}_{dataset}_{reference_date.replace('-', '')}.csv",
        "file_sha256": file_sha256 or f"sha-{ward_code}-{table}-{reference_date}",
        "loaded_at": LOADED_AT,
    }
    for source_row, row in enumerate(rows, start=1):
        record = {**lineage, "source_row": source_row, **row}
        columns = ", ".join(record)
        placeholders = ", ".join("?" for _ in record)
        con.execute(
            f"insert into raw.{table} ({columns}) values ({placeholders})", list(record.values())
        )


def roster(ward_code: str) -> list[dict[str, Any]]:
    """A roster snapshot: the same staff every month."""
    staff = range(1, STAFF_PER_ROSTER + 1)
    return [{"staff_id": staff_id(ward_code, n), "grade": "主任"} for n in staff]


def course_plan(fiscal_year: int, categories: tuple[str, ...]) -> list[dict[str, Any]]:
    """One course per category in the fiscal year's plan."""
    return [
        {"fiscal_year": fiscal_year, "course_code": f"C{fiscal_year}{n}", "category": category}
        for n, category in enumerate(categories, start=1)
    ]


def enrollments(
    ward_code: str, fiscal_year: int, cancelled: int = CANCELLED_PER_YEAR
) -> list[dict[str, Any]]:
    """Every staff member enrolled once in the year: `cancelled` of them 取消, the rest 修了."""
    return [
        {
            "enrollment_id": f"E{fiscal_year}-{n:03d}",
            "staff_id": staff_id(ward_code, n),
            "course_code": f"C{fiscal_year}1",
            "applied_on": dt.date(fiscal_year, 6, 1),
            "status": "取消" if n <= cancelled else "修了",
        }
        for n in range(1, STAFF_PER_ROSTER + 1)
    ]


def proposals(ward_code: str) -> list[dict[str, Any]]:
    """Five proposals, one of them by a group of three (pseudonyms joined by ';')."""
    group = ";".join(staff_id(ward_code, n) for n in (1, 2, 3))
    singles = [staff_id(ward_code, n) for n in (4, 5, 6, 7)]
    return [
        {"proposal_id": f"P{n}", "submitted_on": dt.date(2024, 7, n), "proposer_ids": ids}
        for n, ids in enumerate([group, *singles], start=1)
    ]


def insert_clean_ward(con: duckdb.DuckDBPyConnection, ward_code: str) -> None:
    """A healthy ward: steady rosters, the same plan categories every year, full exports."""
    for reference_date in ROSTER_DATES:
        insert_export(con, "hr_staff", ward_code, reference_date, roster(ward_code))
    categories = ("デジタル基礎", "ツール活用")
    for fiscal_year in (2023, 2024, 2025):
        plan = course_plan(fiscal_year, categories)
        insert_export(con, "training_course", ward_code, f"{fiscal_year}-04-01", plan)
    for reference_date, fiscal_year in ENROLLMENT_EXPORTS.items():
        rows = enrollments(ward_code, fiscal_year)
        insert_export(con, "training_enrollment", ward_code, reference_date, rows)
    insert_export(con, "proposals_proposal", ward_code, "2025-04-01", proposals(ward_code))


def insert_legitimate_oddities(con: duckdb.DuckDBPyConnection) -> None:
    """What real data does and no rule may report, in 港区: a status seen twice in FY2023
    that FY2024 no longer has (below vanished_status_min_previous_rows), and a week later a
    re-export of FY2024's enrolments with one trainee on no roster (below the tolerance).
    And every ward's first system-migration snapshot the same bytes: the 20 standard systems,
    none started yet, name no ward."""
    not_started = [
        {"system_code": f"{n:02d}", "migration_status": "未着手", "migrated_on": None}
        for n in range(1, 21)
    ]
    for ward_code in WARDS:
        insert_export(
            con, "dx_office_system_migration", ward_code, "2021-10-01", not_started, "sha-same"
        )
    stranger = {
        "enrollment_id": "E-visitor",
        "staff_id": "seconded-from-tokyo",
        "course_code": "C20241",
        "applied_on": dt.date(2024, 6, 1),
        "status": "修了",
    }
    con.execute(
        "update raw.training_enrollment set status = '欠席' where ward_code = ? "
        "and enrollment_id in ('E2023-019', 'E2023-020')",
        [MINATO],
    )
    insert_export(
        con,
        "training_enrollment",
        MINATO,
        "2025-05-08",
        [*enrollments(MINATO, 2024), stranger],
    )


def tamper(con: duckdb.DuckDBPyConnection) -> None:
    """Break each rule in one ward: see test_rule_reports_the_tampered_ward for which."""
    # Rosters: 千代田区's latest loses 30% of its rows (WARN only), 中央区's 70% (ERROR too).
    for ward_code, kept in ((CHIYODA, 14), (CHUO, 6)):
        con.execute(
            "delete from raw.hr_staff where ward_code = ? and reference_date = ? "
            "and source_row > ?",
            [ward_code, ROSTER_DATES[-1], kept],
        )
    # 港区's latest enrolment export carries half the year (its previous one carried all).
    con.execute(
        "delete from raw.training_enrollment where ward_code = ? and reference_date = ? "
        "and source_row > 10",
        [MINATO, "2025-05-08"],
    )
    # 千代田区's FY2024 plan no longer has ツール活用.
    con.execute(
        "delete from raw.training_course where ward_code = ? and fiscal_year = 2024 "
        "and category = 'ツール活用'",
        [CHIYODA],
    )
    # 中央区's FY2024 enrolments no longer have 取消.
    con.execute(
        "update raw.training_enrollment set status = '修了' where ward_code = ? "
        "and enrollment_id like 'E2024-%'",
        [CHUO],
    )
    # 千代田区's year-end enrolment export with 職員番号 in another form: no pseudonym joins.
    con.execute(
        "update raw.training_enrollment set staff_id = 'x' || staff_id "
        "where ward_code = ? and reference_date = '2025-05-01'",
        [CHIYODA],
    )
    # 中央区's proposal system renumbered its staff: no proposer is on a roster.
    con.execute(
        "update raw.proposals_proposal set proposer_ids = replace(proposer_ids, 'staff', 'x') "
        "where ward_code = ?",
        [CHUO],
    )
    # 港区's January roster loaded again as 中央区's December one: the same bytes.
    insert_export(
        con, "hr_staff", CHUO, "2024-12-01", roster(MINATO), f"sha-{MINATO}-hr_staff-2025-01-01"
    )
    # 港区's March roster is its February one again: the HR export was not refreshed.
    con.execute(
        "update raw.hr_staff set file_sha256 = ? where ward_code = ? and reference_date = ?",
        [f"sha-{MINATO}-hr_staff-2025-02-01", MINATO, ROSTER_DATES[-1]],
    )


def run_rules_allowing_failures(warehouse: Path, work_dir: Path) -> None:
    """`dbt test --select tag:cross_file`: a failed ERROR rule makes dbt exit 1, so the
    outcome is read from run_results.json rather than from the exit code."""
    command = [
        dbt_executable(),
        "test",
        "--select",
        "tag:cross_file",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--no-use-colors",
    ]
    env = {**os.environ, "DXKPI_WAREHOUSE": str(warehouse), "DXKPI_DBT_TARGET": "local"}
    subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, check=False)


def rules_outcome(warehouse: Path, work_dir: Path) -> RuleRun:
    """What the last dbt invocation said of each rule, and the wards of its failing rows."""
    manifest_path = work_dir / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    results = json.loads((work_dir / "target" / "run_results.json").read_text(encoding="utf-8"))
    statuses: dict[str, str] = {}
    failing_wards: dict[str, set[str]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for result in results["results"]:
            node = manifest["nodes"].get(result["unique_id"], {})
            if "cross_file" not in node.get("tags", []):
                continue
            statuses[node["name"]] = result["status"]
            wards = con.execute(
                f"select distinct ward_code from dbt_test__audit.{node['alias']}"
            ).fetchall()
            failing_wards[node["name"]] = {ward_code for (ward_code,) in wards}
    return RuleRun(statuses, failing_wards, manifest_path)


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cross_file")


@pytest.fixture(scope="module")
def warehouse(work_dir: Path) -> Path:
    """Three healthy wards and their legitimate oddities, in raw tables only."""
    path = work_dir / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        for ward_code in WARDS:
            insert_clean_ward(con, ward_code)
        insert_legitimate_oddities(con)
    return path


@pytest.fixture(scope="module")
def clean(warehouse: Path, work_dir: Path) -> RuleRun:
    """One `dbt build` of the models the rules read and of the rules (exit 0: no ERROR)."""
    build = ["build", "--select", "+tag:cross_file", "--exclude-resource-type", "unit_test"]
    run_dbt(build, warehouse, work_dir)
    return rules_outcome(warehouse, work_dir)


@pytest.fixture(scope="module")
def tampered(clean: RuleRun, warehouse: Path, work_dir: Path) -> RuleRun:
    """The same warehouse once the clean outcome is read, with every rule broken once. Same
    file and target folder: dbt parses the project again only partially."""
    with duckdb.connect(str(warehouse)) as con:
        tamper(con)
    # A full refresh: the tampering edits and deletes raw rows in place, under their first
    # load time, which no load does (a loaded file's rows are new rows with a new load time,
    # what the incremental models pick up).
    run_dbt(["run", "--select", "+tag:cross_file", "--full-refresh"], warehouse, work_dir)
    run_rules_allowing_failures(warehouse, work_dir)
    return rules_outcome(warehouse, work_dir)


def test_every_rule_passes_on_clean_data(clean: RuleRun) -> None:
    # GIVEN steady rosters, the same categories and statuses every year, one trainee on no
    # roster and a rare status gone: what real data does
    # THEN no rule reports anything
    assert clean.statuses == dict.fromkeys(RULES, "pass")


@pytest.mark.parametrize(
    ("rule", "status", "wards"),
    [
        pytest.param(
            "roster_volume_within_warn_margin", "warn", {CHIYODA, CHUO}, id="roster-30%-and-70%"
        ),
        pytest.param("roster_volume_within_error_margin", "fail", {CHUO}, id="roster-70%-only"),
        pytest.param(
            "assert_enrollment_exports_keep_their_fiscal_year_volume",
            "warn",
            {MINATO},
            id="enrolment-export-halved",
        ),
        pytest.param(
            "assert_course_categories_persist_into_latest_complete_fiscal_year",
            "warn",
            {CHIYODA},
            id="category-vanished",
        ),
        pytest.param(
            "assert_enrollment_statuses_persist_into_latest_complete_fiscal_year",
            "warn",
            {CHUO},
            id="status-vanished",
        ),
        pytest.param(
            "assert_enrolled_staff_are_on_a_ward_roster", "warn", {CHIYODA}, id="trainees-unknown"
        ),
        pytest.param(
            "assert_proposers_are_on_a_ward_roster", "warn", {CHUO}, id="proposers-unknown"
        ),
        pytest.param(
            "export_not_loaded_under_two_wards_hr_staff",
            "fail",
            {CHUO, MINATO},
            id="roster-copied-to-another-ward",
        ),
        pytest.param(
            "export_not_repeated_under_a_later_date_hr_staff",
            "warn",
            {MINATO},
            id="roster-not-refreshed",
        ),
    ],
)
def test_rule_reports_the_tampered_ward(
    tampered: RuleRun, rule: str, status: str, wards: set[str]
) -> None:
    assert (tampered.statuses[rule], tampered.failing_wards[rule]) == (status, wards)


def test_rules_of_untouched_datasets_stay_green_on_tampered_data(tampered: RuleRun) -> None:
    # GIVEN only rosters were copied between wards
    untouched = [
        name
        for name in RULES
        if name.startswith("export_not_loaded_under_two_wards_") and not name.endswith("staff")
    ]
    assert {name: tampered.statuses[name] for name in untouched} == dict.fromkeys(untouched, "pass")


def test_each_rule_has_its_severity_and_a_dagster_check_on_its_asset(clean: RuleRun) -> None:
    # GIVEN the manifest of the clean run, as Dagster loads it
    @dbt_assets(manifest=clean.manifest_path)
    def project_assets() -> Iterator[Any]:
        yield from ()

    # THEN every rule is an asset check on the asset it reads, blocking exactly when ERROR
    checks = {
        spec.name: (spec.asset_key.to_user_string(), spec.blocking)
        for spec in project_assets.check_specs
        if spec.name in RULES
    }
    assert checks == {
        name: (asset, severity == "error") for name, (severity, asset) in RULES.items()
    }
    manifest = json.loads(clean.manifest_path.read_text(encoding="utf-8"))
    severities = {
        node["name"]: node["config"]["severity"].lower()
        for node in manifest["nodes"].values()
        if "cross_file" in node.get("tags", [])
    }
    assert severities == {name: severity for name, (severity, _) in RULES.items()}


def test_a_failed_check_carries_the_rows_dbt_stored_for_it() -> None:
    con = duckdb.connect()
    con.execute("create schema dbt_test__audit")
    con.execute(
        'create table dbt_test__audit."roster_volume_within_warn_margin" as '
        "select '131016' as ward_code, 'hr/131016_staff_20250501.csv' as latest_file, "
        "0.41 as change"
    )
    failed = dg.AssetCheckResult(
        passed=False,
        check_name="roster_volume_within_warn_margin",
        asset_key=dg.AssetKey(["intermediate", "int_staff_snapshots_deduplicated"]),
        metadata={"failed_row_count": 1},
    )

    told = with_failing_rows(con, failed)

    rows = told.metadata["failing_rows"].value
    assert "131016" in rows and "hr/131016_staff_20250501.csv" in rows
    assert told.metadata["failed_row_count"].value == 1 and not told.passed
    other = failed._replace(check_name="integrity_stg_hr__staff")
    assert with_failing_rows(con, other) == other  # no stored failures: unchanged
