"""Publication of the marts to the serving file, once they are built and checked."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.dbt import dxkpi_dbt_assets, follows_its_inputs
from orchestration.dq import publication_tables
from orchestration.resources import LandingZoneResource, ServingResource, WarehouseResource
from orchestration.serving import publish_marts
from orchestration.settings import WAREHOUSE_POOL

MART_MODELS = (
    "dim_ward",
    "dim_indicator",
    "fct_kpi_values",
    "fct_kpi_lineage",
    "mart_open_data_benchmark",
)


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


KPI_MARTS = dg.AssetKey(["serving", "kpi_marts"])
SAME_AS_WAREHOUSE_CHECK = "same_rows_as_warehouse"
THIS_BUILD_CHECK = "serves_this_build"


def _compare_with_warehouse(warehouse: Path, serving: Path) -> dict[str, tuple[int, int | None]]:
    """Row counts of every mart table: (in the warehouse, in the serving file or None)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        con.execute(f"attach '{warehouse}' as working (read_only)")
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_catalog = 'working' and table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        served = {
            row[0]
            for row in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_catalog = current_database()"
            ).fetchall()
        }
        counts: dict[str, tuple[int, int | None]] = {}
        for (table,) in tables:
            working = con.execute(f"select count(*) from working.{table}").fetchone()[0]
            published = (
                con.execute(f"select count(*) from {table}").fetchone()[0]
                if table in served
                else None
            )
            counts[table] = (working, published)
    return counts


def _publication_checks(
    warehouse: Path, serving: Path, run_id: str
) -> Iterator[dg.AssetCheckResult]:
    """Read the published file back: every mart there with its rows, and from this run."""
    counts = _compare_with_warehouse(warehouse, serving)
    differing = {t: c for t, c in counts.items() if c[0] != c[1]}
    yield dg.AssetCheckResult(
        check_name=SAME_AS_WAREHOUSE_CHECK,
        passed=bool(counts) and not differing,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "tables": len(counts),
            "differing": dg.MetadataValue.md(
                "\n".join(f"- {t}: warehouse {w}, served {s}" for t, (w, s) in differing.items())
                or "none"
            ),
        },
        description="Every mart table of the warehouse is served with the same row count",
    )
    with duckdb.connect(str(serving), read_only=True) as con:
        runs = {row[0] for row in con.execute("select run_id from meta.publication").fetchall()}
    yield dg.AssetCheckResult(
        check_name=THIS_BUILD_CHECK,
        passed=runs == {run_id},
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"served_run_ids": ", ".join(sorted(runs))},
        description="The file BI tools open now is the one this run published",
    )


@dg.asset(
    key=KPI_MARTS,
    group_name="serving",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    deps=[get_asset_key_for_model([dxkpi_dbt_assets], model) for model in MART_MODELS],
    automation_condition=follows_its_inputs(),
    description=(
        "The marts, copied to the serving DuckDB file BI tools read, by atomic replace: "
        "readers never block the pipeline and never see half a build. The data-quality "
        "history (schema dq: file outcomes, findings, per-ward status, incidents, from the "
        "landing ledger and the alert store) goes into the same file."
    ),
    check_specs=[
        dg.AssetCheckSpec(SAME_AS_WAREHOUSE_CHECK, asset=KPI_MARTS),
        dg.AssetCheckSpec(THIS_BUILD_CHECK, asset=KPI_MARTS),
    ],
)
def kpi_marts(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    serving: ServingResource,
    landing: LandingZoneResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Publish every table of the marts schema and the dq tables, unless a dbt test failed on
    its last run."""
    failing = failing_blocking_checks(context.instance)
    if failing:
        raise dg.Failure(
            description="not published: the last evaluation of these blocking dbt tests "
            f"failed: {', '.join(failing)}. The previous publication stays in place."
        )
    dq_tables = publication_tables(landing.ledger().path)
    publication = publish_marts(Path(warehouse.path), Path(serving.path), context.run_id, dq_tables)
    context.log.info(f"published {len(publication.tables)} tables to {publication.path}")
    yield dg.MaterializeResult(
        metadata={
            "path": str(publication.path),
            "published_at": publication.published_at.isoformat(),
            **{table: count for table, count in publication.tables.items()},
        }
    )
    yield from _publication_checks(Path(warehouse.path), Path(serving.path), context.run_id)
