"""What the landing ledger and the alert store hold, read read-only, and what it means.

A snapshot of file versions, findings, incidents and pending reprocess requests; where each
ward stands with each dataset; the files that need the operator; what to do next about one.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingestion.common.landing import parse_landing_path
from ingestion.common.ledger import (
    FINDING_COUNTS_GROUPS,
    FINDING_COUNTS_SELECT,
    NOT_RECOGNISED,
    RECEIVED_STATES,
    RUN_FAILED,
    Ledger,
    Receipt,
    ReprocessRequest,
)
from ingestion.common.problems import ExportError, Finding
from ingestion.common.reference import Ward
from ingestion.common.sqlite_file import SqliteFile
from orchestration.alerts.incidents import alerts_db_path

# Refused by a run (nothing written) or lost to failing runs: the ward's data waits.
REFUSED_STATES = frozenset({"rejected", "still_rejected", RUN_FAILED})
ATTENTION_STATES = REFUSED_STATES | {NOT_RECOGNISED}
_LINK = re.compile(r"(?:https?|file)://[^\s<>\"'()\[\]]+")

NEXT_STEPS = {
    "loaded": "Nothing to do: its rows are in the warehouse and reach the published marts "
    "with the next publication.",
    "replaced": "Nothing to do: this corrected export replaced the rows of the earlier version.",
    "unchanged": "Nothing to do: the same bytes had been loaded already.",
    "rejected": "Refused whole, nothing written: ask the ward for a corrected export under the "
    "same name (it replaces this one); if a rule or the reference data was wrong and has been "
    "changed since, `dxkpi-dq reprocess {path}`.",
    "still_rejected": "The same refused bytes came again: ask the ward for a corrected export "
    "under the same name; after a rule change, `dxkpi-dq reprocess {path}`.",
    "superseded": "Overwritten before a run read it: the newer version counts; nothing to do.",
    "vanished": "Removed from the landing zone before a run read it: drop it again if it was "
    "meant to load.",
    NOT_RECOGNISED: "No contract reads it: rename or move it to "
    "<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv, or remove it; if only the municipality "
    "list (wards.csv) lacked the ward, add it there: the landing sensor reads the file at its "
    "next tick.",
    RUN_FAILED: "Runs died reading it (three attempts): open the run's logs in Dagster, fix "
    "the cause, then `dxkpi-dq reprocess {path}`.",
    "requested": "A run was asked for and has not recorded an outcome yet: wait for it (the "
    "Dagster UI shows the run).",
    "settling": "Still being written: it is read once unchanged for DXKPI_SETTLE_SECONDS, or "
    "when <name>.done appears beside it.",
}
QUARANTINE_STEP = (
    " {rows} rows were set aside (quarantine): ask the ward to correct them in the source "
    "system; they load with its next export."
)


# Reasons ------------------------------------------------------------------------------------


def data_docs_link(reason: str) -> str | None:
    """The first link (Data Docs page) a reason names, if any."""
    match = _LINK.search(reason)
    return match.group(0).rstrip(".,;:") if match else None


def next_step(state: str, path: str, rows_quarantined: int | None = None) -> str:
    """What the operator does about a file version in `state`, in a sentence or two."""
    step = NEXT_STEPS.get(state, f"State {state}: see ingestion/common/ledger.py.")
    if state in RECEIVED_STATES and rows_quarantined:
        step += QUARANTINE_STEP.format(rows=rows_quarantined)
    return step.replace("{path}", path)


# What the SQLite files hold -----------------------------------------------------------------


@dataclass(frozen=True)
class FileRecord:
    """One file version of the ledger, with its rows and what its name says.

    `ward_code`, `dataset` (the raw table, e.g. `hr_staff`) and `reference_date` are None when
    the name does not follow `<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv`.
    """

    path: str
    sha256: str
    state: str
    reason: str
    run_id: str | None
    first_seen: datetime
    updated_at: datetime
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    system: str | None = None
    ward_code: str | None = None
    dataset: str | None = None
    reference_date: date | None = None

    @property
    def name(self) -> str:
        """The file name, without its system folder."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FindingSummary:
    """The findings of one rule and severity in one file version."""

    path: str
    sha256: str
    rule: str
    severity: str
    count: int
    first_line: int | None
    columns: str
    message: str


@dataclass(frozen=True)
class IncidentRecord:
    """One incident of the alert store, open or resolved."""

    id: int
    key: str
    kind: str
    severity: str
    title: str
    message: str
    action: str
    link: str
    ward: str | None
    dataset: str | None
    file: str | None
    rule: str | None
    opened_at: datetime
    resolved_at: datetime | None
    resolution: str | None

    @property
    def is_open(self) -> bool:
        """Not resolved yet."""
        return self.resolved_at is None


@dataclass(frozen=True)
class DqSnapshot:
    """The ledger and the incidents as read at one moment (file versions oldest first)."""

    files: list[FileRecord] = field(default_factory=list)
    findings: list[FindingSummary] = field(default_factory=list)
    incidents: list[IncidentRecord] = field(default_factory=list)
    pending_reprocess: list[ReprocessRequest] = field(default_factory=list)

    def current(self) -> dict[str, FileRecord]:
        """The newest version of each path."""
        return {record.path: record for record in self.files}

    def open_incidents(self) -> list[IncidentRecord]:
        """The incidents open now, oldest first."""
        return [incident for incident in self.incidents if incident.is_open]


def _moment(text: str | None) -> datetime | None:
    """A stored ISO time as an aware datetime (UTC when the text has no offset)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection in one read transaction, or None when the file does not exist."""
    if not path.exists():
        yield None
        return
    # One snapshot: versions, rows and findings agree.
    with SqliteFile(path, read_only=True).reading() as con:
        yield con


def _tables(con: sqlite3.Connection) -> set[str]:
    return {row[0] for row in con.execute("select name from sqlite_master where type = 'table'")}


def _name_parts(path: str) -> dict[str, Any]:
    """System, ward, raw table and reference date read from a landing path, where it parses."""
    parts = path.split("/")
    if len(parts) != 2:
        return {}
    try:
        export = parse_landing_path(Path(path))
    except ExportError:
        return {"system": parts[0]}
    return {
        "system": export.system,
        "ward_code": export.ward_code,
        "dataset": export.table,
        "reference_date": export.reference_date,
    }


def _read_files(con: sqlite3.Connection, tables: set[str]) -> list[FileRecord]:
    rows_join = (
        "left join file_rows as r on r.path = f.path and r.sha256 = f.sha256"
        if "file_rows" in tables
        else ""
    )
    rows_columns = (
        "r.rows_read, r.rows_loaded, r.rows_quarantined" if rows_join else "null, null, null"
    )
    query = (
        "select f.path, f.sha256, f.state, f.reason, f.run_id, f.first_seen, f.updated_at, "
        f"{rows_columns} from landing_files as f {rows_join} order by f.first_seen, f.path"
    )
    return [
        FileRecord(*row[:5], _moment(row[5]), _moment(row[6]), *row[7:], **_name_parts(row[0]))
        for row in con.execute(query)
    ]


def _read_findings(con: sqlite3.Connection, tables: set[str]) -> list[FindingSummary]:
    """The findings per file version, rule and severity: from the counts the ledger keeps,
    or, in a ledger written before it kept them (and opened read-only, so never migrated),
    grouped here."""
    if "file_finding_counts" in tables:
        query = (
            "select path, sha256, rule, severity, finding_count, first_line, columns, message "
            "from file_finding_counts"
        )
    else:
        query = f"{FINDING_COUNTS_SELECT} {FINDING_COUNTS_GROUPS}"
    return [
        FindingSummary(path, sha, rule, severity, count, first, columns or "", message)
        for path, sha, rule, severity, count, first, columns, message in con.execute(
            f"{query} order by path, sha256, severity, rule"
        )
    ]


def _read_pending(con: sqlite3.Connection) -> list[ReprocessRequest]:
    query = (
        "select id, path, requested_at from reprocess_requests "
        "where dispatched_at is null order by id"
    )
    return [ReprocessRequest(*row) for row in con.execute(query)]


def _read_incidents(con: sqlite3.Connection) -> list[IncidentRecord]:
    query = (
        "select id, key, kind, severity, title, message, action, link, ward, dataset, file, "
        "rule, opened_at, resolved_at, resolution from alert_incidents order by id"
    )
    return [
        IncidentRecord(*row[:12], _moment(row[12]), _moment(row[13]), row[14])
        for row in con.execute(query)
    ]


def read_findings(ledger_path: Path, path: str, sha256: str) -> list[Finding]:
    """Every finding of one file version, read-only (nothing when there is no ledger yet, or
    one from before findings were kept)."""
    try:
        return Ledger(Path(ledger_path), read_only=True).findings(path, sha256)
    except sqlite3.Error:
        return []


def read_snapshot(
    ledger_path: Path, alerts_path: Path | None = None, *, findings_too: bool = True
) -> DqSnapshot:
    """Read the ledger and the incident store, read-only; a missing file reads as empty.

    `findings_too=False` leaves the findings out (empty): they are every row problem of every
    file ever loaded (800k at national scale, 1.5 s to group), and a reader that does not
    show them should not pay for them.
    """
    alerts_path = alerts_path or alerts_db_path(ledger_path)
    files: list[FileRecord] = []
    findings: list[FindingSummary] = []
    pending: list[ReprocessRequest] = []
    incidents: list[IncidentRecord] = []
    with _read_only(Path(ledger_path)) as con:
        tables = _tables(con) if con else set()
        if "landing_files" in tables:
            files = _read_files(con, tables)
        if findings_too and "file_findings" in tables:
            findings = _read_findings(con, tables)
        if "reprocess_requests" in tables:
            pending = _read_pending(con)
    with _read_only(Path(alerts_path)) as con:
        if con and "alert_incidents" in _tables(con):
            incidents = _read_incidents(con)
    return DqSnapshot(files, findings, incidents, pending)


# Per ward and dataset -----------------------------------------------------------------------


@dataclass(frozen=True)
class WardDatasetStatus:
    """Where one ward stands with one dataset.

    Attributes:
        last: The newest file version of the ward's dataset (by first seen), whatever its state.
        last_received: The newest one that loaded (`loaded`, `replaced`, `unchanged`).
        open_incidents: Incidents open about this ward and dataset (its files).
        open_dataset_incidents: Incidents open about the dataset as a whole (its checks).
        freshness: `fresh`, `warn`, `overdue` or `never_received`; None when not evaluated.
    """

    ward: Ward
    dataset: str
    last: FileRecord | None
    last_received: FileRecord | None
    open_incidents: int
    open_dataset_incidents: int
    freshness: str | None = None

    @property
    def problem(self) -> str | None:
        """Why this pair deserves a look, or None."""
        if self.last is None:
            return None  # summarised as "no file yet"
        if self.last.state in REFUSED_STATES:
            return self.last.state
        if self.freshness == "overdue":
            return "overdue"
        if self.open_incidents:
            return "incident"
        if self.last.rows_quarantined:
            return "quarantined"
        return None


def _newest_by_ward_dataset(
    files: Iterable[FileRecord], states: Collection[str] | None = None
) -> dict[tuple[str, str], FileRecord]:
    newest: dict[tuple[str, str], FileRecord] = {}
    for record in files:  # oldest first: the last one seen wins
        if record.ward_code is None or record.dataset is None or record.state == NOT_RECOGNISED:
            continue
        if states is None or record.state in states:
            newest[(record.ward_code, record.dataset)] = record
    return newest


def receipts(snapshot: DqSnapshot) -> dict[tuple[str, str], Receipt]:
    """The newest export received per (raw table, ward), as `Ledger.latest_receipts` gives."""
    newest = _newest_by_ward_dataset(snapshot.files, RECEIVED_STATES)
    return {
        (table, ward): Receipt(table, ward, record.path, record.first_seen)
        for (ward, table), record in newest.items()
    }


def freshness_states(
    snapshot: DqSnapshot, ward_codes: Collection[str], tables: Iterable[str], now: datetime
) -> dict[tuple[str, str], str]:
    """The freshness of each (ward, raw table): `fresh`, `warn`, `overdue`, `never_received`.

    `overdue` and `never_received` are what the `ward_freshness` check reports; `warn` is a
    receipt older than the cadence plus its warn margin, as the asset's freshness policy.
    """
    # Imported here: orchestration.freshness imports Dagster (4 s), which `status` avoids.
    from orchestration.freshness import configured, ward_freshness

    config, received = configured(), receipts(snapshot)
    states: dict[tuple[str, str], str] = {}
    for table in tables:
        late = {
            ward.ward_code for ward in ward_freshness(table, received, ward_codes, config, now).late
        }
        for code in ward_codes:
            receipt = received.get((table, code))
            if code in late:
                states[(code, table)] = "overdue" if receipt else "never_received"
                continue
            cadence = config.cadence(table, code)
            warn_after = cadence.every + (cadence.warn or cadence.grace)
            states[(code, table)] = (
                "warn" if receipt and now - receipt.first_seen > warn_after else "fresh"
            )
    return states


def ward_dataset_statuses(
    snapshot: DqSnapshot,
    wards: Sequence[Ward],
    tables: Sequence[str],
    freshness: Mapping[tuple[str, str], str] | None = None,
) -> list[WardDatasetStatus]:
    """One status per ward and dataset, in ward then dataset order."""
    last = _newest_by_ward_dataset(snapshot.files)
    received = _newest_by_ward_dataset(snapshot.files, RECEIVED_STATES)
    opened = snapshot.open_incidents()
    by_pair = Counter((i.ward, i.dataset) for i in opened if i.ward)
    by_table = Counter(i.dataset for i in opened if i.dataset and not i.ward)
    return [
        WardDatasetStatus(
            ward,
            table,
            last.get((ward.code, table)),
            received.get((ward.code, table)),
            by_pair[(ward.code, table)],
            by_table[table],
            (freshness or {}).get((ward.code, table)),
        )
        for ward in wards
        for table in tables
    ]


def attention_files(snapshot: DqSnapshot, landing: Path | None = None) -> list[FileRecord]:
    """Paths whose newest version is refused, failed or not recognised, oldest first.

    With `landing`, only those still in the landing zone (a removed file needs nothing more),
    unless the landing folder cannot be read (an unmounted share must not hide them).
    """
    root = landing if landing is not None and landing.is_dir() else None
    return [
        record
        for record in snapshot.current().values()
        if record.state in ATTENTION_STATES and (root is None or (root / record.path).exists())
    ]
