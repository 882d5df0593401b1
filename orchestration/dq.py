"""`dxkpi-dq`: the operator's data-quality loop, and the `dq` tables of each publication.

    dxkpi-dq status [--ward W] [--dataset D] [--all] [--freshness] [--json]
    dxkpi-dq explain <file> [--json]
    dxkpi-dq reprocess <file>

It reads only the landing ledger, the alert incidents (`alerts.sqlite` beside the ledger) and
the landing folder, never the working warehouse: DuckDB admits one process on that file, the
pipeline's, so this command works while a run writes it. Both SQLite files are opened read-only
(`status`, `explain`); `reprocess` writes one row to the ledger's `reprocess_requests`, which the
landing sensor picks up at its next tick.

There is no `reprocess --now`: reading a file in-process needs the warehouse's write lock, which
a running pipeline holds (and the `duckdb_warehouse` pool of one slot would be bypassed). The
sensor's run waits for the pool like every other run.

Exit codes: 0 all well, 1 something needs attention (`status`: a refused file or an open ERROR
incident), 2 usage error or unknown file.

The same readings feed the publication: `publication_tables` turns them into the tables of the
`dq` schema of the serving file (`dq.file_outcomes`, `dq.findings_summary`,
`dq.ward_dataset_status`, `dq.incidents`), written beside the marts before the swap.

Reasons may quote cell values (a suite's `...: values a, b`): every reason shown or published
here is cut before them, as the alert messages are. Findings never hold cell text.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingestion.common.landing import parse_landing_path
from ingestion.common.ledger import (
    NOT_RECOGNISED,
    RECEIVED_STATES,
    RUN_FAILED,
    Ledger,
    Receipt,
    ReprocessRequest,
    file_sha256,
)
from ingestion.common.problems import ExportError, Finding, reason_lines, safe_reason
from ingestion.common.reference import Ward, load_wards
from orchestration.alerts.incidents import ERROR, alerts_db_path
from orchestration.settings import Settings, load_settings

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
# Refused by a run (nothing written) or lost to failing runs: the ward's data waits.
REFUSED_STATES = frozenset({"rejected", "still_rejected", RUN_FAILED})
ATTENTION_STATES = REFUSED_STATES | {NOT_RECOGNISED}
DEFAULT_PROBLEM_ROWS = 20
SUMMARY_FILE_LINES = 10
FIRST_LINES_SHOWN = 5
_LINK = re.compile(r"(?:https?|file)://[^\s<>\"'()\[\]]+")
SEVERITY_ORDER = {"refusal": 0, "quarantine": 1, "warning": 2}

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
    "<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv, or remove it; if only seeds/wards.csv "
    "lacked the ward, add it there and `dxkpi-dq reprocess {path}`.",
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
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)) as con:
        con.execute("pragma busy_timeout=30000")
        con.execute("begin")  # one snapshot: versions, rows and findings agree
        try:
            yield con
        finally:
            con.execute("rollback")


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


def _read_findings(con: sqlite3.Connection) -> list[FindingSummary]:
    # SQLite takes the bare column `message` from the row holding min(line): the first one.
    query = (
        "select path, sha256, rule, severity, count(*), min(line), "
        "group_concat(distinct column_name), message from file_findings "
        "group by path, sha256, rule, severity order by path, sha256, severity, rule"
    )
    return [
        FindingSummary(path, sha, rule, severity, count, first, columns or "", message)
        for path, sha, rule, severity, count, first, columns, message in con.execute(query)
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
    """Every finding of one file version, read-only, in `Ledger.findings` order."""
    with _read_only(Path(ledger_path)) as con:
        if con is None or "file_findings" not in _tables(con):
            return []
        rows = con.execute(
            "select line, column_name, rule, severity, message from file_findings "
            "where path = ? and sha256 = ? order by coalesce(line, 0), column_name, rule",
            [path, sha256],
        ).fetchall()
    return [Finding(*row) for row in rows]


def read_snapshot(ledger_path: Path, alerts_path: Path | None = None) -> DqSnapshot:
    """Read the ledger and the incident store, read-only; a missing file reads as empty."""
    alerts_path = alerts_path or alerts_db_path(ledger_path)
    files: list[FileRecord] = []
    findings: list[FindingSummary] = []
    pending: list[ReprocessRequest] = []
    incidents: list[IncidentRecord] = []
    with _read_only(Path(ledger_path)) as con:
        tables = _tables(con) if con else set()
        if "landing_files" in tables:
            files = _read_files(con, tables)
        if "file_findings" in tables:
            findings = _read_findings(con)
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


# The operator's summary (demo, dxkpi-run) ----------------------------------------------------


def _count_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{count:,} {state}" for state, count in sorted(counts.items()))


def render_summary(
    snapshot: DqSnapshot, landing: Path | None = None, limit: int = SUMMARY_FILE_LINES
) -> str:
    """A short data-quality summary: files loaded, refused (with reasons), rows quarantined,
    incidents open, and where to see more."""
    current = list(snapshot.current().values())
    received = [r for r in current if r.state in RECEIVED_STATES]
    attention = attention_files(snapshot, landing)
    refused = [r for r in attention if r.state in REFUSED_STATES]
    strays = [r for r in attention if r.state == NOT_RECOGNISED]
    quarantined = [r for r in received if r.rows_quarantined]
    opened = snapshot.open_incidents()
    lines = [
        "Data quality (landing ledger)",
        f"  files loaded: {len(received):,} of {len(current):,} in the ledger"
        + (f" ({_count_text(Counter(r.state for r in received))})" if received else ""),
        f"  files refused: {len(refused):,}, not recognised: {len(strays):,}",
    ]
    for record in (refused + strays)[:limit]:
        lines.append(f"    {record.path} ({record.state}): {safe_reason(record.reason, 160)}")
    if len(attention) > limit:
        lines.append(f"    … and {len(attention) - limit} more")
    rows = sum(r.rows_quarantined or 0 for r in quarantined)
    lines.append(f"  rows quarantined: {rows:,} in {len(quarantined):,} loaded files")
    severities = Counter(incident.severity for incident in opened)
    lines.append(
        f"  incidents open: {len(opened)}" + (f" ({_count_text(severities)})" if opened else "")
    )
    lines.append("  more: dxkpi-dq status (one file: dxkpi-dq explain <file>)")
    return "\n".join(lines)


def summary_for(settings: Settings | None = None) -> str:
    """The data-quality summary of the ledger and landing zone of `settings` (or the env's)."""
    settings = settings or load_settings()
    return render_summary(read_snapshot(settings.ledger_path), settings.landing_dir)


# The publication's dq tables ----------------------------------------------------------------


@dataclass(frozen=True)
class DqTable:
    """A table of the `dq` schema of the serving file.

    Attributes:
        name: Schema-qualified, e.g. `dq.file_outcomes`.
        columns: Its DuckDB columns, `name type, ...` (the publication adds `published_at`).
        comment: What one row is, for `COMMENT ON TABLE`.
        rows: One mapping of column name to value per row.
    """

    name: str
    columns: str
    comment: str
    rows: list[dict[str, Any]]

    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
        return [part.split()[0] for part in self.columns.split(",")]


FILE_OUTCOMES_COLUMNS = (
    "path varchar, system varchar, ward_code varchar, dataset varchar, reference_date date, "
    "sha256 varchar, is_current boolean, state varchar, reason varchar, rows_read bigint, "
    "rows_loaded bigint, rows_quarantined bigint, run_id varchar, first_seen timestamptz, "
    "updated_at timestamptz"
)
FILE_OUTCOMES_COMMENT = (
    "One row per file version the landing ledger saw (path x sha256): ward, dataset (raw "
    "table) and reference date read from the name; state (loaded, replaced, unchanged, "
    "rejected, still_rejected, superseded, vanished, not_recognised, run_failed, requested, "
    "settling); reason, cut before any quoted cell value; rows read, loaded and quarantined "
    "(null when not read); is_current: the newest version of its path. Times in UTC."
)
FINDINGS_COLUMNS = (
    "path varchar, sha256 varchar, rule varchar, severity varchar, finding_count bigint, "
    "first_line bigint, columns varchar, message varchar"
)
FINDINGS_COMMENT = (
    "One row per file version x rule x severity (refusal: the file was refused; quarantine: "
    "rows set aside; warning: loaded, worth a look): how many findings, the first file line "
    "(null: the whole file), the columns, and the message of the first one. Never cell text."
)
WARD_STATUS_COLUMNS = (
    "ward_code varchar, ward_name_en varchar, dataset varchar, last_file varchar, "
    "last_file_seen_at timestamptz, last_state varchar, last_reason varchar, "
    "rows_loaded bigint, rows_quarantined bigint, last_loaded_file varchar, "
    "last_loaded_seen_at timestamptz, open_incidents bigint, open_dataset_incidents bigint, "
    "freshness_state varchar"
)
WARD_STATUS_COMMENT = (
    "One row per ward x dataset (raw table): the last file received (whatever its outcome) "
    "and when, its outcome and rows, the last file that loaded, incidents open about the "
    "ward's files and about the dataset as a whole (checks), and the freshness of the ward's "
    "exports at publication (fresh, warn, overdue, never_received; orchestration/"
    "freshness.yaml). Times in UTC."
)
INCIDENTS_COLUMNS = (
    "id bigint, key varchar, kind varchar, severity varchar, title varchar, message varchar, "
    "action varchar, link varchar, ward_code varchar, dataset varchar, file varchar, "
    "rule varchar, is_open boolean, opened_at timestamptz, resolved_at timestamptz, "
    "resolution varchar"
)
INCIDENTS_COMMENT = (
    "One row per alert incident, open or resolved: a refused file, a failed check or run, an "
    "overdue source. Titles and messages name files, rules and counts only. Times in UTC."
)


def _file_outcome_row(record: FileRecord, current: bool) -> dict[str, Any]:
    row = asdict(record)
    row.update(is_current=current, reason=safe_reason(record.reason))
    return row


def file_outcomes_table(snapshot: DqSnapshot) -> DqTable:
    """`dq.file_outcomes`: one row per file version."""
    current = {(r.path, r.sha256) for r in snapshot.current().values()}
    rows = [_file_outcome_row(r, (r.path, r.sha256) in current) for r in snapshot.files]
    return DqTable("dq.file_outcomes", FILE_OUTCOMES_COLUMNS, FILE_OUTCOMES_COMMENT, rows)


def findings_summary_table(snapshot: DqSnapshot) -> DqTable:
    """`dq.findings_summary`: one row per file version, rule and severity."""
    rows = [
        {**asdict(f), "finding_count": f.count, "message": safe_reason(f.message)}
        for f in snapshot.findings
    ]
    return DqTable("dq.findings_summary", FINDINGS_COLUMNS, FINDINGS_COMMENT, rows)


def _ward_status_row(status: WardDatasetStatus) -> dict[str, Any]:
    last, loaded = status.last, status.last_received
    return {
        "ward_code": status.ward.code,
        "ward_name_en": status.ward.name_en,
        "dataset": status.dataset,
        "last_file": last and last.path,
        "last_file_seen_at": last and last.first_seen,
        "last_state": last and last.state,
        "last_reason": last and safe_reason(last.reason),
        "rows_loaded": last and last.rows_loaded,
        "rows_quarantined": last and last.rows_quarantined,
        "last_loaded_file": loaded and loaded.path,
        "last_loaded_seen_at": loaded and loaded.first_seen,
        "open_incidents": status.open_incidents,
        "open_dataset_incidents": status.open_dataset_incidents,
        "freshness_state": status.freshness,
    }


def ward_dataset_status_table(statuses: Sequence[WardDatasetStatus]) -> DqTable:
    """`dq.ward_dataset_status`: one row per ward and dataset."""
    rows = [_ward_status_row(status) for status in statuses]
    return DqTable("dq.ward_dataset_status", WARD_STATUS_COLUMNS, WARD_STATUS_COMMENT, rows)


def incidents_table(snapshot: DqSnapshot) -> DqTable:
    """`dq.incidents`: every incident, open or resolved."""
    rows = [
        {
            **asdict(i),
            "ward_code": i.ward,
            "message": safe_reason(i.message),
            "is_open": i.is_open,
        }
        for i in snapshot.incidents
    ]
    return DqTable("dq.incidents", INCIDENTS_COLUMNS, INCIDENTS_COMMENT, rows)


def landing_tables() -> list[str]:
    """The raw tables of the landing zone's datasets (`hr_staff`, ...), sorted."""
    from ingestion.registry import FILE_CONTRACTS

    return sorted(FILE_CONTRACTS)


def publication_tables(ledger_path: Path, now: datetime | None = None) -> list[DqTable]:
    """The `dq` tables of a publication, read from the ledger and incident store now."""
    snapshot = read_snapshot(ledger_path)
    wards, tables = load_wards(), landing_tables()
    codes = [ward.code for ward in wards]
    freshness = freshness_states(snapshot, codes, tables, now or datetime.now(UTC))
    return [
        file_outcomes_table(snapshot),
        findings_summary_table(snapshot),
        ward_dataset_status_table(ward_dataset_statuses(snapshot, wards, tables, freshness)),
        incidents_table(snapshot),
    ]


# The command: reading the arguments ----------------------------------------------------------


class UsageError(Exception):
    """The arguments name no ward, dataset or file this deployment knows (exit code 2)."""


def resolve_ward(text: str, wards: Sequence[Ward]) -> Ward:
    """A ward by code, English or Japanese name (`131016`, `chiyoda`, `千代田区`)."""
    wanted = text.strip().casefold()
    for ward in wards:
        names = {ward.code, ward.name_en.casefold(), ward.name_ja, ward.name_ja.removesuffix("区")}
        if wanted in names:
            return ward
    raise UsageError(f"unknown ward {text!r}: give a code or name from seeds/wards.csv")


def resolve_dataset(text: str, tables: Sequence[str]) -> str:
    """A raw table from `hr_staff`, `hr/staff` or a dataset name of one system (`staff`)."""
    wanted = text.strip().replace("/", "_", 1)
    if wanted in tables:
        return wanted
    matches = [table for table in tables if table.split("_", 1)[1] == wanted]
    if len(matches) == 1:
        return matches[0]
    raise UsageError(f"unknown dataset {text!r}: one of {', '.join(tables)}")


def _under(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def resolve_file(text: str, landing: Path, known: Collection[str]) -> str:
    """A landing path (relative to the landing zone) from what the operator typed.

    Accepts a path relative to the landing zone, an absolute path or one relative to the
    working directory inside the landing zone, or a bare file name found in the ledger
    (`known`) or in a system folder of the landing zone.
    """
    given = Path(text)
    relative = _under(given, landing) if given.is_absolute() or given.exists() else None
    if given.is_absolute():
        if relative is None:
            raise UsageError(f"{text} is not inside the landing zone {landing}")
        return relative
    if "/" in text:
        return relative or given.as_posix()
    found = sorted({path for path in known if path.rsplit("/", 1)[-1] == text})
    if not found and landing.is_dir():
        found = sorted(p.relative_to(landing).as_posix() for p in landing.glob(f"*/{text}"))
    if len(found) > 1:
        raise UsageError(f"{text} is ambiguous: {', '.join(found)}; give its folder too")
    if not found:
        raise UsageError(f"{text}: no such file in the ledger or the landing zone {landing}")
    return found[0]


# Output helpers -----------------------------------------------------------------------------


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"dxkpi-dq: {text}\n")


def _when(moment: datetime | None) -> str:
    """A time as the operator reads it: local, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "-"


def _number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows as aligned text columns (numbers right-aligned)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w)
            if str(c).replace(",", "").replace("-", "").isdigit()
            else str(c).ljust(w)
            for c, w in zip(cells, widths, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _json(document: Mapping[str, Any]) -> None:
    _out(json.dumps(document, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# dxkpi-dq status ----------------------------------------------------------------------------


@dataclass
class StatusReport:
    """Everything `status` shows, filtered by ward and dataset."""

    statuses: list[WardDatasetStatus]
    attention: list[FileRecord]
    incidents: list[IncidentRecord]
    files_by_state: dict[str, int]
    rows_loaded: int
    rows_quarantined: int
    pending_reprocess: int

    @property
    def refused(self) -> list[FileRecord]:
        """The files refused or lost to failing runs (not the unrecognised ones)."""
        return [record for record in self.attention if record.state in REFUSED_STATES]

    @property
    def needs_attention(self) -> bool:
        """A file is refused, or an ERROR incident is open."""
        return bool(self.refused) or any(i.severity == ERROR for i in self.incidents)


@dataclass(frozen=True)
class Scope:
    """What `status` looks at: every ward and dataset, or one ward, or one dataset, or both.

    Attributes:
        wards: The wards shown.
        tables: The raw tables shown.
        ward: The one ward asked for (`--ward`), None for all.
        table: The one raw table asked for (`--dataset`), None for all.
    """

    wards: Sequence[Ward]
    tables: Sequence[str]
    ward: str | None = None
    table: str | None = None

    def covers(self, ward: str | None, table: str | None) -> bool:
        """A file or incident of `ward` and `table` is in scope (all are, without a filter)."""
        return (self.ward is None or ward == self.ward) and (
            self.table is None or table == self.table
        )


def status_report(
    snapshot: DqSnapshot,
    landing: Path,
    scope: Scope,
    freshness: Mapping[tuple[str, str], str] | None = None,
) -> StatusReport:
    """What `status` shows of `scope`: its pairs, files and incidents, and their counts."""
    current = [r for r in snapshot.current().values() if scope.covers(r.ward_code, r.dataset)]
    received = [r for r in current if r.state in RECEIVED_STATES]
    return StatusReport(
        statuses=ward_dataset_statuses(snapshot, scope.wards, scope.tables, freshness),
        attention=[
            r for r in attention_files(snapshot, landing) if scope.covers(r.ward_code, r.dataset)
        ],
        incidents=[i for i in snapshot.open_incidents() if scope.covers(i.ward, i.dataset)],
        files_by_state=dict(Counter(r.state for r in current)),
        rows_loaded=sum(r.rows_loaded or 0 for r in received),
        rows_quarantined=sum(r.rows_quarantined or 0 for r in received),
        pending_reprocess=len(snapshot.pending_reprocess),
    )


def _status_row(status: WardDatasetStatus) -> list[str]:
    last = status.last
    row = [
        status.ward.code,
        status.ward.name_en,
        status.dataset,
        last.name if last else "-",
        _when(last.first_seen if last else None),
        last.state if last else "never received",
        _number(last.rows_loaded if last else None),
        _number(last.rows_quarantined if last else None),
    ]
    if status.freshness is not None:
        row.append(status.freshness)
    return row


_STATUS_HEADER = ["ward", "", "dataset", "last file", "received", "outcome", "loaded", "quar."]
_PROBLEM_ORDER = {"rejected": 0, "still_rejected": 0, RUN_FAILED: 1, "overdue": 2}


def _ward_section(report: StatusReport, show_all: bool) -> list[str]:
    header = _STATUS_HEADER + (
        ["freshness"] if report.statuses[:1] and report.statuses[0].freshness else []
    )
    if show_all:
        return [
            f"Wards x datasets ({len(report.statuses)})",
            *_table(header, [_status_row(s) for s in report.statuses]),
        ]
    problems = sorted(
        (s for s in report.statuses if s.problem),
        key=lambda s: (_PROBLEM_ORDER.get(s.problem or "", 3), s.ward.code, s.dataset),
    )
    lines = [f"Wards x datasets needing a look ({len(problems)} of {len(report.statuses)})"]
    if problems:
        lines += _table(header, [_status_row(s) for s in problems[:DEFAULT_PROBLEM_ROWS]])
    if len(problems) > DEFAULT_PROBLEM_ROWS:
        lines.append(
            f"  … and {len(problems) - DEFAULT_PROBLEM_ROWS} more (--all lists every pair)"
        )
    lines += _never_received_lines(report.statuses)
    return lines


def _never_received_lines(statuses: Sequence[WardDatasetStatus]) -> list[str]:
    missing: dict[str, list[str]] = {}
    for status in statuses:
        if status.last is None:
            missing.setdefault(status.dataset, []).append(status.ward.code)
    if not missing:
        return []
    return ["  No file yet:"] + [
        f"    {table} from {_plural(len(codes), 'ward')} ({', '.join(codes[:8])}"
        f"{', …' if len(codes) > 8 else ''})"
        for table, codes in sorted(missing.items())
    ]


def _plural(count: int, noun: str) -> str:
    """`1 file`, `2 files`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _attention_section(report: StatusReport) -> list[str]:
    lines = [f"Files refused or not recognised ({len(report.attention)})"]
    for record in report.attention:
        lines.append(
            f"  {record.state:<15} {record.path}  since {_when(record.first_seen)}: "
            f"{safe_reason(record.reason, 200) or 'no reason recorded'}"
        )
    return lines


def _incident_section(incidents: Sequence[IncidentRecord]) -> list[str]:
    lines = [f"Open incidents ({len(incidents)})"]
    for incident in incidents:
        lines.append(
            f"  {incident.severity:<5} {incident.key}  {incident.title}  "
            f"since {_when(incident.opened_at)}"
        )
    return lines


def _summary_line(report: StatusReport) -> list[str]:
    files = sum(report.files_by_state.values())
    severities = Counter(i.severity for i in report.incidents)
    return [
        f"Summary: {_plural(files, 'file')} ({_count_text(report.files_by_state) or 'none'}); "
        f"rows loaded {report.rows_loaded:,}, quarantined {report.rows_quarantined:,}; "
        f"{len(report.attention)} refused or not recognised; "
        f"{_plural(len(report.incidents), 'incident')} open"
        + (f" ({_count_text(severities)})" if severities else "")
        + (
            f"; {_plural(report.pending_reprocess, 'reprocess request')} pending"
            if report.pending_reprocess
            else ""
        ),
        "More: dxkpi-dq explain <file>; dxkpi-dq status --all",
    ]


def render_status(report: StatusReport, show_all: bool) -> str:
    """The text of `dxkpi-dq status`."""
    sections = [
        _ward_section(report, show_all),
        _attention_section(report),
        _incident_section(report.incidents),
        _summary_line(report),
    ]
    return "\n\n".join("\n".join(section) for section in sections)


def _status_json(report: StatusReport) -> dict[str, Any]:
    return {
        "needs_attention": report.needs_attention,
        "wards_datasets": [
            {
                "ward_code": s.ward.code,
                "ward_name_en": s.ward.name_en,
                "dataset": s.dataset,
                "last_file": _file_json(s.last) if s.last else None,
                "last_loaded_file": s.last_received.path if s.last_received else None,
                "open_incidents": s.open_incidents,
                "open_dataset_incidents": s.open_dataset_incidents,
                "freshness": s.freshness,
                "problem": s.problem,
            }
            for s in report.statuses
        ],
        "attention_files": [_file_json(record) for record in report.attention],
        "open_incidents": [_incident_json(incident) for incident in report.incidents],
        "summary": {
            "files_by_state": report.files_by_state,
            "rows_loaded": report.rows_loaded,
            "rows_quarantined": report.rows_quarantined,
            "pending_reprocess": report.pending_reprocess,
        },
    }


def _file_json(record: FileRecord) -> dict[str, Any]:
    document = asdict(record)
    document["reason"] = safe_reason(record.reason)
    return document


def _incident_json(incident: IncidentRecord) -> dict[str, Any]:
    return {**asdict(incident), "message": safe_reason(incident.message)}


def command_status(args: argparse.Namespace, settings: Settings) -> int:
    """`dxkpi-dq status`: per ward and dataset, refused files, incidents, counts."""
    scope = _scope(args.ward, args.dataset)
    snapshot = read_snapshot(settings.ledger_path)
    freshness = None
    if args.freshness:
        codes = [ward.code for ward in scope.wards]
        freshness = freshness_states(snapshot, codes, scope.tables, datetime.now(UTC))
    report = status_report(snapshot, settings.landing_dir, scope, freshness)
    if args.json:
        _json(_status_json(report))
    else:
        _out(f"dxkpi-dq status: {settings.ledger_path} (times {_when_zone()})")
        _out()
        _out(render_status(report, args.all))
    return EXIT_ATTENTION if report.needs_attention else EXIT_OK


def _scope(ward_text: str | None, dataset_text: str | None) -> Scope:
    wards, tables = load_wards(), landing_tables()
    ward = resolve_ward(ward_text, wards) if ward_text else None
    table = resolve_dataset(dataset_text, tables) if dataset_text else None
    return Scope([ward] if ward else wards, [table] if table else tables, ward and ward.code, table)


def _when_zone() -> str:
    return datetime.now().astimezone().tzname() or "local"


# dxkpi-dq explain ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFindings:
    """The findings of one rule, severity and column in a file version."""

    rule: str
    severity: str
    column: str
    count: int
    first_lines: list[int]
    message: str


def group_findings(findings: Iterable[Finding]) -> list[RuleFindings]:
    """Findings grouped by rule, severity and column: refusals first, then by count."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.rule, finding.severity, finding.column), []).append(finding)
    grouped = [
        RuleFindings(
            rule,
            severity,
            column,
            len(items),
            sorted(f.line for f in items if f.line is not None)[:FIRST_LINES_SHOWN],
            safe_reason(items[0].message, 200),
        )
        for (rule, severity, column), items in groups.items()
    ]
    return sorted(grouped, key=lambda g: (SEVERITY_ORDER.get(g.severity, 3), -g.count, g.rule))


@dataclass
class Explanation:
    """Everything `explain` shows about one landing path."""

    path: str
    versions: list[FileRecord]
    findings: list[RuleFindings]
    in_landing: bool
    landing_sha256: str | None
    pending_reprocess: list[ReprocessRequest]
    incidents: list[IncidentRecord]

    @property
    def current(self) -> FileRecord:
        """The newest version (by first seen)."""
        return self.versions[-1]

    @property
    def next_step(self) -> str:
        """What to do about the current version."""
        if self.in_landing and self.landing_sha256 not in {v.sha256 for v in self.versions}:
            return (
                "The landing zone holds new bytes the ledger has not seen yet: the landing "
                "sensor reads them at its next tick."
            )
        current = self.current
        if not self.in_landing and current.state in ATTENTION_STATES:
            return "The file is no longer in the landing zone: nothing waits for it."
        return next_step(current.state, current.path, current.rows_quarantined)

    @property
    def data_docs(self) -> str | None:
        """The Data Docs link of the current version's reason, if it names one."""
        return data_docs_link(self.current.reason)


def explain(path: str, snapshot: DqSnapshot, ledger_path: Path, landing: Path) -> Explanation:
    """Gather what the ledger and the landing zone say of one landing path."""
    versions = [record for record in snapshot.files if record.path == path]
    on_disk = landing / path
    in_landing = on_disk.is_file()
    current = versions[-1]
    return Explanation(
        path=path,
        versions=versions,
        findings=group_findings(read_findings(ledger_path, current.path, current.sha256)),
        in_landing=in_landing,
        landing_sha256=file_sha256(on_disk) if in_landing else None,
        pending_reprocess=[p for p in snapshot.pending_reprocess if p.path == path],
        incidents=[i for i in snapshot.open_incidents() if i.file == path],
    )


def render_explanation(explanation: Explanation) -> str:
    """The text of `dxkpi-dq explain`."""
    current = explanation.current
    lines = [f"{explanation.path}  (times {_when_zone()})"]
    if current.ward_code:
        lines.append(
            f"  ward {current.ward_code}, dataset {current.dataset}, "
            f"reference date {current.reference_date}"
        )
    where = "in the landing zone" if explanation.in_landing else "no longer in the landing zone"
    if explanation.landing_sha256:
        where += f", sha256 {explanation.landing_sha256[:12]}"
    lines += [f"  {where}", "", f"Versions ({len(explanation.versions)}, oldest first)"]
    lines += _table(
        ["sha256", "first seen", "updated", "state", "reason"],
        [
            [
                v.sha256[:12],
                _when(v.first_seen),
                _when(v.updated_at),
                v.state,
                safe_reason(v.reason, 120) or "-",
            ]
            for v in explanation.versions
        ],
    )
    lines += ["", f"Current version {current.sha256[:12]}: {current.state}"]
    lines += [f"  reason: {line}" for line in reason_lines(current.reason)]
    lines.append(
        f"  rows read {_number(current.rows_read)}, loaded {_number(current.rows_loaded)}, "
        f"quarantined {_number(current.rows_quarantined)}"
    )
    if current.run_id:
        lines.append(f"  run: {current.run_id}")
    lines += ["", *_findings_lines(explanation.findings)]
    lines += ["", f"Next: {explanation.next_step}"]
    if explanation.data_docs:
        lines.append(f"Data Docs: {explanation.data_docs}")
    for request in explanation.pending_reprocess:
        lines.append(
            f"Reprocess request #{request.id} pending since {_when(_moment(request.requested_at))}."
        )
    for incident in explanation.incidents:
        lines.append(
            f"Open incident: {incident.severity} {incident.title} (since "
            f"{_when(incident.opened_at)}) {incident.link}"
        )
    return "\n".join(lines)


def _where_found(group: RuleFindings) -> str:
    """`whole file`, `line 5`, `lines 4, 8, …`."""
    if not group.first_lines:
        return "whole file"
    more = ", …" if group.count > len(group.first_lines) else ""
    noun = "line" if group.count == 1 else "lines"
    return f"{noun} {', '.join(map(str, group.first_lines))}{more}"


def _findings_lines(findings: Sequence[RuleFindings]) -> list[str]:
    if not findings:
        return ["Findings: none recorded"]
    lines = [f"Findings by rule ({sum(f.count for f in findings):,})"]
    for group in findings:
        lines.append(
            f"  {group.severity:<10} {group.rule}  column {group.column or '(file)'}  "
            f"{_plural(group.count, 'time')}, {_where_found(group)}"
        )
        lines.append(f"             {group.message}")
    return lines


def _explanation_json(explanation: Explanation) -> dict[str, Any]:
    return {
        "path": explanation.path,
        "in_landing_zone": explanation.in_landing,
        "landing_sha256": explanation.landing_sha256,
        "versions": [_file_json(version) for version in explanation.versions],
        "current": _file_json(explanation.current),
        "findings": [asdict(group) for group in explanation.findings],
        "next_step": explanation.next_step,
        "data_docs": explanation.data_docs,
        "pending_reprocess": [asdict(request) for request in explanation.pending_reprocess],
        "open_incidents": [_incident_json(incident) for incident in explanation.incidents],
    }


def command_explain(args: argparse.Namespace, settings: Settings) -> int:
    """`dxkpi-dq explain <file>`: every version, findings by rule, what to do next."""
    snapshot = read_snapshot(settings.ledger_path)
    known = {record.path for record in snapshot.files}
    path = resolve_file(args.file, settings.landing_dir, known)
    if path not in known:
        landed = (settings.landing_dir / path).is_file()
        raise UsageError(
            f"{path}: no entry in the ledger {settings.ledger_path} yet"
            + (" (it is in the landing zone: the landing sensor records it)" if landed else "")
        )
    explanation = explain(path, snapshot, settings.ledger_path, settings.landing_dir)
    if args.json:
        _json(_explanation_json(explanation))
    else:
        _out(render_explanation(explanation))
    return EXIT_OK


# dxkpi-dq reprocess -------------------------------------------------------------------------


def command_reprocess(args: argparse.Namespace, settings: Settings) -> int:
    """`dxkpi-dq reprocess <file>`: ask the landing sensor to read a file again."""
    snapshot = read_snapshot(settings.ledger_path)
    known = {record.path for record in snapshot.files}
    path = resolve_file(args.file, settings.landing_dir, known)
    if not (settings.landing_dir / path).is_file():
        raise UsageError(f"{path} is not in the landing zone {settings.landing_dir}")
    pending = [p for p in snapshot.pending_reprocess if p.path == path]
    if pending:
        _out(
            f"{path}: request #{pending[0].id} is already pending (since "
            f"{_when(_moment(pending[0].requested_at))}); "
            "the landing sensor reads the file again at its next tick."
        )
        return EXIT_OK
    request_id = Ledger(settings.ledger_path).request_reprocess(path)
    _out(
        f"{path}: reprocess request #{request_id} recorded. The landing sensor reads the file "
        "again at its next tick (every 5 s while the daemon runs) and asks for a run; see the "
        f"outcome with `dxkpi-dq explain {path}`."
    )
    return EXIT_OK


# Entry point --------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dxkpi-dq",
        description="The operator's data-quality loop: what came in, what was refused and why, "
        "and asking for a file to be read again. Reads the landing ledger and the alert "
        "incidents only (never the warehouse), so it works while the pipeline runs.",
        epilog="Exit codes: 0 all well, 1 needs attention (status: a refused file or an open "
        "ERROR incident), 2 usage error or unknown file.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="per ward and dataset; refused files; incidents")
    status.add_argument("--ward", help="one ward: code or name (131016, Chiyoda, 千代田区)")
    status.add_argument("--dataset", help="one dataset: hr_staff, hr/staff or staff")
    status.add_argument("--all", action="store_true", help="list every ward x dataset")
    status.add_argument(
        "--freshness",
        action="store_true",
        help="evaluate each ward's freshness (orchestration/freshness.yaml; loads Dagster, ~4 s)",
    )
    status.add_argument("--json", action="store_true", help="JSON for scripts")
    explain_command = commands.add_parser("explain", help="one file: versions, findings, next step")
    explain_command.add_argument("file", help="path in the landing zone, file name, or absolute")
    explain_command.add_argument("--json", action="store_true", help="JSON for scripts")
    reprocess = commands.add_parser(
        "reprocess", help="ask the landing sensor to read a file again (after a rule change)"
    )
    reprocess.add_argument("file", help="path in the landing zone, file name, or absolute")
    return parser


COMMANDS = {"status": command_status, "explain": command_explain, "reprocess": command_reprocess}


def main(argv: list[str] | None = None) -> int:
    """Entry point of `dxkpi-dq`; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return int(stop.code or 0)
    try:
        return COMMANDS[args.command](args, load_settings())
    except UsageError as error:
        _err(str(error))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
