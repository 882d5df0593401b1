"""The whole graph through Dagster on a throwaway warehouse, held against the generator's truth.

The expected KPI values are computed here from the truth the generator wrote (what it
simulated), never from the exports or the warehouse.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckEvaluation, AssetKey, DagsterInstance, ExecuteInProcessResult

from ingestion.common.dates import fiscal_year_of
from orchestration.definitions import build_definitions
from orchestration.run import run_everything
from orchestration.settings import Settings
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.generate import GeneratorConfig, generate
from sampledata.world import SURNAMES

WARDS = ["131016", "131032", "131237"]
YEARS = [2024, 2025]
pytestmark = pytest.mark.e2e


def run_pipeline(settings: Settings, instance: DagsterInstance) -> ExecuteInProcessResult:
    """What `make run` does: every asset once, in-process, on the landing zone as it is."""
    return run_everything(instance, settings)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data = tmp_path_factory.mktemp("e2e")
    generate(GeneratorConfig(data, WARDS, (25, 40), YEARS, seed=11, dirty_share=0.02))
    with CkanServer(read_catalogue(data / "catalogue" / "packages.json")) as server:
        settings = Settings(
            environment="local",
            landing_dir=data / "landing",
            warehouse_path=data / "warehouse.duckdb",
            serving_path=data / "serving" / "dxkpi.duckdb",
            ledger_path=data / "landing_ledger.sqlite",
            ckan_url=server.base_url,
            dbt_target="local",
            settle_seconds=0,
            schedules_running=False,
        )
        with DagsterInstance.ephemeral() as instance:
            first = run_pipeline(settings, instance)
            with duckdb.connect(str(settings.serving_path), read_only=True) as con:
                first_values = con.execute(
                    "select * from marts.fct_kpi_values order by all"
                ).fetchall()
            second = run_pipeline(settings, instance)
            yield {
                "instance": instance,
                "data": data,
                "settings": settings,
                "first": first,
                "second": second,
                "first_values": first_values,
            }


def read_truth(data: Path, name: str) -> list[dict[str, str]]:
    with (data / "truth" / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected_values(data: Path) -> dict[tuple[str, int, str], float | None]:
    """KPI values computed from the simulation's truth, by the definitions of indicators.yaml."""
    truth = {(r["ward_code"], int(r["fiscal_year"])): r for r in read_truth(data, "kpi_inputs.csv")}
    expected: dict[tuple[str, int, str], float | None] = {}
    for (ward, year), row in truth.items():
        if row["in_generated_years"] != "True":
            continue
        population, mandatory = int(row["population"]), int(row["mandatory_basic_courses"])
        completed = int(row["completed_all_mandatory"])
        expected[(ward, year, "m1_ksi_basic_training_completion")] = (
            100 * completed / population if population and mandatory else None
        )
        previous = truth.get((ward, year - 1))
        previous_count = int(previous["proposals"]) if previous else 0
        count = int(row["proposals"])
        expected[(ward, year, "m1_kpi_proposal_growth")] = (
            100 * (count / previous_count - 1) if previous_count and count else None
        )
        expected[(ward, year, "m1_kpi_basic_course_count")] = int(row["basic_courses"])
        expected[(ward, year, "m1_kpi_tool_training_sessions")] = int(row["tool_sessions"])
        expected[(ward, year, "m2_kpi_dx_leader_program_graduates")] = int(row["dx_graduates"])
    snapshot_year = fiscal_year_of((datetime.now(UTC) + timedelta(hours=9)).date())
    for row in read_truth(data, "open_data.csv"):
        count = int(row["active_public_datasets"])
        expected[(row["ward_code"], snapshot_year, "ctx_open_datasets")] = count
    return expected


def test_run_succeeds_and_publishes(pipeline: dict) -> None:
    assert pipeline["first"].success
    assert pipeline["settings"].serving_path.exists()
    failed = [e for e in pipeline["first"].get_asset_check_evaluations() if not e.passed]
    # Dirty rows are warnings only; the wards this sample leaves out never sent a file.
    assert {e.check_name for e in failed} <= {"ward_freshness"}
    for evaluation in failed:
        if evaluation.check_name == "ward_freshness":
            never_heard = set(evaluation.metadata["never_heard_wards"].value)
            assert len(never_heard) == 20 and not never_heard & set(WARDS)


def test_every_kpi_matches_the_truth(pipeline: dict) -> None:
    expected = expected_values(pipeline["data"])
    with duckdb.connect(str(pipeline["settings"].serving_path), read_only=True) as con:
        rows = con.execute(
            "select ward_code, fiscal_year, indicator_id, value from marts.fct_kpi_values"
        ).fetchall()
    actual = {(w, y, i): v for w, y, i, v in rows}
    assert len(expected) == len(WARDS) * (len(YEARS) * 5 + 1)
    mismatches = {
        key: (value, actual.get(key, "missing"))
        for key, value in expected.items()
        if not (
            key in actual
            and (value is None and actual[key] is None or value == pytest.approx(actual[key]))
        )
    }
    assert mismatches == {}


def test_every_dirty_row_is_left_out_and_reported(pipeline: dict) -> None:
    dirty = {
        r["source_file"]: int(r["dirty_rows"])
        for r in read_truth(pipeline["data"], "dirty_rows.csv")
    }
    with duckdb.connect(str(pipeline["settings"].warehouse_path), read_only=True) as con:
        reported = dict(
            con.execute(
                "select source_file, count(distinct source_row) from ops.row_problems group by 1"
            ).fetchall()
        )
    assert sum(dirty.values()) > 0
    assert {f: n for f, n in dirty.items() if n} == reported


def test_no_name_or_staff_number_reaches_the_warehouse(pipeline: dict) -> None:
    with duckdb.connect(str(pipeline["settings"].warehouse_path), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' "
            "and table_schema in ('raw', 'staging', 'intermediate', 'marts')"
        ).fetchall()
        text = " ".join(
            str(value)
            for schema, table, column in columns
            for (value,) in con.execute(
                f'select distinct "{column}" from {schema}.{table}'
            ).fetchall()
        )
        staff_ids = con.execute("select distinct staff_id from raw.hr_staff").fetchall()
    assert not [name for name in SURNAMES if name in text]
    assert all(len(s) == 32 and not s.isdigit() for (s,) in staff_ids)


def test_second_run_changes_nothing(pipeline: dict) -> None:
    assert pipeline["second"].success
    materialisations = [
        e
        for e in pipeline["second"].get_asset_materialization_events()
        if e.asset_key.path[0] == "raw" and e.asset_key.path[1] != "opendata_package"
    ]
    for event in materialisations:
        metadata = event.materialization.metadata
        assert metadata["loaded"].value == 0 and metadata["replaced"].value == 0
    with duckdb.connect(str(pipeline["settings"].serving_path), read_only=True) as con:
        values = con.execute("select * from marts.fct_kpi_values order by all").fetchall()
    assert values == pipeline["first_values"]


def test_a_file_failing_its_suite_blocks_publication_and_loses_nothing(pipeline: dict) -> None:
    # GIVEN the published marts of the earlier runs, and HR re-sending one roster whose 係長級
    # are all spelled with a grade outside the value set: far more than the 5% of rows the
    # quarantine takes
    settings = pipeline["settings"]
    roster = sorted((settings.landing_dir / "hr").glob("131032_staff_*.csv"))[-1]
    original = roster.read_bytes()
    text = original.decode("cp932")
    roster.write_bytes(text.replace("係長級", "課長代理").encode("cp932"))

    def published() -> list[tuple]:
        with duckdb.connect(str(settings.serving_path), read_only=True) as con:
            return con.execute("select * from meta.publication order by all").fetchall()

    def raw_rows() -> list[tuple]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(
                "select * exclude (loaded_at) from raw.hr_staff order by all"
            ).fetchall()

    before_publication, before_rows = published(), raw_rows()
    # WHEN the pipeline runs
    with DagsterInstance.ephemeral() as instance:
        result = run_pipeline(settings, instance)
    # THEN the blocking check fails and names the file, the rest of the graph does not run,
    # nothing is written, the file stays, and the published marts are the previous ones
    suite = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "expectation_suite" and e.asset_key.path == ["raw", "hr_staff"]
    ]
    assert len(suite) == 1 and not suite[0].passed
    assert roster.name in suite[0].metadata["rejections"].value
    assert "value_not_in_set on 職層" in suite[0].metadata["rejections"].value
    assert "課長代理" not in suite[0].metadata["rejections"].value  # no cell text
    assert not result.success
    assert "dxkpi_dbt_assets" not in {e.step_key for e in result.get_step_success_events()}
    assert raw_rows() == before_rows
    assert published() == before_publication
    assert roster.exists()
    roster.write_bytes(original)


def test_publishing_alone_refuses_marts_whose_last_dbt_test_failed(pipeline: dict) -> None:
    # GIVEN a failed evaluation of a blocking dbt test of the marts
    settings, instance = pipeline["settings"], pipeline["instance"]
    definitions = build_definitions(settings)
    graph = definitions.resolve_asset_graph()
    check = next(
        key
        for key in graph.asset_check_keys
        if key.asset_key.path == ["marts", "fct_kpi_values"] and graph.get_check_spec(key).blocking
    )
    instance.report_runless_asset_event(
        AssetCheckEvaluation(asset_key=check.asset_key, check_name=check.name, passed=False)
    )
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        before = con.execute("select * from meta.publication").fetchall()
    # WHEN only the publication is materialised
    job = definitions.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={AssetKey(["serving", "kpi_marts"])}
    )
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    # THEN it refuses, naming the test, and the published file is the previous one
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error.message
    assert check.name in failure
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        assert con.execute("select * from meta.publication").fetchall() == before
