"""The landing ledger: every file version seen in the landing zone, and what became of it.

One row per file and content hash (`path`, `sha256`): the landing-zone sensor writes it when
it asks for a run (`requested`), the run that reads the file writes the outcome (`loaded`,
`replaced`, `unchanged`, `rejected`, ...). A file whose name, folder, dataset or ward is not
recognised gets the outcome `not_recognised` with its reason: nothing is silently ignored.

The ledger is a SQLite file beside the warehouse, not a table in it: the DuckDB warehouse
admits one process at a time, while the sensor, the runs and the operator all need the
ledger during a load. SQLite in WAL mode lets them read while one of them writes.

It also caches each path's content hash with the file's stat, so a sensor tick hashes only
the files that changed since the last one (see `Ledger.hash_files`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingestion.common.problems import Finding
from ingestion.common.sqlite_file import SqliteFile

REQUESTED = "requested"
SETTLING = "settling"
NOT_RECOGNISED = "not_recognised"
RUN_FAILED = "run_failed"
# Outcomes that mean a ward's export arrived and its data is in the warehouse.
RECEIVED_STATES = frozenset({"loaded", "replaced", "unchanged"})
# Outcomes that settle a file version: it is never requested again.
FINAL_STATES = frozenset(
    {
        "loaded",
        "replaced",
        "unchanged",
        "rejected",
        "still_rejected",
        "superseded",
        "vanished",
        NOT_RECOGNISED,
        RUN_FAILED,
    }
)

# The findings of file versions summed up per rule and severity: how many, the first line,
# the columns, and the message of the first one (SQLite takes the bare column `message` from
# the row holding min(line)). Kept in `file_finding_counts` as each version is recorded, so a
# reader of the summaries (each publication's dq tables, `dxkpi-dq`) does not group every
# finding ever recorded (1.08M at national scale) each time.
FINDING_COUNTS_SELECT = (
    "select path, sha256, rule, severity, count(*), min(line), "
    "group_concat(distinct column_name), message from file_findings"
)
FINDING_COUNTS_GROUPS = "group by path, sha256, rule, severity"

_DDL = (
    """create table if not exists landing_files (
        path text not null,
        sha256 text not null,
        size integer not null,
        state text not null,
        reason text not null default '',
        run_key text,
        run_id text,
        attempts integer not null default 0,
        first_seen text not null,
        updated_at text not null,
        primary key (path, sha256)
    )""",
    "create index if not exists landing_files_state on landing_files (state, run_key)",
    # Rows of a file version: read, loaded, set aside in the quarantine (None when not read).
    """create table if not exists file_rows (
        path text not null,
        sha256 text not null,
        rows_read integer not null,
        rows_loaded integer not null,
        rows_quarantined integer not null,
        primary key (path, sha256)
    )""",
    # What was found in a file version: rows quarantined (`quarantine`), why it was refused
    # (`refusal`), what loaded but deserves a look (`warning`). Never a cell's text.
    """create table if not exists file_findings (
        path text not null,
        sha256 text not null,
        line integer,
        column_name text not null,
        rule text not null,
        severity text not null,
        message text not null
    )""",
    "create index if not exists file_findings_file on file_findings (path, sha256)",
    # The findings of one severity (the warnings a check lists) without walking the
    # quarantined rows of every file: 1.08M of them at national scale.
    "create index if not exists file_findings_severity on file_findings (severity, path)",
    """create table if not exists file_finding_counts (
        path text not null,
        sha256 text not null,
        rule text not null,
        severity text not null,
        finding_count integer not null,
        first_line integer,
        columns text,
        message text not null,
        primary key (path, sha256, rule, severity)
    )""",
    # Files an operator asked to read again (after a rule or reference change).
    """create table if not exists reprocess_requests (
        id integer primary key autoincrement,
        path text not null,
        requested_at text not null,
        run_key text,
        dispatched_at text
    )""",
    # The hash of each path's bytes as last read, with the stat it was read at. It replaces
    # `landing_hashes`, which kept no inode nor ctime: its hashes cannot be trusted against a
    # file replaced with the same size and mtime, so they are dropped (a cache: each file is
    # hashed once more).
    """create table if not exists landing_file_hashes (
        path text primary key,
        size integer not null,
        mtime_ns integer not null,
        ctime_ns integer not null,
        inode integer not null,
        sha256 text not null
    )""",
    "drop table if exists landing_hashes",
)


def current_findings_query() -> str:
    """The query of `Ledger.current_findings`: severity, path prefix, then the states."""
    placeholders = ", ".join("?" * len(RECEIVED_STATES))
    return (
        "select f.path, f.line, f.column_name, f.rule, f.severity, f.message "
        "from file_findings f join landing_files l using (path, sha256) "
        f"where f.severity = ? and f.path like ? and l.state in ({placeholders}) "
        "and l.first_seen = (select max(first_seen) from landing_files n "
        "where n.path = f.path) order by f.path, coalesce(f.line, 0)"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def file_stamp(stat: os.stat_result) -> tuple[int, int, int, int]:
    """What tells a file's bytes may have changed: size, mtime, ctime (ns) and inode.

    The inode changes when a new file replaces the path (`os.replace`, a copy renamed into
    place), whatever its size and times; the ctime when the file is written, renamed or has
    its mtime set back (`cp -p`, `touch -d`).
    """
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileVersion:
    """One version of a landing file: its path relative to the landing zone and its hash."""

    path: str
    sha256: str
    size: int = 0


@dataclass(frozen=True)
class Receipt:
    """The newest export of one dataset received from one ward.

    Attributes:
        table: The raw table the dataset loads into, e.g. `hr_staff`.
        ward_code: The sending ward (the first six characters of the file name).
        path: The file, relative to the landing zone.
        first_seen: When the ledger first saw that file version (UTC).
    """

    table: str
    ward_code: str
    path: str
    first_seen: datetime


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows of one file version."""

    path: str
    sha256: str
    size: int
    state: str
    reason: str
    run_key: str | None
    run_id: str | None
    attempts: int
    first_seen: str
    updated_at: str


@dataclass(frozen=True)
class RowCounts:
    """Rows of one file version: read, loaded into the warehouse, set aside."""

    read: int
    loaded: int
    quarantined: int


@dataclass(frozen=True)
class FileOutcome:
    """The outcome of one file version, as a run records it.

    Attributes:
        version: The file version.
        state: One of `FINAL_STATES`.
        reason: Why (the refusal's cause), empty when there is nothing to say.
        rows: The rows read, loaded and quarantined, when the file was read.
        findings: Everything found in the file; None keeps what an earlier run recorded.
    """

    version: FileVersion
    state: str
    reason: str = ""
    rows: RowCounts | None = None
    findings: list[Finding] | None = None


@dataclass(frozen=True)
class ReprocessRequest:
    """An operator's request to read a file again."""

    id: int
    path: str
    requested_at: str


# A second look at the same bytes: never hides the outcome of the look that mattered.
_WEAK_STATES = ("unchanged", "still_rejected")


class Ledger(SqliteFile):
    """The landing ledger in one SQLite file (created on first use)."""

    ddl = _DDL

    def _create(self, con: sqlite3.Connection) -> None:
        """Create what is missing; a ledger written before the finding counts were kept gets
        them once, from its findings, when the table is created (`or ignore`: two processes
        may both find it missing)."""
        counted = con.execute(
            "select 1 from sqlite_master where type = 'table' and name = 'file_finding_counts'"
        ).fetchone()
        super()._create(con)
        if counted is None:
            con.execute(
                f"insert or ignore into file_finding_counts {FINDING_COUNTS_SELECT} "
                f"{FINDING_COUNTS_GROUPS}"
            )

    # Hashes -------------------------------------------------------------------------------

    def hash_files(self, landing: Path, paths: Iterable[Path]) -> dict[Path, FileVersion]:
        """Hash each file whose stat moved since it was last hashed; reuse the others' hashes.

        The SHA-256 of the bytes stays what identifies a file version; the stat (`file_stamp`:
        size, mtime and ctime in ns, inode) only says when it must be read again. A file
        replaced by another (a new inode) or written to (a new mtime and ctime) is hashed
        again. Accepted edge: a file rewritten in place with the same size within one tick of
        the filesystem's clock (the same mtime and ctime to the nanosecond) keeps its old hash
        until its stat moves again.
        """
        with self._connect() as con:
            cached = {
                row[0]: (tuple(row[1:5]), row[5])
                for row in con.execute(
                    "select path, size, mtime_ns, ctime_ns, inode, sha256 from landing_file_hashes"
                )
            }
        versions: dict[Path, FileVersion] = {}
        fresh: list[tuple[object, ...]] = []
        for path in paths:
            relative = path.relative_to(landing).as_posix()
            try:
                stat = path.stat()
                stamp = file_stamp(stat)
                known = cached.get(relative)
                if known and known[0] == stamp:
                    digest = known[1]
                else:
                    digest = file_sha256(path)
                    fresh.append((relative, *stamp, digest))
            except FileNotFoundError:
                continue  # removed while we looked: the next tick will not see it either
            versions[path] = FileVersion(relative, digest, stat.st_size)
        if fresh:
            with self._transaction() as con:
                con.executemany(
                    "insert or replace into landing_file_hashes values (?, ?, ?, ?, ?, ?)", fresh
                )
        return versions

    # States -------------------------------------------------------------------------------

    def known(self, versions: Iterable[FileVersion]) -> set[tuple[str, str]]:
        """The (path, sha256) pairs among `versions` that the ledger has settled or asked for.

        A version recorded `not_recognised` does not count: offered again as an export, it was
        made readable since (its ward added to the seed, a dataset added to the registry).
        """
        wanted = {(v.path, v.sha256) for v in versions}
        with self._connect() as con:
            rows = con.execute(
                "select path, sha256 from landing_files where state != ?", [NOT_RECOGNISED]
            ).fetchall()
        return wanted & {(row[0], row[1]) for row in rows}

    def request(self, versions: Iterable[FileVersion], run_key: str) -> None:
        """Record that a run was asked for to read these file versions."""
        now = _now()
        with self._transaction() as con:
            con.executemany(
                "insert into landing_files (path, sha256, size, state, run_key, attempts, "
                "first_seen, updated_at) values (?, ?, ?, ?, ?, 1, ?, ?) "
                "on conflict (path, sha256) do update set state = excluded.state, "
                "run_key = excluded.run_key, attempts = landing_files.attempts + 1, "
                "updated_at = excluded.updated_at",
                [(v.path, v.sha256, v.size, REQUESTED, run_key, now, now) for v in versions],
            )

    def requested(self) -> dict[str, list[LedgerEntry]]:
        """File versions asked for whose run has not recorded an outcome yet, by run key."""
        batches: dict[str, list[LedgerEntry]] = {}
        for entry in self._entries("where state = ?", [REQUESTED]):
            batches.setdefault(entry.run_key or "", []).append(entry)
        return batches

    def record(
        self,
        version: FileVersion,
        state: str,
        reason: str = "",
        run_id: str | None = None,
    ) -> None:
        """Record the outcome of one file version (see `record_outcomes`)."""
        self.record_outcomes([FileOutcome(version, state, reason)], run_id)

    def record_many(
        self, outcomes: Iterable[tuple[FileVersion, str, str]], run_id: str | None = None
    ) -> None:
        """Record outcomes given as (version, state, reason) (see `record_outcomes`)."""
        self.record_outcomes((FileOutcome(*outcome) for outcome in outcomes), run_id)

    def record_outcomes(self, outcomes: Iterable[FileOutcome], run_id: str | None = None) -> None:
        """Record outcomes, with their row counts and findings, in one transaction.

        A weak outcome (`unchanged`, `still_rejected`: a second look at the same bytes) never
        hides the outcome that mattered, e.g. the `loaded` of the run that loaded them, nor
        its findings.
        """
        now = _now()
        with self._transaction() as con:
            for outcome in outcomes:
                self._record_one(con, outcome, run_id, now)

    @staticmethod
    def _record_one(
        con: sqlite3.Connection, outcome: FileOutcome, run_id: str | None, now: str
    ) -> None:
        version, state = outcome.version, outcome.state
        if state not in FINAL_STATES:
            raise ValueError(f"unknown landing-file state {state!r}")
        con.execute(
            "insert into landing_files (path, sha256, size, state, reason, run_id, "
            "first_seen, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?) "
            "on conflict (path, sha256) do update set state = excluded.state, "
            "reason = excluded.reason, run_id = excluded.run_id, "
            "updated_at = excluded.updated_at "
            "where not (excluded.state in ('unchanged', 'still_rejected') "
            "and landing_files.state in ('loaded', 'replaced', 'rejected'))",
            [version.path, version.sha256, version.size, state, outcome.reason, run_id, now, now],
        )
        if state in _WEAK_STATES:
            return
        key = [version.path, version.sha256]
        if outcome.rows is not None:
            rows = outcome.rows
            con.execute(
                "insert or replace into file_rows values (?, ?, ?, ?, ?)",
                [*key, rows.read, rows.loaded, rows.quarantined],
            )
        if outcome.findings is not None:
            con.execute("delete from file_findings where path = ? and sha256 = ?", key)
            con.executemany(
                "insert into file_findings values (?, ?, ?, ?, ?, ?, ?)",
                [(*key, f.line, f.column, f.rule, f.severity, f.message) for f in outcome.findings],
            )
            con.execute("delete from file_finding_counts where path = ? and sha256 = ?", key)
            con.execute(
                f"insert into file_finding_counts {FINDING_COUNTS_SELECT} "
                f"where path = ? and sha256 = ? {FINDING_COUNTS_GROUPS}",
                key,
            )

    def record_settling(self, paths: Iterable[tuple[str, int]]) -> None:
        """Record the files still being written, (path, size), as `settling` with no hash yet;
        forget the settling rows of the files that are not any more (settled or gone)."""
        settling = list(paths)
        with self._connect() as con:
            known = {
                row[0]
                for row in con.execute("select path from landing_files where state = ?", [SETTLING])
            }
        gone = known - {path for path, _ in settling}
        if not settling and not gone:
            return  # the usual tick: nothing to write
        now = _now()
        with self._transaction() as con:
            con.executemany(
                "delete from landing_files where path = ? and sha256 = '' and state = ?",
                [(path, SETTLING) for path in gone],
            )
            con.executemany(
                "insert into landing_files (path, sha256, size, state, first_seen, updated_at) "
                "values (?, '', ?, ?, ?, ?) on conflict (path, sha256) do update set "
                "size = excluded.size, updated_at = excluded.updated_at",
                [(path, size, SETTLING, now, now) for path, size in settling],
            )

    def rows(self, path: str, sha256: str) -> RowCounts | None:
        """The rows read, loaded and quarantined of one file version, if it was read."""
        with self._connect() as con:
            row = con.execute(
                "select rows_read, rows_loaded, rows_quarantined from file_rows "
                "where path = ? and sha256 = ?",
                [path, sha256],
            ).fetchone()
        return RowCounts(*row) if row else None

    def findings(self, path: str, sha256: str) -> list[Finding]:
        """Everything found in one file version, by line (file-wide findings first)."""
        with self._connect() as con:
            rows = con.execute(
                "select line, column_name, rule, severity, message from file_findings "
                "where path = ? and sha256 = ? order by coalesce(line, 0), column_name, rule",
                [path, sha256],
            ).fetchall()
        return [Finding(*row) for row in rows]

    def current_findings(self, severity: str, prefix: str = "") -> dict[str, list[Finding]]:
        """Findings of one severity on the newest version of each path (under `prefix`), when
        that version is in the warehouse: e.g. the schema drift of the files loaded now.

        Read from the findings of that severity, so the cost follows them, not the history.
        """
        with self._connect() as con:
            rows = con.execute(
                current_findings_query(), [severity, prefix + "%", *sorted(RECEIVED_STATES)]
            ).fetchall()
        found: dict[str, list[Finding]] = {}
        for path, *finding in rows:
            found.setdefault(path, []).append(Finding(*finding))
        return found

    # Reprocessing -------------------------------------------------------------------------

    def request_reprocess(self, path: str) -> int:
        """Ask for a file to be read again; return the request's id."""
        with self._transaction() as con:
            cursor = con.execute(
                "insert into reprocess_requests (path, requested_at) values (?, ?)",
                [path, _now()],
            )
            return int(cursor.lastrowid or 0)

    def pending_reprocess(self) -> list[ReprocessRequest]:
        """Reprocess requests no run was asked for yet, oldest first."""
        with self._connect() as con:
            rows = con.execute(
                "select id, path, requested_at from reprocess_requests "
                "where dispatched_at is null order by id"
            ).fetchall()
        return [ReprocessRequest(*row) for row in rows]

    def dispatch_reprocess(self, ids: Iterable[int], run_key: str) -> None:
        """Record that a run was asked for to serve these reprocess requests."""
        now = _now()
        with self._transaction() as con:
            con.executemany(
                "update reprocess_requests set dispatched_at = ?, run_key = ? where id = ?",
                [(now, run_key, request_id) for request_id in ids],
            )

    def entries(self, path: str | None = None) -> list[LedgerEntry]:
        """Every file version recorded (or those of one path), oldest first."""
        if path is None:
            return self._entries("", [])
        return self._entries("where path = ?", [path])

    def newest_entries(self, states: Iterable[str], paths: Iterable[str]) -> list[LedgerEntry]:
        """The newest version of each path whose newest version is in `states` (refused,
        say), or whose path is in `paths`; oldest first.

        What a reader of a few problem files needs without reading every version recorded:
        the candidates come from the state index and the primary key, and each is checked
        against the later versions of its own path only.
        """
        states, paths = sorted(states), sorted(paths)
        placeholders = ", ".join("?" * len(states)) or "null"
        return self._entries(
            f"as f where (f.state in ({placeholders}) "
            "or f.path in (select value from json_each(?))) "
            "and not exists (select 1 from landing_files as later where later.path = f.path "
            "and (later.first_seen > f.first_seen "
            "or (later.first_seen = f.first_seen and later.rowid > f.rowid)))",
            [*states, json.dumps(paths)],
        )

    def state_counts(self) -> dict[str, int]:
        """How many file versions are in each state, counted by the database."""
        with self._connect() as con:
            rows = con.execute("select state, count(*) from landing_files group by state")
            return dict(rows.fetchall())

    def latest_receipts(self) -> dict[tuple[str, str], Receipt]:
        """The newest export received per (raw table, ward code), by `first_seen`.

        Only versions in `RECEIVED_STATES` count: a refused or unrecognised file is not a
        receipt. Their paths are `<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv`, as the run
        that loaded them checked.
        """
        placeholders = ", ".join("?" * len(RECEIVED_STATES))
        with self._connect() as con:
            rows = con.execute(
                f"select path, max(first_seen) from landing_files "
                f"where state in ({placeholders}) group by path",
                sorted(RECEIVED_STATES),
            ).fetchall()
        latest: dict[tuple[str, str], Receipt] = {}
        for path, first_seen in rows:
            receipt = _receipt(path, first_seen)
            key = (receipt.table, receipt.ward_code)
            if key not in latest or receipt.first_seen > latest[key].first_seen:
                latest[key] = receipt
        return latest

    def _entries(self, where: str, parameters: list[object]) -> list[LedgerEntry]:
        with self._connect() as con:
            rows = con.execute(
                "select path, sha256, size, state, reason, run_key, run_id, attempts, "
                f"first_seen, updated_at from landing_files {where} order by first_seen, path",
                parameters,
            ).fetchall()
        return [LedgerEntry(*row) for row in rows]


def _receipt(path: str, first_seen: str) -> Receipt:
    """`hr/131016_staff_20250401.csv` seen at `first_seen` -> a receipt of hr_staff from 131016."""
    system, name = path.split("/", 1)
    dataset = name.split("_", 1)[1].rsplit("_", 1)[0]
    return Receipt(f"{system}_{dataset}", name[:6], path, datetime.fromisoformat(first_seen))
