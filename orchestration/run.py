"""`make run` / `dxkpi-run`: process the landing zone as it is, once, without a daemon.

For cron-minded engineers and CI: runs in one process on the Dagster instance of DAGSTER_HOME
(so the runs show in the UI later). A first run reads every complete export that is not loaded
yet (and snapshots the catalogue once a day); a second builds and publishes only what that
made stale, and is not needed when nothing new arrived. Nothing is generated and nothing in
the landing zone is touched. Exits non-zero when the run
failed or a blocking check refused a file; prints what happened to the files either way.

    dxkpi-run            # uses the settings of the environment (see .env.example)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from orchestration.assets.landing import UNRECOGNISED_CHECK
from orchestration.dq import summary_for
from orchestration.instance import prepare_dagster_home
from orchestration.sensors.freshness import CHECK_NAME as FRESHNESS_CHECK
from orchestration.serving.locations import where_published
from orchestration.settings import Settings, duckdb_config, load_settings

if TYPE_CHECKING:
    from orchestration.resources import LandingZoneResource

INGEST_GROUP = "raw"
# Checks of their own (no asset step) judged on every pass, whatever was loaded: which wards
# are late (time passes without a file) and which landing files no contract reads.
PASS_CHECKS = {FRESHNESS_CHECK, UNRECOGNISED_CHECK}


@dataclass
class PipelineRun:
    """The runs of one pass over the landing zone: the inputs, then what they made stale.

    Attributes:
        runs: The in-process runs, inputs first (one, or two when anything was stale).
        built: The assets the second run was asked to build (empty: nothing had changed).
        held_back: Why nothing was built although something was stale ("" when not held).
    """

    runs: list[dg.ExecuteInProcessResult] = field(default_factory=list)
    built: set[dg.AssetKey] = field(default_factory=set)
    held_back: str = ""

    @property
    def success(self) -> bool:
        """Every run succeeded."""
        return all(run.success for run in self.runs)

    def get_asset_check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        """The check evaluations of every run, in order."""
        return [e for run in self.runs for e in run.get_asset_check_evaluations()]

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        """The materialisations of every run, in order."""
        return [e for run in self.runs for e in run.get_asset_materialization_events()]

    def get_step_success_events(self) -> list[dg.DagsterEvent]:
        """The steps that succeeded in every run, in order."""
        return [e for run in self.runs for e in run.get_step_success_events()]


def _catalogue_due(instance: dg.DagsterInstance) -> bool:
    """A catalogue snapshot is taken once per JST day (the catalogue sensor's cadence)."""
    from orchestration.sensors.catalogue import jst_today, last_snapshot_date, snapshot_due

    return snapshot_due(last_snapshot_date(instance), jst_today())


def tables_with_new_files(landing: LandingZoneResource) -> set[str]:
    """The raw tables with a complete export version the landing ledger has not seen.

    The same question the landing sensor asks every tick: one survey of the landing zone, a
    hash of only the files whose stat moved, one look at the ledger.
    """
    from ingestion.common.landing import table_of

    ledger = landing.ledger()
    versions = ledger.hash_files(Path(landing.path), [e.path for e in landing.survey().exports])
    known = ledger.known(versions.values())
    return {table_of(v.path) for v in versions.values() if (v.path, v.sha256) not in known}


def _inputs_run(
    job: dg.JobDefinition,
    graph: dg.AssetGraph,
    instance: dg.DagsterInstance,
    landing: LandingZoneResource,
) -> dg.JobDefinition:
    """The first run: the raw assets with a new file (all never materialised ones too) with
    their checks, the catalogue when due, and the checks judged on every pass (`PASS_CHECKS`)."""
    from orchestration.assets.opendata import ASSET_KEY as CATALOGUE

    raw = {k for k in graph.materializable_asset_keys if graph.get(k).group_name == INGEST_GROUP}
    latest = instance.get_latest_materialization_events(list(raw))
    new_files = tables_with_new_files(landing)
    selected = {
        key
        for key in raw
        if latest.get(key) is None
        or (key == CATALOGUE and _catalogue_due(instance))
        or (key != CATALOGUE and key.path[-1] in new_files)
    }
    checks = {
        check
        for check in graph.asset_check_keys
        if check.asset_key in selected or check.name in PASS_CHECKS
    }
    return job.get_subset(asset_selection=selected, asset_check_selection=checks)


def run_everything(
    instance: dg.DagsterInstance | None = None, settings: Settings | None = None
) -> PipelineRun:
    """Load what is new, then build only what it made stale, in-process.

    The first run reads the raw datasets that have a new export version (and the catalogue
    when today's snapshot is not taken yet) and evaluates the raw group's checks; the second
    builds the dbt models and publications that are stale (`orchestration.changes`): none
    when nothing new was loaded, everything the first time. A refused export (a failed
    blocking check) holds the second run back, as it holds back the marts under the daemon.
    Runs go on `instance`, or the one of DAGSTER_HOME.
    """
    if instance is None:
        with dg.DagsterInstance.get() as local:
            return run_everything(local, settings)
    from ingestion.common.loader import ensure_ops_schema
    from orchestration.changes import stale_assets, warehouse_identity
    from orchestration.definitions import build_definitions

    settings = settings or load_settings()
    definitions = build_definitions(settings)
    graph = definitions.resolve_asset_graph()
    job = definitions.resolve_job_def("dxkpi_everything")
    outcome = PipelineRun()
    inputs = _inputs_run(job, graph, instance, definitions.resources["landing"])
    outcome.runs.append(inputs.execute_in_process(instance=instance, raise_on_error=False))
    refused = failed_blocking_checks(outcome.runs[0])
    if not outcome.success or refused:
        outcome.held_back = "the inputs' run failed or refused a file: marts not rebuilt"
        return outcome
    targets = {
        key for key in graph.materializable_asset_keys if graph.get(key).group_name != INGEST_GROUP
    }
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path), config=duckdb_config()) as con:
        ensure_ops_schema(con)
        _, born = warehouse_identity(con)
    outcome.built = stale_assets(instance, graph, targets, born)
    if outcome.built:
        build = job.get_subset(asset_selection=outcome.built)
        outcome.runs.append(build.execute_in_process(instance=instance, raise_on_error=False))
    return outcome


def failed_blocking_checks(result: dg.ExecuteInProcessResult | PipelineRun) -> list[str]:
    """`asset:check` of every ERROR check that failed in the run(s)."""
    return [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]


def file_summary() -> str:
    """How many file versions of the landing ledger are in each state."""
    states = _ledger().state_counts()
    return ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "none"


def _ledger():
    from orchestration.resources import LandingZoneResource

    settings = load_settings()
    return LandingZoneResource(
        path=str(settings.landing_dir), ledger_path=str(settings.ledger_path)
    ).ledger()


def report(result: PipelineRun) -> bool:
    """Print the outcome of a pass; True when it succeeded and no blocking check failed."""
    failed = failed_blocking_checks(result)
    for check in failed:
        print(f"blocking check failed: {check}")
    if result.held_back:
        print(result.held_back)
    elif len(result.runs) == 1:
        print("nothing new since the last build: marts not rebuilt, publication unchanged")
    else:
        print(f"built {len(result.built)} stale assets")
    print(f"landing files: {file_summary()}")
    return result.success and not failed


def main(argv: list[str] | None = None) -> None:
    """Entry point of `dxkpi-run`."""
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    prepare_dagster_home()
    settings = load_settings()
    print(f"processing {settings.landing_dir}", flush=True)
    succeeded = report(run_everything())
    print(f"\n{summary_for(settings)}")
    if not succeeded:
        sys.exit("the run did not finish cleanly: see above, or the run in the Dagster UI")
    print(where_published(settings))


if __name__ == "__main__":
    main()
