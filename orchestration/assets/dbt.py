"""The dbt project (staging, intermediate, marts) as Dagster assets.

dbt tests of severity error arrive as blocking asset checks: a failed key or KPI invariant
stops the publication of the marts.
"""

import importlib.metadata
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.resources import WarehouseResource
from orchestration.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, WAREHOUSE_POOL, load_settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target=load_settings().dbt_target)
dbt_project.prepare_if_dev()


class DxkpiDbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without two costs of each invocation that dxkpi never uses.

    - dagster-dbt runs `dbt --version` in every run that builds (3.7 s here: it loads every
      adapter) only to learn whether dbt is the Python one. Ours is this environment's dbt-core
      (`DBT_EXECUTABLE`), whose version the installed package states.
    - Before starting dbt, it loads the dbt project, profile and macros into the Dagster
      process to hold an adapter (1-1.5 s) that only its `fetch_row_counts` and
      `fetch_column_metadata` use. dxkpi calls neither, so the invocation gets no adapter.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) != Path(DBT_EXECUTABLE):
            return super()._cli_version
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


# dbt's own variable for the level of the log file each invocation writes (dbt.log in its
# target folder). dxkpi turns that file off unless the variable asks for one: at dbt's default
# level (debug: every statement sent) a new roster's build used about 2.8 s more CPU, and
# the events it would keep at info are in the dbt step's stdout, which Dagster captures.
LOG_FILE_LEVEL_VARIABLE = "DBT_LOG_LEVEL_FILE"


def dbt_global_flags() -> list[str]:
    """The flags every dbt invocation of the pipeline starts with."""
    return ["--log-level-file", os.environ.get(LOG_FILE_LEVEL_VARIABLE, "none")]


# What `dbt parse` reads to name the nodes: a file here newer than the manifest means the
# manifest may no longer say what the project holds (a model or test added or renamed), and
# Dagster's asset checks would not match the tests dbt runs.
PARSED_FOLDERS = ("models", "macros", "tests", "seeds")
PARSED_FILES = ("dbt_project.yml",)


def manifest_is_stale(project_dir: Path, manifest: Path) -> bool:
    """The manifest is missing, or a file dbt parses changed after it was written."""
    if not manifest.exists():
        return True
    parsed_at = manifest.stat().st_mtime_ns
    files = [project_dir / name for name in PARSED_FILES]
    files += [p for folder in PARSED_FOLDERS for p in (project_dir / folder).rglob("*")]
    return any(path.is_file() and path.stat().st_mtime_ns > parsed_at for path in files)


def ensure_manifest(project: DbtProject = dbt_project) -> None:
    """Write the dbt manifest if it is missing (a fresh clone that skipped `make parse`) or
    older than the project's files (dbt files edited, then `dxkpi-run` without `make`).

    Outside `dagster dev`, DbtProject never parses by itself, and the code location cannot load
    without a manifest.
    """
    if manifest_is_stale(project.project_dir, project.manifest_path):
        DxkpiDbtCli(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            ["parse", "--quiet"]
        ).wait()


ensure_manifest()


# The raw tables: the group of the landing-zone datasets and the catalogue snapshot.
RAW_GROUP = "raw"


def inputs_changed() -> dg.AutomationCondition:
    """An input changed since the last tick, or will be built in this one.

    A raw table counts when its data version changed (`orchestration.changes`: the files
    loaded in it), not whenever its asset ran: a run that loaded nothing new (a nightly pass,
    a refused file) rebuilds nothing. Any other input counts when it was rebuilt.
    """
    condition = dg.AutomationCondition
    raw = dg.AssetSelection.groups(RAW_GROUP)
    return (
        condition.any_deps_updated().ignore(raw)
        | condition.any_deps_match(condition.data_version_changed()).allow(raw)
    ).with_label("an input changed")


def follows_its_inputs() -> dg.AutomationCondition:
    """Build when an input changed, or once when never built, and only on passed checks.

    The first branch is Dagster's `eager()` with `inputs_changed` for its updated inputs. It
    never builds what was missing before the condition was first evaluated (the seeds of a
    new deployment): the second branch builds a missing
    asset once its inputs exist, and not again after a failure (no retry loop). Both wait for
    every blocking check of the direct inputs (a refused export holds back the marts), except
    for an input built in the same run: its checks run there first and, being blocking, stop
    this asset's step if they fail. Dagster's `all_deps_blocking_checks_passed` does not count
    an input's checks as requested with it, which built a new deployment one layer per tick.
    """
    condition = dg.AutomationCondition
    build_missing = (
        condition.missing()
        & ~condition.any_deps_missing()
        & ~condition.any_deps_in_progress()
        & ~condition.in_progress()
        & ~condition.execution_failed()
    ).with_label("missing, inputs present, never failed")
    checks_passed = condition.all_checks_match(condition.check_passed(), blocking_only=True)
    inputs_usable = condition.all_deps_match(
        condition.will_be_requested() | checks_passed.with_label("all_blocking_checks_passed")
    ).with_label("each input built with it, or its blocking checks passed")
    eager = condition.eager().replace("any_deps_updated", inputs_changed())
    return (eager | build_missing) & inputs_usable


class DxkpiDbtTranslator(DagsterDbtTranslator):
    """Groups by layer (seeds sit with staging), and automation that follows the inputs."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """staging, intermediate or marts: the model's folder."""
        folder = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else ""
        return folder if folder in ("staging", "intermediate", "marts") else "staging"

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        """Every model and seed follows its inputs."""
        return follows_its_inputs()


PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# dagster-dbt's name for an invocation's target folder: <op name>-<run id>-<hash>.
INVOCATION_PREFIX = "dxkpi_dbt_assets-"

# dbt stores the failing rows of the tests configured with `store_failures` here.
FAILURES_SCHEMA = "dbt_test__audit"
FAILING_ROWS_SHOWN = 20

# `cautious`: a subset build runs only the data tests whose models are all in the subset (a
# relationships test of a mart not built in this run would fail on a missing table). Unit
# tests check the SQL, not the data: `make test` runs them, runs of the pipeline do not.
DBT_BUILD_ARGS = [
    "build",
    "--indirect-selection",
    "cautious",
    "--exclude-resource-type",
    "unit_test",
]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    pool=WAREHOUSE_POOL,
    dagster_dbt_translator=DxkpiDbtTranslator(),
)
def dxkpi_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DxkpiDbtCli, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Build the selected models, seeds and tests (dbt build), unit tests included."""
    # The dbt profile reads the warehouse path from the environment: keep one source of truth.
    os.environ["DXKPI_WAREHOUSE"] = warehouse.path
    warehouse.ensure_schemas()
    failed: list[dg.AssetCheckResult] = []
    invocation = dbt.cli(DBT_BUILD_ARGS, context=context)
    for event in invocation.stream():
        if isinstance(event, dg.AssetCheckResult) and not event.passed:
            failed.append(event)  # told once dbt has let go of the warehouse
        else:
            yield event
    keep_parse_state(
        Path(invocation.target_path), dbt_project.project_dir / dbt_project.target_path
    )
    with warehouse.connect() as con:
        yield from (with_failing_rows(con, event) for event in failed)


# Each invocation writes its own folder under target/ (dagster-dbt names it after the run):
# the newest are kept to look into, the older ones removed, so target/ does not grow forever.
INVOCATIONS_KEPT = 10


def keep_parse_state(invocation_target: Path, project_target: Path) -> None:
    """Make this invocation's parse the one the next invocation starts from.

    dagster-dbt copies `target/partial_parse.msgpack` into each invocation's folder. That file
    comes from `make parse`, whose environment differs from the pipeline's (the warehouse path
    is part of the profile), so every build parsed the whole project again (about 10 s). The
    invocation's own file, written with the pipeline's environment, replaces it (atomically:
    another run may be copying it).
    """
    state = invocation_target / PARTIAL_PARSE_FILE
    if state.exists():
        aside = project_target / f".{PARTIAL_PARSE_FILE}.{os.getpid()}"
        shutil.copyfile(state, aside)
        os.replace(aside, project_target / PARTIAL_PARSE_FILE)
    folders = sorted(
        (p for p in project_target.glob(f"{INVOCATION_PREFIX}*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )
    for old in folders[:-INVOCATIONS_KEPT]:
        shutil.rmtree(old, ignore_errors=True)


def with_failing_rows(
    con: duckdb.DuckDBPyConnection, result: dg.AssetCheckResult
) -> dg.AssetCheckResult:
    """A failed dbt test's result, with the first rows dbt stored for it (`store_failures`:
    the rules across files): the ward, files and counts to look at, in the check itself."""
    table = f'{FAILURES_SCHEMA}."{result.check_name}"'
    try:
        rows = con.execute(f"select * from {table} limit {FAILING_ROWS_SHOWN}").df()
    except duckdb.CatalogException:
        return result  # a test that stores no failures
    listing = rows.to_markdown(index=False) if not rows.empty else "none stored"
    return result._replace(
        metadata={**result.metadata, "failing_rows": dg.MetadataValue.md(listing)}
    )
