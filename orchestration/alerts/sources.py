"""Where incidents come from: Dagster's event log and the landing ledger.

Each source turns what it reads into `Transition`s (open or resolve an incident key):

- asset check evaluations (`check:<asset>:<check>`): a failed check opens, whatever its
  severity (ERROR or WARN, blocking or not); the same check passing later resolves. Read from
  the event log with a cursor of storage ids, so each evaluation is seen once. This covers the
  suites, dbt tests, `ward_freshness` (wards overdue), `catalogue_reachable` and
  `unrecognised_files`.
- failed runs (`run:<job>:<origin>`, the origin being the sensor or schedule that asked for the
  run, or `manual`): a RUN_FAILURE opens; the next RUN_SUCCESS of the same job and origin
  resolves. Runs of the landing sensor all share one target: one incident while its runs fail.
- freshness (`freshness:<asset>`): FRESHNESS_STATE_CHANGE to FAIL (ERROR) or WARN opens, to PASS
  resolves. WARN then FAIL stays one open incident (no second message).
- refused files (`file:<path>`): the newest version of a path in the landing ledger is
  `rejected`, `still_rejected`, `run_failed` or `not_recognised`: open; a newer version of the
  path loaded, replaced or unchanged, or the file gone from the landing zone: resolve. This
  source reads state, not events, so it is idempotent by construction.

Messages carry file names, rules and counts only: never cell values. A refusal reason from a
suite may quote sample values (`...: values a, b`); `safe_reason` cuts them off.

Event records are read from the event log's index (`SqlEventLogStorage._get_event_records`):
the default run-sharded SQLite storage mirrors check evaluations and run status changes in its
index shard, where storage ids are one increasing sequence, but its public `get_event_records`
refuses an integer cursor for them. PostgreSQL and in-memory storages read the same table.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.event_api import EventLogRecord, EventRecordsFilter
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

from ingestion.common.ledger import NOT_RECOGNISED, RECEIVED_STATES, RUN_FAILED, LedgerEntry
from ingestion.common.problems import safe_reason
from ingestion.registry import FILE_CONTRACTS
from orchestration.alerts.incidents import ERROR, WARN, Incident, Transition, ui_url
from orchestration.cursor import JsonCursor

# Event records read per kind and tick; the rest waits for the next tick.
EVENTS_PER_TICK = 500
REFUSED_STATES = frozenset({"rejected", "still_rejected", RUN_FAILED, NOT_RECOGNISED})
# A file incident's key is this prefix and the file's path under the landing zone.
FILE_KEY_PREFIX = "file:"
ASSET_JOB = "__ASSET_JOB"
BLOCKING_CHECK_ERROR = "DagsterAssetCheckFailedError"
PER_FILE_CHECKS = frozenset({"expectation_suite", "outstanding_rejections"})
LANDING_TABLES = frozenset(contract.table for contract in FILE_CONTRACTS.values())

CHECK_ACTIONS = {
    "expectation_suite": (
        "A catalogue snapshot was refused by its suite: open the check for the rule and rows "
        "that failed. The previous snapshot and the published marts stand; the next snapshot "
        "is checked again."
    ),
    "outstanding_rejections": (
        "Refused files wait for a corrected export: ask the wards named in the file alerts."
    ),
    "file_warnings": (
        "Files loaded but deserve a look (a column the contract does not know, a suite "
        "warning): open the check, or `dxkpi-dq explain <file>`; update the contract in "
        "ingestion/ if the export changed for good, or ask the ward."
    ),
    "ward_freshness": (
        "Wards are late with this dataset: open the check for which wards and since when, "
        "and ask them for their export (or adjust orchestration/freshness.yaml)."
    ),
    "catalogue_reachable": (
        "The open-data catalogue does not answer: nothing to do if it is a short outage; "
        "otherwise check DXKPI_CKAN_URL and the network. The last snapshot stands."
    ),
    "unrecognised_files": (
        "Files in the landing zone match no contract: rename or move them to "
        "<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv, or remove them."
    ),
}
BLOCKING_ACTION = (
    "A blocking check failed: downstream models and the publication wait. Open the check in "
    "Dagster, correct the input and materialise again."
)
WARN_ACTION = (
    "Reported, not blocking: open the check in Dagster and decide whether the source needs a "
    "correction."
)
RUN_ACTION = (
    "Open the run in Dagster, read the failing step's error, fix the cause and re-execute; "
    "the next successful run of the same target resolves this."
)
FRESHNESS_ACTION = (
    "No new data within the dataset's cadence: see the ward_freshness check for which wards "
    "are late, and whether the landing sensor and the daemon are running."
)
FILE_ACTIONS = {
    "rejected": (
        "`dxkpi-dq explain <file>` lists the cause and the rows behind it. Ask the ward for a "
        "corrected export and drop it under the same name; after a rule or reference change, "
        "`dxkpi-dq reprocess <file>`. The published marts keep the previous build until then."
    ),
    "still_rejected": (
        "The same refused bytes came again: ask the ward for a corrected export (same name)."
    ),
    RUN_FAILED: (
        "Three runs died reading this file: open the run's logs, fix the cause, then "
        "`dxkpi-dq reprocess <file>`."
    ),
    NOT_RECOGNISED: (
        "Rename or move the file to <system>/<ward_code>_<dataset>_<YYYYMMDD>.csv, or remove "
        "it if it does not belong in the landing zone."
    ),
}


# Links -----------------------------------------------------------------------------------


def asset_link(key: dg.AssetKey, checks: bool = False) -> str:
    """The asset's page in the Dagster UI (its checks tab with `checks`)."""
    return f"{ui_url()}/assets/{'/'.join(key.path)}" + ("?view=checks" if checks else "")


def run_link(run_id: str) -> str:
    """The run's page in the Dagster UI."""
    return f"{ui_url()}/runs/{run_id}"


# Cursor ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventCursor(JsonCursor):
    """The last storage id read per kind of event, and whether history has been caught up.

    Until `caught_up`, the sensor reads the instance's history: transitions are recorded but
    only incidents still open are announced.
    """

    checks: int = -1
    failures: int = -1
    successes: int = -1
    freshness: int = -1
    caught_up: bool = False


# Reading the event log -------------------------------------------------------------------


def events_after(
    instance: dg.DagsterInstance, event_type: DagsterEventType, after: int, limit: int
) -> list[EventLogRecord]:
    """Event records of one type with a storage id above `after`, oldest first."""
    records_filter = EventRecordsFilter(event_type, after_cursor=after)
    storage = instance.event_log_storage
    if isinstance(storage, SqlEventLogStorage):
        return list(storage._get_event_records(records_filter, limit=limit, ascending=True))
    with warnings.catch_warnings():  # deprecated in 2.0; other storages have nothing better
        warnings.simplefilter("ignore")
        return list(instance.get_event_records(records_filter, limit=limit, ascending=True))


def _counts(metadata: dict[str, dg.MetadataValue]) -> str:
    """`files_checked=3, files_rejected=1`: the numeric metadata of an evaluation."""
    numbers = [
        f"{name}={value.value}"
        for name, value in sorted(metadata.items())
        if isinstance(value, dg.IntMetadataValue | dg.FloatMetadataValue)
    ]
    return ", ".join(numbers)


def check_incident(evaluation: dg.AssetCheckEvaluation) -> Incident:
    """The incident of a failed check evaluation."""
    asset = evaluation.asset_key.to_user_string()
    name = evaluation.check_name
    partition = f" [{evaluation.partition}]" if evaluation.partition else ""
    severity = ERROR if evaluation.severity == dg.AssetCheckSeverity.ERROR else WARN
    blocking = " It is blocking: downstream models and the publication wait." * bool(
        evaluation.blocking
    )
    counts = _counts(dict(evaluation.metadata))
    dataset = evaluation.asset_key.path[-1] if evaluation.asset_key.path[0] == "raw" else None
    action = CHECK_ACTIONS.get(name, BLOCKING_ACTION if evaluation.blocking else WARN_ACTION)
    return Incident(
        key=f"check:{asset}:{name}" + (f":{evaluation.partition}" if evaluation.partition else ""),
        kind="check",
        severity=severity,
        title=f"Check {name} failed on {asset}{partition}",
        message=f"The {severity} check {name} of {asset} failed.{blocking}"
        + (f" Counts: {counts}." if counts else ""),
        action=action,
        link=asset_link(evaluation.asset_key, checks=True),
        dataset=dataset,
        rule=name,
    )


def _alerted_per_file(evaluation: dg.AssetCheckEvaluation) -> bool:
    """The suite and refusal checks of a landing dataset: each refused file has an incident of
    its own, from the ledger, that resolves when its corrected export loads. The checks pass
    again at the next run (they judge the files each run reads), which would resolve an
    incident while the file is still refused."""
    key = evaluation.asset_key
    return (
        evaluation.check_name in PER_FILE_CHECKS
        and key.path[0] == "raw"
        and key.path[-1] in LANDING_TABLES
    )


def check_transition(record: EventLogRecord) -> Transition | None:
    """Open on a failed evaluation, resolve on a passed one."""
    event = record.event_log_entry.dagster_event
    evaluation = event.event_specific_data if event else None
    if not isinstance(evaluation, dg.AssetCheckEvaluation) or _alerted_per_file(evaluation):
        return None
    note = "the check passed again"
    return Transition(
        check_incident(evaluation),
        opens=not evaluation.passed,
        note=note,
        event_id=record.storage_id,
    )


def run_target(run: dg.DagsterRun) -> tuple[str, str]:
    """A run's job (readable) and origin: the sensor or schedule that asked for it, or manual."""
    job = "asset job" if run.job_name == ASSET_JOB else run.job_name
    origin = run.tags.get("dagster/sensor_name") or run.tags.get("dagster/schedule_name")
    return job, origin or "manual"


def run_incident(run: dg.DagsterRun) -> Incident:
    """The incident of a failed run's target."""
    job, origin = run_target(run)
    reason = run.tags.get("dagster/failure_reason", "unknown")
    return Incident(
        key=f"run:{run.job_name}:{origin}",
        kind="run",
        severity=ERROR,
        title=f"Run of {job} ({origin}) failed",
        message=f"Run {run.run_id} of {job}, asked for by {origin}, failed ({reason}).",
        action=RUN_ACTION,
        link=run_link(run.run_id),
        rule="run_failure",
    )


def _only_blocking_checks_failed(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether every failed step of a run failed only because a blocking check did: the
    check's own incident says so, a second one for the run would be noise."""
    failures = instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
    causes = {
        getattr(getattr(entry.dagster_event.event_specific_data, "error", None), "cls_name", None)
        for entry in failures
        if entry.dagster_event is not None
    }
    return causes == {BLOCKING_CHECK_ERROR}


def run_transition(
    instance: dg.DagsterInstance, record: EventLogRecord, open_keys: set[str]
) -> Transition | None:
    """Open on a failure; resolve on a success of a target that has an incident open."""
    event = record.event_log_entry.dagster_event
    failed = event is not None and event.event_type == DagsterEventType.RUN_FAILURE
    run = instance.get_run_by_id(record.event_log_entry.run_id)
    if run is None or (failed and _only_blocking_checks_failed(instance, run.run_id)):
        return None
    incident = run_incident(run)
    if not failed and incident.key not in open_keys:
        return None
    note = f"run {run.run_id} of the same target succeeded"
    return Transition(incident, opens=failed, note=note, event_id=record.storage_id)


def freshness_transition(record: EventLogRecord) -> Transition | None:
    """FAIL or WARN opens, PASS resolves; UNKNOWN and NOT_APPLICABLE say nothing."""
    event = record.event_log_entry.dagster_event
    change = event.event_specific_data if event else None
    state = getattr(getattr(change, "new_state", None), "value", None)
    if change is None or state not in ("FAIL", "WARN", "PASS"):
        return None
    key: dg.AssetKey = change.key
    asset = key.to_user_string()
    incident = Incident(
        key=f"freshness:{asset}",
        kind="freshness",
        severity=ERROR if state == "FAIL" else WARN,
        title=f"{asset} is overdue (freshness {state})",
        message=f"The freshness policy of {asset} turned {state}: no new materialisation "
        "within its window.",
        action=FRESHNESS_ACTION,
        link=asset_link(key),
        dataset=key.path[-1] if key.path[0] == "raw" else None,
        rule="freshness_policy",
    )
    note = "a new materialisation made it fresh again"
    return Transition(incident, opens=state != "PASS", note=note, event_id=record.storage_id)


def event_transitions(
    instance: dg.DagsterInstance,
    cursor: EventCursor,
    open_run_keys: set[str],
    limit: int = EVENTS_PER_TICK,
) -> tuple[list[Transition], EventCursor]:
    """Transitions from the events after the cursor, in storage-id order, and the new cursor.

    Storage ids are one sequence across these event types, so sorting by them replays what
    happened in order (within the `limit` read per type and tick).
    """
    checks = events_after(instance, DagsterEventType.ASSET_CHECK_EVALUATION, cursor.checks, limit)
    failures = events_after(instance, DagsterEventType.RUN_FAILURE, cursor.failures, limit)
    successes = events_after(instance, DagsterEventType.RUN_SUCCESS, cursor.successes, limit)
    fresh = events_after(instance, DagsterEventType.FRESHNESS_STATE_CHANGE, cursor.freshness, limit)
    pending = {r.storage_id: check_transition(r) for r in checks}
    pending |= {r.storage_id: freshness_transition(r) for r in fresh}
    runs = sorted(failures + successes, key=lambda r: r.storage_id)
    open_keys = set(open_run_keys)
    for record in runs:  # a failure earlier in the batch lets a later success resolve it
        transition = run_transition(instance, record, open_keys)
        pending[record.storage_id] = transition
        if transition is not None and transition.opens:
            open_keys.add(transition.incident.key)
    ordered = [pending[i] for i in sorted(pending) if pending[i] is not None]
    moved = EventCursor(
        checks=_last(checks, cursor.checks),
        failures=_last(failures, cursor.failures),
        successes=_last(successes, cursor.successes),
        freshness=_last(fresh, cursor.freshness),
        caught_up=cursor.caught_up
        or all(len(batch) < limit for batch in (checks, failures, successes, fresh)),
    )
    return [t for t in ordered if t is not None], moved


def _last(records: Sequence[EventLogRecord], default: int) -> int:
    return records[-1].storage_id if records else default


# The landing ledger ----------------------------------------------------------------------


def _ward_and_dataset(path: str) -> tuple[str | None, str | None]:
    """`hr/131016_staff_20250401.csv` -> (`131016`, `hr_staff`); None where it does not parse."""
    system, _, name = path.rpartition("/")
    parts = name.rsplit(".", 1)[0].split("_")
    ward = parts[0] if parts[0].isdigit() and len(parts[0]) == 6 else None
    dataset = f"{system}_{'_'.join(parts[1:-1])}" if ward and system and len(parts) >= 3 else None
    return ward, dataset


_DATA_DOCS = re.compile(r"(?m)^[^\n]*Data Docs: (\S+)$")


def file_incident(entry: LedgerEntry) -> Incident:
    """The incident of a refused or unrecognised file version.

    A refusal by a suite carries the Data Docs page of its validation, linked in the message.
    """
    ward, dataset = _ward_and_dataset(entry.path)
    docs = _DATA_DOCS.search(entry.reason)
    reason = safe_reason(_DATA_DOCS.sub("", entry.reason)) or "no reason recorded"
    if docs:
        reason += f" (validation: {docs.group(1)})"
    recognised = entry.state != NOT_RECOGNISED
    severity = ERROR if recognised else WARN
    label = entry.state.replace("_", " ")
    if entry.run_id:
        link = run_link(entry.run_id)
    elif recognised and dataset:
        link = asset_link(dg.AssetKey(["raw", dataset]), checks=True)
    else:
        link = asset_link(dg.AssetKey(["landing", "zone"]), checks=True)
    return Incident(
        key=f"{FILE_KEY_PREFIX}{entry.path}",
        kind="file",
        severity=severity,
        title=f"File {entry.path} {label}",
        message=f"{entry.path} (sha256 {entry.sha256[:12]}) is {label}: {reason}",
        action=FILE_ACTIONS.get(entry.state, FILE_ACTIONS["rejected"]),
        link=link,
        ward=ward if recognised else None,
        dataset=dataset if recognised else None,
        file=entry.path,
        rule=entry.state,
    )


def ledger_transitions(
    newest: Iterable[LedgerEntry], landing_root: Path, open_file_keys: set[str]
) -> list[Transition]:
    """Open for each path whose newest version is refused; resolve the open ones whose newest
    version was received, or whose file is gone from the landing zone.

    `newest` holds one entry per path, its newest version (`Ledger.newest_entries`).
    """
    transitions: list[Transition] = []
    landing_readable = landing_root.is_dir()  # an unmounted share must not resolve everything
    for entry in sorted(newest, key=lambda entry: entry.path):
        path = entry.path
        incident = file_incident(entry)
        if entry.state in REFUSED_STATES and incident.key not in open_file_keys:
            if not landing_readable or (landing_root / path).exists():
                transitions.append(Transition(incident, opens=True))
        elif incident.key in open_file_keys:
            note = _file_resolution(entry, landing_root, landing_readable)
            if note:
                transitions.append(Transition(incident, opens=False, note=note))
    return transitions


def _file_resolution(entry: LedgerEntry, landing_root: Path, landing_readable: bool) -> str:
    """Why an open file incident is over, or "" if it is not."""
    if entry.state in RECEIVED_STATES:
        return f"a later version (sha256 {entry.sha256[:12]}) was {entry.state}"
    if landing_readable and not (landing_root / entry.path).exists():
        return "the file was removed from the landing zone"
    return ""
