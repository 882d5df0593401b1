"""The landing-zone sensor: each new file version loaded exactly once, in few runs.

Every tick surveys the landing zone, hashes the files whose size or mtime moved, and asks for
one run (a few for a very large burst) that reads every complete file version the ledger has
not seen, naming each version (path and SHA-256) in the run's config. The ledger row of a
version is written before the run is asked for, so:

- the same bytes never start a second run, whatever their mtime; a corrected re-export (new
  bytes, same name) does;
- a tick that fails, or a daemon killed between a request and its launch, loses nothing: a
  requested batch with no run is asked for again, under the same run key, so Dagster launches
  it at most once;
- a run that ends without an outcome for a file (a crash) is retried twice under a new run
  key, then the file is marked `run_failed`: a file that keeps failing does not loop.

Files no contract reads are recorded as `not_recognised` and reported by the WARN check
`landing/zone:unrecognised_files`, evaluated by the sensor whenever the list changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from ingestion.common.landing import table_of
from ingestion.common.ledger import RUN_FAILED, FileVersion, Ledger, LedgerEntry
from orchestration.assets.landing import landing_assets, record_unrecognised, unrecognised_result
from orchestration.assets.opendata import opendata_package
from orchestration.resources import LandingZoneResource

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

SENSOR_NAME = "landing_zone_sensor"
RUN_KEY_TAG = "dagster/run_key"  # the tag Dagster puts on a run launched with a run key
# A burst larger than this (a national re-export, say) is split into several runs.
MAX_FILES_PER_RUN = 2000
MAX_ATTEMPTS = 3
REPROCESS_PREFIX = "reprocess-"
_FINISHED = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}
_IN_FLIGHT = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
}
# Raw table (e.g. hr_staff) -> the asset that loads it.
_ASSETS = {asset.key.path[-1]: asset for asset in landing_assets}


def batch_run_key(versions: Iterable[FileVersion], retrying: Iterable[str] = ()) -> str:
    """A run key naming exactly these file versions (and the dead runs they are retried from:
    a retry of the same versions needs a key Dagster has not launched yet)."""
    lines = sorted(f"{v.path}@{v.sha256}" for v in versions) + sorted(retrying)
    return "landing-" + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:24]


def run_request(
    run_key: str,
    versions: Sequence[FileVersion],
    graph: BaseAssetGraph,
    tables: Iterable[str] = (),
    everything: bool = False,
    reprocess: bool = False,
) -> dg.RunRequest:
    """The run that reads these file versions and builds and publishes what follows from them.

    The run selects the raw assets of the versions (and of `tables`, even without a file) and
    everything downstream (`everything`: every asset): one run, one process, from export to
    published marts. Inside it the blocking suite checks hold back dbt and the publication
    when a file is refused. With `reprocess`, the versions are read again even if they were
    loaded or refused before (an operator's request).
    """
    files: dict[str, dict[str, str]] = {table: {} for table in tables}
    for version in versions:
        files.setdefault(table_of(version.path), {})[version.path] = version.sha256
    ops = {
        _ASSETS[table].op.name: {
            "config": {"files": named, "reprocess": sorted(named) if reprocess else []}
        }
        for table, named in files.items()
    }
    raw = [_ASSETS[table].key for table in sorted(files)]
    selection = dg.AssetSelection.assets(*raw).downstream().resolve(graph)
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=sorted(graph.materializable_asset_keys if everything else selection),
        run_config={"ops": ops},
        tags={"dxkpi/landing_files": str(len(versions))},
    )


def _chunks(versions: list[FileVersion]) -> Iterable[list[FileVersion]]:
    for start in range(0, len(versions), MAX_FILES_PER_RUN):
        yield versions[start : start + MAX_FILES_PER_RUN]


def _run_of(instance: dg.DagsterInstance, run_key: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1)
    return runs[0] if runs else None


def _follow_up(
    instance: dg.DagsterInstance, ledger: Ledger, graph: BaseAssetGraph, log: logging.Logger
) -> tuple[list[dg.RunRequest], list[FileVersion], list[str]]:
    """Requests whose run never started (asked again), versions whose run died (to retry) and
    the ids of those dead runs."""
    again: list[dg.RunRequest] = []
    retry: list[FileVersion] = []
    dead_runs: list[str] = []
    for run_key, entries in ledger.requested().items():
        run = _run_of(instance, run_key)
        versions = [FileVersion(e.path, e.sha256, e.size) for e in entries]
        if run is None:
            reprocess = run_key.startswith(REPROCESS_PREFIX)
            again.append(run_request(run_key, versions, graph, reprocess=reprocess))
        elif run.status in _FINISHED:
            retry += _retry_or_give_up(ledger, run, entries, log)
            dead_runs.append(run.run_id)
    return again, retry, dead_runs


def _retry_or_give_up(
    ledger: Ledger, run: dg.DagsterRun, entries: list[LedgerEntry], log: logging.Logger
) -> list[FileVersion]:
    retry = [FileVersion(e.path, e.sha256, e.size) for e in entries if e.attempts < MAX_ATTEMPTS]
    given_up = [e for e in entries if e.attempts >= MAX_ATTEMPTS]
    reason = f"run {run.run_id} ended {run.status.value} without an outcome for this file"
    if given_up:
        ledger.record_many(
            ((FileVersion(e.path, e.sha256, e.size), RUN_FAILED, reason) for e in given_up),
            run.run_id,
        )
        log.error(f"{len(given_up)} files given up after {MAX_ATTEMPTS} runs: {reason}")
    if retry:
        log.warning(f"{len(retry)} files asked for again: {reason}")
    return retry


def _reprocess_requests(
    ledger: Ledger, landing: LandingZoneResource, graph: BaseAssetGraph, log: logging.Logger
) -> list[dg.RunRequest]:
    """One run for the files an operator asked to read again (`dxkpi-dq reprocess`)."""
    pending = ledger.pending_reprocess()
    if not pending:
        return []
    root = Path(landing.path)
    survey = landing.survey()
    exports = {e.path.relative_to(root).as_posix(): e.path for e in survey.exports}
    present = [r for r in pending if r.path in exports]
    for gone in (r for r in pending if r.path not in exports):
        log.warning(f"reprocess #{gone.id}: {gone.path} is not a complete export here: skipped")
    run_key = f"{REPROCESS_PREFIX}{pending[-1].id}"
    versions = list(ledger.hash_files(root, [exports[r.path] for r in present]).values())
    if versions:
        ledger.request(versions, run_key)
    ledger.dispatch_reprocess([r.id for r in pending], run_key)
    if not versions:
        return []
    log.info(f"{len(versions)} files read again on request ({run_key})")
    return [run_request(run_key, versions, graph, reprocess=True)]


def _sensor_run_in_flight(instance: dg.DagsterInstance) -> bool:
    """Whether a run this sensor asked for is queued or running."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={"dagster/sensor_name": SENSOR_NAME}, statuses=list(_IN_FLIGHT)),
        limit=1,
    )
    return bool(runs)


def _never_materialised(instance: dg.DagsterInstance) -> list[dg.AssetKey]:
    """Raw assets never materialised (a new deployment, a new dataset)."""
    keys = [asset.key for asset in landing_assets] + [opendata_package.key]
    latest = instance.get_latest_materialization_events(keys)
    return [key for key in keys if latest.get(key) is None]


def _unrecognised_evaluation(
    landing: LandingZoneResource, cursor: dict[str, str], survey_strays: list
) -> list[dg.AssetCheckEvaluation]:
    """Evaluate `unrecognised_files` when the list of unrecognised files changed."""
    signature = hashlib.sha256(
        "\n".join(f"{u.path}\t{u.reason}" for u in survey_strays).encode()
    ).hexdigest()[:16]
    if cursor.get("unrecognised") == signature:
        return []
    cursor["unrecognised"] = signature
    record_unrecognised(landing, survey_strays)
    return [unrecognised_result(survey_strays, Path(landing.path))]


def _sizes(root: Path, paths: Iterable[Path]) -> list[tuple[str, int]]:
    sizes = []
    for path in paths:
        try:
            sizes.append((path.relative_to(root).as_posix(), path.stat().st_size))
        except FileNotFoundError:
            continue
    return sizes


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    target=dg.AssetSelection.all(),
    description="Loads each complete new file version of the landing zone once, in few runs.",
)
def landing_zone_sensor(
    context: dg.SensorEvaluationContext, landing: LandingZoneResource
) -> dg.SensorResult:
    """One tick: survey, hash what moved, record and request what is new."""
    cursor: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    ledger = landing.ledger()
    survey = landing.survey()
    events = _unrecognised_evaluation(landing, cursor, survey.unrecognised)
    versions = ledger.hash_files(Path(landing.path), [e.path for e in survey.exports])
    known = ledger.known(versions.values())
    new = [v for v in versions.values() if (v.path, v.sha256) not in known]
    graph = context.repository_def.asset_graph
    requests, retry, dead_runs = _follow_up(context.instance, ledger, graph, context.log)
    requests += _reprocess_requests(ledger, landing, graph, context.log)
    pending = new + retry
    for chunk in _chunks(pending):
        run_key = batch_run_key(chunk, dead_runs if retry else ())
        ledger.request(chunk, run_key)
        requests.append(run_request(run_key, chunk, graph))
    missing = [] if requests else _never_materialised(context.instance)
    if missing and not ledger.requested() and not _sensor_run_in_flight(context.instance):
        # A new deployment (or a new dataset): every asset once, so that the marts exist
        # and automation has inputs to follow. Raw assets never materialised read nothing
        # (their files come through the ledger), the others scan for what is not loaded.
        tables = [key.path[-1] for key in missing if key.path[-1] in _ASSETS]
        run_key = "landing-first-" + "-".join(key.path[-1] for key in missing)
        requests.append(run_request(run_key, [], graph, tables, everything=True))
    ledger.record_settling(_sizes(Path(landing.path), survey.settling))
    if survey.settling:
        context.log.info(f"{len(survey.settling)} files still being written")
    if pending:
        context.log.info(f"{len(pending)} file versions asked for in {len(requests)} runs")
    return dg.SensorResult(run_requests=requests, asset_events=events, cursor=json.dumps(cursor))
