"""Incidents and the outbox of their messages, in one SQLite file beside the landing ledger.

An incident is something that needs a human: a failed check, a refused file, a failed run, an
overdue source. It has a stable key (kind + asset/check, run target or file path), so the same
problem seen again while it is open is the same incident: one message when it opens, none while
it stays open, one when it resolves. A later failure after a resolution opens a new incident
(a new row: the history is kept).

Each message is written to the outbox, one row per channel, in the same transaction as the
transition. Delivery (`orchestration.alerts.channels.deliver`) reads the outbox, marks what a
channel accepted and leaves the rest for a later tick with a backoff, so a channel that is down
loses nothing and never raises into the pipeline.

The store is its own SQLite file (`alerts.sqlite` beside the landing ledger, see
`alerts_db_path`), not a table of the ledger: the ledger's schema belongs to ingestion and its
write lock to the landing sensor and the runs; not the DuckDB warehouse either, which admits one
process. SQLite in WAL mode lets the operator read it while the sensor writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingestion.common.sqlite_file import SqliteFile

ERROR = "ERROR"
WARN = "WARN"
OPENED = "opened"
RESOLVED = "resolved"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
ALERTS_DB_NAME = "alerts.sqlite"
# Backoff of a message a channel refused: 30 s, 1 min, 2 min, ... at most an hour.
FIRST_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 3600.0

_DDL = (
    """create table if not exists alert_incidents (
        id integer primary key autoincrement,
        key text not null,
        kind text not null,
        severity text not null,
        title text not null,
        message text not null,
        action text not null,
        link text not null,
        ward text,
        dataset text,
        file text,
        rule text,
        opened_at text not null,
        resolved_at text,
        resolution text,
        last_event_id integer
    )""",
    # At most one open incident per key.
    """create unique index if not exists alert_incidents_open
        on alert_incidents (key) where resolved_at is null""",
    "create index if not exists alert_incidents_key on alert_incidents (key, id)",
    """create table if not exists alert_outbox (
        id integer primary key autoincrement,
        incident_id integer not null references alert_incidents (id),
        channel text not null,
        body text not null,
        created_at text not null,
        attempts integer not null default 0,
        next_attempt_at text not null,
        delivered_at text,
        last_error text
    )""",
    """create index if not exists alert_outbox_pending
        on alert_outbox (channel, id) where delivered_at is null""",
)


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def ui_url() -> str:
    """The Dagster UI's base URL (`DXKPI_UI_URL`), without a trailing slash."""
    return os.environ.get("DXKPI_UI_URL", DEFAULT_UI_URL).rstrip("/")


def alerts_db_path(ledger_path: Path) -> Path:
    """The incident store of a deployment: `alerts.sqlite` beside its landing ledger."""
    return Path(ledger_path).with_name(ALERTS_DB_NAME)


def backoff_seconds(attempts: int) -> float:
    """How long to wait before the next attempt after `attempts` failed ones."""
    return min(FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


@dataclass(frozen=True)
class Incident:
    """What a source knows of a problem.

    Attributes:
        key: Stable identity, e.g. `check:raw/hr_staff:expectation_suite` or
            `file:hr/131016_staff_20250401.csv`.
        kind: `check`, `run`, `freshness` or `file`.
        severity: `ERROR` (blocks publication or lost work) or `WARN` (reported).
        title: One line naming the problem (no personal data: files, rules, counts).
        message: What happened, in a sentence or two.
        action: What to do.
        link: The page of the Dagster UI to open.
        ward: The ward code, when the problem is one ward's.
        dataset: The raw table, e.g. `hr_staff`, when known.
        file: The landing file, relative to the landing zone, when the problem is a file's.
        rule: The check or rule name.
    """

    key: str
    kind: str
    severity: str
    title: str
    message: str
    action: str
    link: str
    ward: str | None = None
    dataset: str | None = None
    file: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Transition:
    """A source's verdict on one incident key: open it, or resolve it with a note.

    `event_id` is the Dagster storage id of the event that said so (None for state read from
    the ledger): an event not newer than the last one applied to the key is ignored, so a tick
    replayed after a crash sends nothing twice.
    """

    incident: Incident
    opens: bool
    note: str = ""
    event_id: int | None = None


@dataclass(frozen=True)
class Alert:
    """One message: an incident that opened or resolved, as every channel renders it."""

    status: str
    key: str
    kind: str
    severity: str
    title: str
    message: str
    action: str
    link: str
    opened_at: str
    resolved_at: str | None = None
    resolution: str | None = None
    ward: str | None = None
    dataset: str | None = None
    file: str | None = None
    rule: str | None = None

    def to_json(self) -> str:
        """The alert as one JSON object (a JSON-lines line, the outbox body)."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Alert:
        """An alert read back from the outbox."""
        return cls(**json.loads(text))


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting for one channel."""

    id: int
    channel: str
    alert: Alert
    attempts: int
    next_attempt_at: datetime


@dataclass
class ApplyResult:
    """What applying a batch of transitions did."""

    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


class IncidentStore(SqliteFile):
    """Incidents and the outbox, in one SQLite file (created on first use)."""

    ddl = _DDL
    rows_by_name = True

    # Transitions --------------------------------------------------------------------------

    def apply(
        self,
        transitions: Iterable[Transition],
        channels: Sequence[str],
        now: datetime,
        quiet: bool = False,
    ) -> ApplyResult:
        """Open and resolve incidents, and queue one message per channel for each change.

        Opening a key that is open, or resolving one that is not, changes nothing and sends
        nothing. With `quiet` (catching up on history), only incidents still open at the end of
        the batch are announced: a problem that came and went before the sensor existed is
        recorded but not sent.
        """
        result = ApplyResult()
        with self._transaction() as con:
            for transition in transitions:
                alert = self._apply_one(con, transition, now, result)
                if alert is not None and not quiet:
                    self._enqueue(con, alert, channels, now)
            if quiet:
                newest = {alert.key: alert for alert in result.opened}
                for key, alert in newest.items():
                    if self._is_open(con, key):
                        self._enqueue(con, alert, channels, now)
        return result

    def _apply_one(
        self, con: sqlite3.Connection, transition: Transition, now: datetime, result: ApplyResult
    ) -> Alert | None:
        """Apply one transition; the alert it raises, if it changed anything."""
        key = transition.incident.key
        last = con.execute(
            "select max(last_event_id) from alert_incidents where key = ?", [key]
        ).fetchone()[0]
        if transition.event_id is not None and last is not None and transition.event_id <= last:
            return None  # seen before this tick: a replay
        row = con.execute(
            "select * from alert_incidents where key = ? and resolved_at is null", [key]
        ).fetchone()
        if transition.opens and row is None:
            result.opened.append(self._open(con, transition, now))
            return result.opened[-1]
        if not transition.opens and row is not None:
            result.resolved.append(self._resolve(con, row, transition, now))
            return result.resolved[-1]
        if row is not None:
            con.execute(
                "update alert_incidents set last_event_id = max(coalesce(last_event_id, -1), ?)"
                " where id = ?",
                [transition.event_id if transition.event_id is not None else -1, row["id"]],
            )
        return None

    def _open(self, con: sqlite3.Connection, transition: Transition, now: datetime) -> Alert:
        incident = transition.incident
        values = asdict(incident)
        values.update(opened_at=_iso(now), last_event_id=transition.event_id)
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        con.execute(
            f"insert into alert_incidents ({columns}) values ({marks})", list(values.values())
        )
        return Alert(status=OPENED, opened_at=_iso(now), **asdict(incident))

    def _resolve(
        self, con: sqlite3.Connection, row: sqlite3.Row, transition: Transition, now: datetime
    ) -> Alert:
        con.execute(
            "update alert_incidents set resolved_at = ?, resolution = ?, "
            "last_event_id = coalesce(?, last_event_id) where id = ?",
            [_iso(now), transition.note, transition.event_id, row["id"]],
        )
        return Alert(
            status=RESOLVED,
            resolved_at=_iso(now),
            resolution=transition.note,
            **{name: row[name] for name in _INCIDENT_COLUMNS},
        )

    @staticmethod
    def _is_open(con: sqlite3.Connection, key: str) -> bool:
        row = con.execute(
            "select 1 from alert_incidents where key = ? and resolved_at is null", [key]
        ).fetchone()
        return row is not None

    @staticmethod
    def _enqueue(
        con: sqlite3.Connection, alert: Alert, channels: Sequence[str], now: datetime
    ) -> None:
        incident_id = con.execute(
            "select max(id) from alert_incidents where key = ?", [alert.key]
        ).fetchone()[0]
        con.executemany(
            "insert into alert_outbox (incident_id, channel, body, created_at, next_attempt_at) "
            "values (?, ?, ?, ?, ?)",
            [(incident_id, channel, alert.to_json(), _iso(now), _iso(now)) for channel in channels],
        )

    # Reading ------------------------------------------------------------------------------

    def open_incidents(self, kind: str | None = None) -> list[Incident]:
        """The incidents open now (of one kind), oldest first."""
        where = "where resolved_at is null" + (" and kind = ?" if kind else "")
        with self._connect() as con:
            rows = con.execute(
                f"select * from alert_incidents {where} order by id", [kind] if kind else []
            ).fetchall()
        return [Incident(**{name: row[name] for name in _FIELDS}) for row in rows]

    def open_keys(self, kind: str) -> set[str]:
        """The keys of the incidents of one kind open now."""
        return {incident.key for incident in self.open_incidents(kind)}

    # Outbox -------------------------------------------------------------------------------

    def pending(self, channel: str, limit: int = 100) -> list[OutboxItem]:
        """Messages not yet delivered to `channel`, oldest first (due or not)."""
        with self._connect() as con:
            rows = con.execute(
                "select id, channel, body, attempts, next_attempt_at from alert_outbox "
                "where channel = ? and delivered_at is null order by id limit ?",
                [channel, limit],
            ).fetchall()
        return [
            OutboxItem(
                id=row["id"],
                channel=row["channel"],
                alert=Alert.from_json(row["body"]),
                attempts=row["attempts"],
                next_attempt_at=datetime.fromisoformat(row["next_attempt_at"]),
            )
            for row in rows
        ]

    def pending_channels(self) -> list[str]:
        """The channels with messages waiting."""
        with self._connect() as con:
            rows = con.execute(
                "select distinct channel from alert_outbox where delivered_at is null"
            ).fetchall()
        return sorted(row[0] for row in rows)

    def mark_delivered(self, item_id: int, now: datetime) -> None:
        """A channel accepted the message."""
        with self._transaction() as con:
            con.execute(
                "update alert_outbox set delivered_at = ?, attempts = attempts + 1 where id = ?",
                [_iso(now), item_id],
            )

    def mark_failed(
        self, item: OutboxItem, error: str, now: datetime, retry_after: float | None = None
    ) -> None:
        """A channel refused the message: try again after a backoff (or the channel's
        Retry-After, when longer)."""
        wait = max(backoff_seconds(item.attempts + 1), retry_after or 0.0)
        with self._transaction() as con:
            con.execute(
                "update alert_outbox set attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ? where id = ?",
                [error[:500], _iso(now + timedelta(seconds=wait)), item.id],
            )


_FIELDS = tuple(Incident.__dataclass_fields__)
_INCIDENT_COLUMNS = (*_FIELDS, "opened_at")
