"""The dbt project end to end on a throwaway warehouse.

One module-scoped fixture runs `dbt build` twice (a dbt invocation costs about 4 s before any
work): first on empty raw tables, which must pass with every model, seed, data test and unit
test; then, after a small hand-made scenario is inserted into the raw tables, once more
without the unit tests. The tests below only read the warehouse those builds left behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from ingestion.common.schema import ensure_raw_schema

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
INDICATORS_SEED = DBT_PROJECT_DIR / "seeds" / "indicators.csv"
INDICATORS_SPEC = REPO_ROOT.parent / "shared" / "spec" / "indicators.yaml"

MINATO = "131032"  # 港区: carries the scenario
KOTO = "131083"  # 江東区: only an open-data snapshot, for the benchmark
LOADED_AT = dt.datetime(2025, 3, 20, 9, 0, 0)
COMPUTED_INDICATORS = 20
WARDS = 23


@dataclass(frozen=True)
class Builds:
    """What the two builds left behind: the warehouse and facts seen after the empty build."""

    warehouse: Path
    work_dir: Path
    empty_fct_rows: int
    empty_dim_ward_rows: int
    empty_dim_indicator_rows: int


def dbt_executable() -> str:
    """The dbt of the running interpreter's environment, else the one on PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        pytest.skip("dbt is not installed")
    return found


def run_dbt(args: list[str], warehouse: Path, work_dir: Path) -> None:
    """Run one dbt command on `warehouse`, with its own target and log paths."""
    env = {
        **os.environ,
        "DXKPI_WAREHOUSE": str(warehouse),
        "DXKPI_DBT_TARGET": "local",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    command = [
        dbt_executable(),
        *args,
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
    result = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-6000:]}"


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, reference_date: str, rows: list[dict[str, Any]]
) -> None:
    """Insert rows into raw.<table>, as one export file of `reference_date` would arrive."""
    for source_row, row in enumerate(rows, start=1):
        lineage = {
            "ward_code": MINATO,
            "reference_date": reference_date,
            "source_file": f"{row.get('ward_code', MINATO)}_{table}_{reference_date}.csv",
            "file_sha256": f"sha-{table}-{reference_date}",
            "source_row": source_row,
            "loaded_at": LOADED_AT,
        }
        record = {**lineage, **row}
        columns = ", ".join(record)
        placeholders = ", ".join("?" for _ in record)
        con.execute(
            f"insert into raw.{table} ({columns}) values ({placeholders})", list(record.values())
        )


def insert_scenario(con: duckdb.DuckDBPyConnection) -> None:
    """港区 in FY2024: 4 staff in service, 2 of them completed the mandatory course, ...

    Expected values are in test_scenario_kpi_values; FY2023 exists only through two proposals.
    """
    staff = [
        {"staff_id": "s1", "grade": "主任"},
        {"staff_id": "s2", "grade": "係長級"},
        {"staff_id": "s3", "grade": "係員"},
    ]
    insert_rows(con, "hr_staff", "2024-04-01", [*staff, {"staff_id": "s4", "grade": "課長級"}])
    # The October snapshot is FY2024's latest: s4 retired before it, s5 joined.
    insert_rows(
        con,
        "hr_staff",
        "2024-10-01",
        [
            *staff,
            {"staff_id": "s4", "grade": "課長級", "retirement_date": "2024-09-30"},
            {"staff_id": "s5", "grade": "係員"},
        ],
    )
    courses = [
        ("C1", "デジタル基礎", "必修"),
        ("C2", "デジタル基礎", "選択"),
        ("C3", "ツール活用", "選択"),
        ("C4", "DX推進リーダー育成", "選択"),
    ]
    insert_rows(
        con,
        "training_course",
        "2024-04-01",
        [
            {"fiscal_year": 2024, "course_code": code, "category": category, "requirement": req}
            for code, category, req in courses
        ],
    )
    insert_rows(
        con,
        "training_session",
        "2025-03-01",
        [
            {"session_id": "S1", "course_code": "C3", "session_date": "2024-05-10"},
            {"session_id": "S2", "course_code": "C3", "session_date": "2024-11-10"},
            {"session_id": "S3", "course_code": "C3", "session_date": "2025-02-10"},
            {"session_id": "S4", "course_code": "C1", "session_date": "2024-06-01"},
        ],
    )
    # E2 is only 申込 in July; the October export, which supersedes it, says 修了.
    insert_rows(
        con,
        "training_enrollment",
        "2024-07-01",
        [{"enrollment_id": "E2", "staff_id": "s2", "course_code": "C1", "status": "申込"}],
    )
    enrollments = [
        ("E1", "s1", "C1", "修了", "2024-06-01"),
        ("E2", "s2", "C1", "修了", "2024-09-15"),
        ("E3", "s3", "C1", "欠席", None),
        ("E4", "s4", "C1", "修了", "2024-06-01"),  # s4 is not in the population
        ("E5", "s1", "C4", "修了", "2024-12-01"),
        ("E6", "s2", "C4", "受講中", None),
    ]
    insert_rows(
        con,
        "training_enrollment",
        "2024-10-01",
        [
            {
                "enrollment_id": enrollment_id,
                "staff_id": staff_id,
                "course_code": course_code,
                "applied_on": "2024-05-01",
                "status": status,
                "completed_on": completed_on,
            }
            for enrollment_id, staff_id, course_code, status, completed_on in enrollments
        ],
    )
    proposal_dates = ["2023-06-01", "2024-03-31", "2024-04-01", "2024-08-01", "2025-01-01"]
    insert_rows(
        con,
        "proposals_proposal",
        "2025-03-01",
        [
            {"proposal_id": f"P{number}", "submitted_on": submitted_on}
            for number, submitted_on in enumerate(proposal_dates, start=1)
        ],
    )
    insert_open_data_snapshots(con)


def package(
    ward_code: str, snapshot_id: str, taken_at: str, package_id: str, **fields: Any
) -> dict[str, Any]:
    """One CKAN package row of a catalogue snapshot (active and public unless told)."""
    return {
        "ward_code": ward_code,
        "snapshot_id": snapshot_id,
        "taken_at": taken_at,
        "organization": f"t{ward_code}",
        "package_id": package_id,
        "state": fields.get("state", "active"),
        "is_private": fields.get("is_private", False),
        "metadata_created": fields.get("created", "2023-05-01 00:00:00"),
    }


def insert_open_data_snapshots(con: duckdb.DuckDBPyConnection) -> None:
    """港区: 3 packages in June, 2 open ones at the March snapshot (one created in FY2023, one
    in FY2024); 江東区: 1, created in FY2024."""
    insert_rows(
        con,
        "opendata_package",
        "2024-06-01",
        [package(MINATO, "snapA", "2024-06-01 00:00:00", f"p{n}") for n in range(1, 4)],
    )
    insert_rows(
        con,
        "opendata_package",
        "2025-03-01",
        [
            package(MINATO, "snapB", "2025-03-01 00:00:00", "p1"),
            package(MINATO, "snapB", "2025-03-01 00:00:00", "p2", created="2024-06-01 00:00:00"),
            package(MINATO, "snapB", "2025-03-01 00:00:00", "p3", is_private=True),
            package(MINATO, "snapB", "2025-03-01 00:00:00", "p4", state="deleted"),
        ],
    )
    insert_rows(
        con,
        "opendata_package",
        "2024-09-01",
        [package(KOTO, "snapC", "2024-09-01 00:00:00", "k1", created="2024-08-01 00:00:00")],
    )


def count_rows(warehouse: Path, relation: str) -> int:
    """Number of rows of `relation` in the warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from {relation}").fetchone()[0]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    """Build on empty raw tables, then on the scenario; yield what both left behind."""
    work_dir = tmp_path_factory.mktemp("dbt")
    warehouse = work_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con)

    run_dbt(["build"], warehouse, work_dir)
    empty = {
        "empty_fct_rows": count_rows(warehouse, "marts.fct_kpi_values"),
        "empty_dim_ward_rows": count_rows(warehouse, "marts.dim_ward"),
        "empty_dim_indicator_rows": count_rows(warehouse, "marts.dim_indicator"),
    }

    with duckdb.connect(str(warehouse)) as con:
        insert_scenario(con)
    # Unit tests do not depend on data and already passed; seeds are unchanged.
    run_dbt(["build", "--exclude", "test_type:unit", "resource_type:seed"], warehouse, work_dir)
    yield Builds(warehouse=warehouse, work_dir=work_dir, **empty)


def fct_rows(warehouse: Path, ward_code: str, fiscal_year: int) -> dict[str, tuple]:
    """indicator_id -> (value, numerator, denominator, target_value, status)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select indicator_id, value, numerator, denominator, target_value, status
            from marts.fct_kpi_values
            where ward_code = ? and fiscal_year = ?
            """,
            [ward_code, fiscal_year],
        ).fetchall()
    return {indicator_id: tuple(rest) for indicator_id, *rest in rows}


def indicators_seed_rows() -> list[dict[str, str]]:
    """The rows of the indicators seed as text, in file order."""
    with INDICATORS_SEED.open(encoding="utf-8", newline="") as seed_file:
        return list(csv.DictReader(seed_file))


def test_build_on_empty_raw_tables_gives_reference_marts_and_no_kpi_rows(builds: Builds) -> None:
    assert builds.empty_dim_ward_rows == WARDS
    assert builds.empty_dim_indicator_rows == len(indicators_seed_rows())
    assert builds.empty_fct_rows == 0


def test_scenario_spine_covers_every_ward_and_fiscal_year_seen(builds: Builds) -> None:
    # GIVEN dates from FY2023 (a proposal of 2023-06-01) to FY2024
    # THEN every ward of the seed has both years for every computed indicator
    with duckdb.connect(str(builds.warehouse), read_only=True) as con:
        wards, years, indicators, rows = con.execute(
            """
            select count(distinct ward_code), count(distinct fiscal_year),
                count(distinct indicator_id), count(*)
            from marts.fct_kpi_values
            """
        ).fetchone()
    assert (wards, years, indicators) == (WARDS, 2, COMPUTED_INDICATORS)
    assert rows == WARDS * 2 * COMPUTED_INDICATORS


def test_scenario_kpi_values(builds: Builds) -> None:
    minato_2024 = fct_rows(builds.warehouse, MINATO, 2024)
    measured = {i: row for i, row in minato_2024.items() if row[4] != "no_data"}
    # The scenario's newest exports are of 2025-03-01, before FY2024 ends on 2025-03-31: every
    # value is provisional, never judged against its target yet.
    assert measured == {
        # s1 and s2 of {s1, s2, s3, s5} completed C1: s4 retired before the October snapshot
        "m1_ksi_basic_training_completion": (50.0, 2.0, 4.0, 100.0, "provisional"),
        # 3 proposals in FY2024 against 2 in FY2023
        "m1_kpi_proposal_growth": (50.0, 3.0, 2.0, 30.0, "provisional"),
        "m1_kpi_basic_course_count": (2.0, 2.0, None, 5.0, "provisional"),
        "m1_kpi_tool_training_sessions": (3.0, 3.0, None, 50.0, "provisional"),
        "m2_kpi_dx_leader_program_graduates": (1.0, 1.0, None, 30.0, "provisional"),
        # the March snapshot: p3 is private, p4 deleted
        "ctx_open_datasets": (2.0, 2.0, None, None, "provisional"),
    }
    # the other 14 indicators' sources never arrived: no data, not 0
    assert len(minato_2024) == COMPUTED_INDICATORS


def test_scenario_year_closed_in_the_data_is_judged(builds: Builds) -> None:
    # GIVEN the as-of dates: the proposals' latest export is of 2025-03-01, the catalogue's
    # of 2025-03-01; FY2023 closed on 2024-03-31, before both
    with duckdb.connect(str(builds.warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select fiscal_year, indicator_id, as_of_date, is_provisional
            from marts.fct_kpi_values
            where ward_code = ? and indicator_id in ('m1_kpi_proposal_growth', 'ctx_open_datasets')
            order by all
            """,
            [MINATO],
        ).fetchall()
    assert rows == [
        (2023, "ctx_open_datasets", dt.date(2025, 3, 1), False),
        (2023, "m1_kpi_proposal_growth", dt.date(2025, 3, 1), False),
        (2024, "ctx_open_datasets", dt.date(2025, 3, 1), True),
        (2024, "m1_kpi_proposal_growth", dt.date(2025, 3, 1), True),
    ]


def test_scenario_years_and_wards_without_data_are_no_data(builds: Builds) -> None:
    minato_2023 = fct_rows(builds.warehouse, MINATO, 2023)
    # FY2023 had no catalogue snapshot: reconstructed from the latest one, the packages
    # created by 2024-03-31 (p1); the year is closed in the data, so no longer provisional
    assert minato_2023.pop("ctx_open_datasets") == (1.0, 1.0, None, None, "no_target")
    assert {row[0] for row in minato_2023.values()} == {None}
    assert {row[4] for row in minato_2023.values()} == {"no_data"}
    # FY2023 has proposals but no FY2022 to grow from
    assert minato_2023["m1_kpi_proposal_growth"][1:3] == (2.0, 0.0)
    koto_2024 = fct_rows(builds.warehouse, KOTO, 2024)
    assert koto_2024.pop("ctx_open_datasets") == (1.0, 1.0, None, None, "provisional")
    assert {row[4] for row in koto_2024.values()} == {"no_data"}


def test_scenario_open_data_benchmark(builds: Builds) -> None:
    with duckdb.connect(str(builds.warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select fiscal_year, wards_reporting, max_open_datasets, max_ward_code,
                min_open_datasets, min_ward_code, max_min_gap_ratio
            from marts.mart_open_data_benchmark
            order by fiscal_year
            """
        ).fetchall()
    assert rows == [
        # FY2023 reconstructed: 港区 1 package created by then, 江東区 none: no ratio from 0
        (2023, 2, 1.0, MINATO, 0.0, KOTO, None),
        (2024, 2, 2.0, MINATO, 1.0, KOTO, 2.0),
    ]


def compiled_test_and_copy(builds: Builds, name: str, tmp_path: Path) -> tuple[str, Path]:
    """The SQL of a data test as the build compiled it, and a copy of the built warehouse to
    break (same file name: the compiled SQL names the database after it)."""
    (compiled,) = (builds.work_dir / "target" / "compiled").rglob(f"{name}.sql")
    copy = tmp_path / builds.warehouse.name
    shutil.copyfile(builds.warehouse, copy)
    return compiled.read_text(), copy


def test_a_null_or_a_repeated_key_fails_the_models_integrity_test_naming_it(
    builds: Builds, tmp_path: Path
) -> None:
    # GIVEN the compiled integrity test of fct_kpi_values, and a copy of the warehouse
    test, copy = compiled_test_and_copy(builds, "integrity_fct_kpi_values", tmp_path)
    with duckdb.connect(str(copy)) as con:
        # THEN it passes on the build
        assert con.execute(test).fetchall() == []
        # WHEN one KPI row loses its status and another one is repeated
        con.execute(
            "update marts.fct_kpi_values set status = null where rowid = (select min(rowid) "
            "from marts.fct_kpi_values)"
        )
        con.execute(
            "insert into marts.fct_kpi_values select * from marts.fct_kpi_values "
            "where ward_code = ? and fiscal_year = 2024 and indicator_id = 'ctx_open_datasets'",
            [MINATO],
        )
        # THEN it fails with the column and its count, and the key with its repeated value
        assert sorted(con.execute(test).fetchall()) == [
            (
                "duplicate key",
                "ward_code, fiscal_year, indicator_id",
                1,
                f"{MINATO} | 2024 | ctx_open_datasets",
            ),
            ("null", "status", 1, None),
        ]


@pytest.mark.parametrize(
    ("indicator_id", "value", "fails"),
    [
        # a BPR that left the weighted minutes higher: a legitimate negative reduction
        ("m1_kgi_routine_task_time_reduction", -2.3, False),
        ("m1_kgi_routine_task_time_reduction", 100.5, True),
        ("m1_ksi_basic_training_completion", -0.1, True),
        ("m1_ksi_basic_training_completion", 100.1, True),
        ("m1_kpi_proposal_growth", 250.0, False),
        ("m1_kpi_proposal_growth", -100.5, True),
        ("m2_ksi_certified_dx_leader_ratio", 140.0, False),
    ],
)
def test_the_percent_rate_test_bounds_each_rate_by_its_definition(
    builds: Builds, tmp_path: Path, indicator_id: str, value: float, fails: bool
) -> None:
    # GIVEN the compiled rate test, and a copy of the warehouse where one rate has `value`
    rate_test = "assert_percent_rates_within_their_bounds"
    test, copy = compiled_test_and_copy(builds, rate_test, tmp_path)
    with duckdb.connect(str(copy)) as con:
        assert con.execute(test).fetchall() == []
        con.execute(
            "update marts.fct_kpi_values set value = ? where indicator_id = ? and ward_code = ? "
            "and fiscal_year = 2024",
            [value, indicator_id, MINATO],
        )
        # THEN only a value its definition cannot give fails, naming the indicator
        sql = f"select indicator_id from ({test})"
        failed = [row[0] for row in con.execute(sql).fetchall()]
    assert failed == ([indicator_id] if fails else [])


def test_indicators_seed_matches_the_specification() -> None:
    if not INDICATORS_SPEC.exists():
        pytest.skip(f"{INDICATORS_SPEC} is not beside the repository")
    spec = yaml.safe_load(INDICATORS_SPEC.read_text(encoding="utf-8"))["indicators"]
    expected = [
        {
            "indicator_id": indicator["id"],
            "measure": str(indicator["measure"]),
            "tier": indicator["tier"],
            "name_ja": indicator["name_ja"],
            "name_en": indicator["name_en"],
            "unit": indicator["unit"],
            "direction": indicator["direction"],
            "target_value": None if indicator["target"] is None else float(indicator["target"]),
            # YAML folds the definitions over lines; the seed keeps one line.
            "definition": " ".join(str(indicator["definition"]).split()),
            "source": " ".join(
                source if isinstance(source := indicator["source"], list) else [source]
            ),
            "deadline": str(indicator.get("deadline") or ""),
        }
        for indicator in spec
    ]
    # serves_kgi and display_order are dxkpi's own (the hierarchy the spec leaves implicit)
    actual = [
        {
            **{k: v for k, v in row.items() if k not in ("serves_kgi", "display_order")},
            "target_value": float(row["target_value"]) if row["target_value"] else None,
        }
        for row in indicators_seed_rows()
    ]
    assert actual == expected
