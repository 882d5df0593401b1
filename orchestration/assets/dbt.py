"""The dbt project (staging, intermediate, marts) as Dagster assets.

dbt tests of severity error arrive as blocking asset checks: a failed key or KPI invariant
stops the publication of the marts.
"""

import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from orchestration.resources import WarehouseResource
from orchestration.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, WAREHOUSE_POOL, load_settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target=load_settings().dbt_target)
dbt_project.prepare_if_dev()


def ensure_manifest(project: DbtProject = dbt_project) -> None:
    """Write the dbt manifest if it is missing (a fresh clone that skipped `make parse`).

    Outside `dagster dev`, DbtProject never parses by itself, and the code location cannot load
    without a manifest.
    """
    if not project.manifest_path.exists():
        DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            ["parse", "--quiet"]
        ).wait()


ensure_manifest()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, pool=WAREHOUSE_POOL)
def dxkpi_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Build the selected models, seeds and tests (dbt build), unit tests included."""
    # The dbt profile reads the warehouse path from the environment: keep one source of truth.
    os.environ["DXKPI_WAREHOUSE"] = warehouse.path
    warehouse.ensure_schemas()
    yield from dbt.cli(["build"], context=context).stream()
