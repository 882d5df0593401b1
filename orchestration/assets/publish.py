"""Publication of the marts to the serving file, once they are built and checked."""

from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.dbt import dxkpi_dbt_assets
from orchestration.resources import ServingResource, WarehouseResource
from orchestration.serving import publish_marts
from orchestration.settings import WAREHOUSE_POOL

MART_MODELS = ("dim_ward", "dim_indicator", "fct_kpi_values", "mart_open_data_benchmark")


def failing_blocking_checks(instance: dg.DagsterInstance) -> list[str]:
    """The blocking dbt tests whose latest evaluation failed.

    Blocking checks stop downstream assets only within one run: publishing on its own (from
    the UI, say) must look at the latest evaluations itself.
    """
    blocking = [spec.key for spec in dxkpi_dbt_assets.check_specs if spec.blocking]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(blocking)
    return sorted(
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key, record in latest.items()
        if record.status.value == "FAILED"  # the record status enum is not public API
    )


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
    """Publish every table of the marts schema, unless a dbt test failed on its last run."""
    failing = failing_blocking_checks(context.instance)
    if failing:
        raise dg.Failure(
            description="not published: the last evaluation of these blocking dbt tests "
            f"failed: {', '.join(failing)}. The previous publication stays in place."
        )
    publication = publish_marts(Path(warehouse.path), Path(serving.path), context.run_id)
    context.log.info(f"published {len(publication.tables)} tables to {publication.path}")
    return dg.MaterializeResult(
        metadata={
            "path": str(publication.path),
            "published_at": publication.published_at.isoformat(),
            **{table: count for table, count in publication.tables.items()},
        }
    )
