"""Publication of the marts to the serving file, once they are built and checked."""

from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.dbt import dxkpi_dbt_assets
from orchestration.resources import ServingResource, WarehouseResource
from orchestration.serving import publish_marts
from orchestration.settings import WAREHOUSE_POOL

MART_MODELS = ("dim_ward", "dim_indicator", "fct_kpi_values", "mart_open_data_benchmark")


@dg.asset(
    key=dg.AssetKey(["serving", "kpi_marts"]),
    group_name="serving",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    deps=[get_asset_key_for_model([dxkpi_dbt_assets], model) for model in MART_MODELS],
    description=(
        "The marts, copied to the serving DuckDB file BI tools read, by atomic replace: "
        "readers never block the pipeline and never see half a build."
    ),
)
def kpi_marts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, serving: ServingResource
) -> dg.MaterializeResult:
    """Publish every table of the marts schema."""
    publication = publish_marts(Path(warehouse.path), Path(serving.path), context.run_id)
    context.log.info(f"published {len(publication.tables)} tables to {publication.path}")
    return dg.MaterializeResult(
        metadata={
            "path": str(publication.path),
            "published_at": publication.published_at.isoformat(),
            **{table: count for table, count in publication.tables.items()},
        }
    )
