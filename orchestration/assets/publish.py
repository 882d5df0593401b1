"""Publication of the marts to the serving targets, once they are built and checked.

`serving/kpi_marts` writes a release of files (DuckDB 2.0, a DuckDB 1.x copy, Parquet) and
swaps it in; `serving/postgres_marts` copies that release into PostgreSQL. The second exists
only where DXKPI_POSTGRES_URL is set (see `orchestration.definitions`): the graph shows what a
deployment publishes, and no asset sits there failing or doing nothing for want of a server.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.dbt import dxkpi_dbt_assets, follows_its_inputs
from orchestration.changes import failed_checks
from orchestration.dq import publication_tables
from orchestration.resources import (
    LandingZoneResource,
    PostgresResource,
    ServingResource,
    WarehouseResource,
)
from orchestration.serving import publish_marts
from orchestration.serving.postgres import ServedBuild, file_build
from orchestration.serving.release import DUCKDB_FILE
from orchestration.settings import POSTGRES_POOL, WAREHOUSE_POOL

MART_MODELS = (
    "dim_ward",
    "dim_indicator",
    "fct_kpi_values",
    "fct_kpi_lineage",
    "mart_open_data_benchmark",
    "mart_kpi_scorecard",
    "mart_ward_benchmark",
    "mart_training_completion_by_grade",
    "mart_training_completion_by_department",
    "mart_skill_levels_by_item",
    "mart_staff_satisfaction_by_grade",
)


def failing_blocking_checks(instance: dg.DagsterInstance) -> list[str]:
    """The blocking dbt tests whose latest evaluation failed.

    Blocking checks stop downstream assets only within one run: publishing on its own (from
    the UI, say) must look at the latest evaluations itself.
    """
    blocking = [spec.key for spec in dxkpi_dbt_assets.check_specs if spec.blocking]
    return sorted(
        f"{key.asset_key.to_user_string()}:{key.name}" for key in failed_checks(instance, blocking)
    )


KPI_MARTS = dg.AssetKey(["serving", "kpi_marts"])
SAME_AS_WAREHOUSE_CHECK = "same_rows_as_warehouse"
THIS_BUILD_CHECK = "serves_this_build"
DOCUMENTED_CHECK = "marts_documented"
POSTGRES_MARTS = dg.AssetKey(["serving", "postgres_marts"])
SAME_AS_FILE_CHECK = "same_rows_as_file"


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
    undocumented = _undocumented_marts(serving)
    yield dg.AssetCheckResult(
        check_name=DOCUMENTED_CHECK,
        passed=not undocumented,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "undocumented": dg.MetadataValue.md(
                "\n".join(f"- {name}" for name in undocumented) or "none"
            )
        },
        description="Every mart table and column carries its dbt description as a comment",
    )


def _write_dashboard(release: Path) -> None:
    """The static dashboard of this release, from its own DuckDB file (published together)."""
    # Imported here: plotly and scipy would add seconds to every load of the code location.
    from dashboard import render_dashboard

    render_dashboard(release / DUCKDB_FILE, release / "dashboard")


def _undocumented_marts(serving: Path) -> list[str]:
    """Mart tables and columns of the served file without a comment."""
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name = 'marts' "
            "and coalesce(comment, '') = '' "
            "union all select table_name || '.' || column_name from duckdb_columns() "
            "where database_name = current_database() and schema_name = 'marts' "
            "and coalesce(comment, '') = '' order by 1"
        ).fetchall()
    return [row[0] for row in rows]


@dg.asset(
    key=KPI_MARTS,
    group_name="serving",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    deps=[get_asset_key_for_model([dxkpi_dbt_assets], model) for model in MART_MODELS],
    automation_condition=follows_its_inputs(),
    description=(
        "The marts, published as a release of files BI tools read (DuckDB 2.0, a DuckDB 1.x "
        "copy, Parquet per table, release.json) made current by one symlink swap: readers "
        "never block the pipeline and never see half a build. The data-quality history "
        "(schema dq: file outcomes, findings, per-ward status, incidents, from the landing "
        "ledger and the alert store) goes into the same release. Table and column comments "
        "(dbt's descriptions) go into every file."
    ),
    check_specs=[
        dg.AssetCheckSpec(SAME_AS_WAREHOUSE_CHECK, asset=KPI_MARTS),
        dg.AssetCheckSpec(THIS_BUILD_CHECK, asset=KPI_MARTS),
        dg.AssetCheckSpec(DOCUMENTED_CHECK, asset=KPI_MARTS),
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
    publication = publish_marts(
        Path(warehouse.path),
        Path(serving.path),
        context.run_id,
        dq_tables,
        before_swap=_write_dashboard,
    )
    context.log.info(
        f"published {len(publication.tables)} tables to {publication.path} "
        f"(release {publication.release_id})"
    )
    yield dg.MaterializeResult(
        metadata={
            "path": str(publication.path),
            "release": publication.release_id,
            "published_at": publication.published_at.isoformat(),
            **{table: count for table, count in publication.tables.items()},
        }
    )
    yield from _publication_checks(Path(warehouse.path), Path(serving.path), context.run_id)


def _postgres_checks(
    source: ServedBuild, served: ServedBuild, run_id: str
) -> Iterator[dg.AssetCheckResult]:
    """Compare what PostgreSQL serves with the file it was published from."""
    tables = sorted(set(source.rows) | set(served.rows))
    differing = [t for t in tables if source.rows.get(t) != served.rows.get(t)]
    yield dg.AssetCheckResult(
        check_name=SAME_AS_FILE_CHECK,
        passed=bool(tables) and not differing,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "tables": len(tables),
            "differing": dg.MetadataValue.md(
                "\n".join(
                    f"- {t}: file {source.rows.get(t)}, PostgreSQL {served.rows.get(t)}"
                    for t in differing
                )
                or "none"
            ),
        },
        description="Every table of the published file is in PostgreSQL with the same rows",
    )
    yield dg.AssetCheckResult(
        check_name=THIS_BUILD_CHECK,
        passed=served.run_ids == source.run_ids and served.release_ids == source.release_ids,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "served_run_ids": ", ".join(sorted(served.run_ids)),
            "file_run_ids": ", ".join(sorted(source.run_ids)),
            "served_releases": ", ".join(sorted(served.release_ids)),
            "this_run": run_id,
        },
        description=(
            "PostgreSQL serves the build of the release this run published from "
            "(meta.publication: run and release)"
        ),
    )


@dg.asset(
    key=POSTGRES_MARTS,
    group_name="serving",
    kinds={"postgres"},
    pool=POSTGRES_POOL,
    deps=[KPI_MARTS],
    automation_condition=follows_its_inputs(),
    description=(
        "The current release's tables (marts, dq, meta) in PostgreSQL, for BI tools' native "
        "drivers: built aside in <schema>__build_<id> schemas and swapped in by renaming in one "
        "transaction, so a pooled connection sees the new build at its next query and never "
        "half of one. BI logs in as the read-only reader role (DXKPI_POSTGRES_READER). Reads "
        "the serving file, not the warehouse: outside the warehouse's pool."
    ),
    check_specs=[
        dg.AssetCheckSpec(SAME_AS_FILE_CHECK, asset=POSTGRES_MARTS),
        dg.AssetCheckSpec(THIS_BUILD_CHECK, asset=POSTGRES_MARTS),
    ],
)
def postgres_marts(
    context: dg.AssetExecutionContext, serving: ServingResource, postgres: PostgresResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Publish the current release's DuckDB file to PostgreSQL, then read it back."""
    source = serving.current_file()
    publication = postgres.publish(source, context.run_id, context.log)
    yield dg.MaterializeResult(
        metadata={
            "release": source.parent.name,
            "build_id": publication.build_id,
            "swap_attempts": publication.swap_attempts,
            "old_schemas_left": ", ".join(publication.left_behind) or "none",
            **publication.tables,
        }
    )
    yield from _postgres_checks(file_build(source), postgres.served_build(), context.run_id)
