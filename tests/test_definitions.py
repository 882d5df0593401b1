"""The code location loads, validates, and wires what the design says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.assets.publish import POSTGRES_MARTS
from orchestration.definitions import defs
from orchestration.instance import write_instance_config
from orchestration.settings import POSTGRES_POOL, REPO_ROOT, WAREHOUSE_POOL

# Every dataset of sources.md, and the catalogue snapshot.
RAW_TABLES = {
    "hr_staff",
    "hr_skill_assessment",
    "hr_dx_leader_certification",
    "hr_external_specialist",
    "hr_personnel_exchange",
    "hr_hr_regulation",
    "training_course",
    "training_session",
    "training_enrollment",
    "proposals_proposal",
    "dx_office_dx_project",
    "dx_office_bpr_measurement",
    "dx_office_system_migration",
    "surveys_staff_survey",
    "surveys_procedure_survey",
    "opendata_package",
}


def test_dagster_definitions_validate_passes() -> None:
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DAGSTER_HOME": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_graph_has_raw_dbt_and_serving_assets() -> None:
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {f"raw/{table}" for table in RAW_TABLES} <= keys
    marts = {"marts/fct_kpi_values", "marts/dim_ward", "marts/dim_indicator"}
    assert marts | {"serving/kpi_marts"} <= keys


def test_staging_models_depend_on_the_raw_assets() -> None:
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["staging", "stg_hr__staff"])).parent_keys
    assert dg.AssetKey(["raw", "hr_staff"]) in parents


def test_every_warehouse_writer_is_in_the_single_writer_pool() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            # The PostgreSQL publication reads the serving file, never the warehouse.
            expected = POSTGRES_POOL if key == POSTGRES_MARTS else WAREHOUSE_POOL
            assert node.pools == {expected}, key


def test_suites_and_dbt_tests_are_blocking_checks() -> None:
    graph = defs.resolve_asset_graph()
    checks = {key: graph.get_check_spec(key) for key in graph.asset_check_keys}
    suites = [k for k in checks if k.name == "expectation_suite"]
    assert {k.asset_key.path[1] for k in suites} == RAW_TABLES
    assert all(checks[k].blocking for k in suites)
    dbt_checks = [k for k in checks if k.asset_key == dg.AssetKey(["marts", "fct_kpi_values"])]
    assert dbt_checks and all(checks[k].blocking for k in dbt_checks)


def test_instance_settings_limit_every_pool_to_one(tmp_path: Path) -> None:
    write_instance_config(tmp_path, postgres_url_env=False)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


def test_every_asset_sits_in_a_named_layer_group() -> None:
    graph = defs.resolve_asset_graph()
    groups = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert set(groups.values()) == {"raw", "staging", "intermediate", "marts", "serving"}
    assert groups[dg.AssetKey(["serving", "kpi_marts"])] == "serving"
    assert groups[dg.AssetKey(["marts", "fct_kpi_values"])] == "marts"


def test_sensors_and_automation_run_by_default_and_runs_stay_in_one_process() -> None:
    running = {
        sensor.name
        for sensor in defs.sensors or []
        if sensor.default_status == dg.DefaultSensorStatus.RUNNING
    }
    assert {
        "landing_zone_sensor",
        "catalogue_sensor",
        "freshness_sensor",
        "dxkpi_automation",
        "alert_sensor",
    } <= running
    job = defs.resolve_job_def("dxkpi_everything")
    assert job.executor_def.name == "in_process"
