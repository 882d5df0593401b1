"""The dxkpi code location: assembles assets, checks, jobs, schedules and resources."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import dbt_project, dxkpi_dbt_assets
from orchestration.assets.landing import landing_assets, landing_zone, unrecognised_files
from orchestration.assets.opendata import opendata_package
from orchestration.assets.publish import kpi_marts
from orchestration.jobs import automation_sensor, everything_job, nightly_schedule
from orchestration.resources import (
    CkanResource,
    LandingZoneResource,
    ServingResource,
    WarehouseResource,
)
from orchestration.sensors.alerts import alert_sensor
from orchestration.sensors.catalogue import catalogue_sensor
from orchestration.sensors.freshness import freshness_sensor, ward_freshness_checks
from orchestration.sensors.landing import landing_zone_sensor
from orchestration.settings import DBT_EXECUTABLE, Settings, load_settings


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources of an environment."""
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "landing": LandingZoneResource(
            path=str(settings.landing_dir),
            settle_seconds=settings.settle_seconds,
            ledger_path=str(settings.ledger_path),
            data_docs_dir=str(settings.data_docs_dir or ""),
        ),
        "ckan": CkanResource(base_url=settings.ckan_url),
        "serving": ServingResource(path=str(settings.serving_path)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything Dagster loads, for the given settings.

    Runs execute in one process (`in_process_executor`): every step that writes the warehouse
    waits for the one slot of its pool anyway, and a process per step costs seconds each.
    """
    return dg.Definitions(
        assets=[landing_zone, *landing_assets, opendata_package, dxkpi_dbt_assets, kpi_marts],
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
