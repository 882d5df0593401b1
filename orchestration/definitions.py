"""The dxkpi code location: assembles assets, checks, jobs, schedules and resources."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.assets.dbt import DxkpiDbtCli, dbt_global_flags, dbt_project, dxkpi_dbt_assets
from orchestration.assets.landing import landing_assets, landing_zone, unrecognised_files
from orchestration.assets.opendata import opendata_package
from orchestration.assets.publish import kpi_marts, postgres_marts
from orchestration.jobs import automation_sensor, everything_job, nightly_schedule
from orchestration.resources import (
    CkanResource,
    LandingZoneResource,
    PostgresResource,
    ServingResource,
    WarehouseResource,
)
from orchestration.sensors.alerts import alert_sensor
from orchestration.sensors.catalogue import catalogue_sensor
from orchestration.sensors.freshness import freshness_sensor, ward_freshness_checks
from orchestration.sensors.landing import landing_zone_sensor
from orchestration.settings import DBT_EXECUTABLE, Settings, load_settings


def _from_environment(variable: str, value: str) -> str | dg.EnvVar:
    """`value`, as a reference to `variable` when it came from there: Dagster then shows the
    variable's name, not a secret (a URL may carry a password), in its UI."""
    return dg.EnvVar(variable) if os.environ.get(variable, "").strip() == value else value


def postgres_resources(settings: Settings) -> dict[str, object]:
    """The PostgreSQL target's resource, when the environment has one."""
    if not settings.postgres_url:
        return {}
    password = os.environ.get("DXKPI_POSTGRES_READER_PASSWORD")
    return {
        "postgres": PostgresResource(
            url=_from_environment("DXKPI_POSTGRES_URL", settings.postgres_url),
            reader_role=settings.postgres_reader,
            reader_password=dg.EnvVar("DXKPI_POSTGRES_READER_PASSWORD") if password else None,
        )
    }


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources of an environment."""
    return {
        **postgres_resources(settings),
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "landing": LandingZoneResource(
            path=str(settings.landing_dir),
            settle_seconds=settings.settle_seconds,
            ledger_path=str(settings.ledger_path),
            data_docs_dir=str(settings.data_docs_dir or ""),
        ),
        "ckan": CkanResource(base_url=settings.ckan_url),
        "serving": ServingResource(path=str(settings.serving_path)),
        "dbt": DxkpiDbtCli(
            project_dir=dbt_project,
            dbt_executable=DBT_EXECUTABLE,
            global_config_flags=dbt_global_flags(),
        ),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything Dagster loads, for the given settings.

    Runs execute in one process (`in_process_executor`): every step that writes the warehouse
    waits for the one slot of its pool anyway, and a process per step costs seconds each.
    The PostgreSQL publication is there only when DXKPI_POSTGRES_URL is set.
    """
    serving = [kpi_marts, *([postgres_marts] if settings.postgres_url else [])]
    return dg.Definitions(
        assets=[landing_zone, *landing_assets, opendata_package, dxkpi_dbt_assets, *serving],
        asset_checks=[unrecognised_files, *ward_freshness_checks],
        jobs=[everything_job],
        schedules=[nightly_schedule()],
        sensors=[
            landing_zone_sensor,
            catalogue_sensor,
            freshness_sensor,
            automation_sensor,
            alert_sensor,
        ],
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_settings())
