"""The data-quality history published with the marts: schema `dq` of the serving file, read from
a hand-built landing ledger and incident store, in the same atomic swap as the marts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.common import sqlite_file
from ingestion.common.ledger import (
    FINDING_COUNTS_SELECT,
    FileOutcome,
    FileVersion,
    Ledger,
    RowCounts,
)
from ingestion.common.problems import QUARANTINE, REFUSAL, WARNING, Finding
from orchestration.alerts.incidents import (
    ERROR,
    WARN,
    Incident,
    IncidentStore,
    Transition,
    alerts_db_path,
)
from orchestration.dq import publication_tables
from orchestration.dq.readings import read_snapshot
from orchestration.serving import publish_marts

LOADED = "hr/131016_staff_20250401.csv"
REFUSED = "hr/131024_staff_20250401.csv"
STRAY = "hr/notes.txt"
DQ_TABLES = {"file_outcomes", "findings_summary", "ward_dataset_status", "incidents"}


def make_warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.fct_kpi_values as select 1 as value")


def record(ledger: Ledger, landing: Path, path: str, text: str, state: str, **outcome) -> None:
    """Drop `text` as `path` in the landing zone and record its outcome."""
    file = landing / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    version = ledger.hash_files(landing, [file])[file]
    ledger.record_outcomes([FileOutcome(version, state, **outcome)])


def incident(key: str, severity: str, **fields: str) -> Incident:
    return Incident(key, key.split(":")[0], severity, f"title {key}", "m", "a", "l", **fields)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    """Two versions of one roster (refused, then loaded with set-aside rows), a refused
    roster of another ward, a stray file; one incident open and one resolved."""
    landing, ledger = tmp_path / "landing", Ledger(tmp_path / "landing_ledger.sqlite")
    refusal = Finding(None, "", "header_column_missing", REFUSAL, "no column 職員番号")
    record(ledger, landing, LOADED, "v1", "rejected", reason="no header", findings=[refusal])
    grade = [Finding(n, "職層", "grade_known", QUARANTINE, "not a known grade") for n in (7, 3, 12)]
    volume = Finding(None, "", "roster_volume", WARNING, "half of last month's rows")
    counts = RowCounts(40, 37, 3)
    record(ledger, landing, LOADED, "v2", "loaded", rows=counts, findings=[*grade, volume])
    reason = "error: rule 'staff_number_shape' failed on column 職員番号 (1 row): values 1234567"
    record(ledger, landing, REFUSED, "x", "rejected", reason=reason, findings=[])
    record(ledger, landing, STRAY, "y", "not_recognised", reason="extension .txt")
    store, now = IncidentStore(alerts_db_path(ledger.path)), datetime.now(UTC)
    refused = incident(f"file:{REFUSED}", ERROR, ward="131024", dataset="hr_staff", file=REFUSED)
    late = incident("freshness:raw/hr_staff", WARN, dataset="hr_staff")
    store.apply([Transition(refused, True), Transition(late, True)], [], now - timedelta(hours=2))
    store.apply([Transition(late, False, "fresh again")], [], now - timedelta(hours=1))
    return ledger


def publish(tmp_path: Path, ledger: Ledger, now: datetime | None = None) -> Path:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving" / "dxkpi.duckdb"
    make_warehouse(warehouse)
    publication = publish_marts(warehouse, serving, "run-1", publication_tables(ledger.path, now))
    assert {f"dq.{name}" for name in DQ_TABLES} <= set(publication.tables)
    return serving


def query(serving: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_dq_tables_are_published_with_comments_and_the_publication_time(
    tmp_path: Path, ledger: Ledger
) -> None:
    serving = publish(tmp_path, ledger)
    comments = dict(
        query(serving, "select table_name, comment from duckdb_tables() where schema_name = 'dq'")
    )
    assert set(comments) == DQ_TABLES and all(comments.values())
    published = query(serving, "select distinct published_at from meta.publication")
    for table in DQ_TABLES:
        assert query(serving, f"select distinct published_at from dq.{table}") == published
    logged = {row[0] for row in query(serving, "select table_name from meta.publication")}
    assert {"marts.fct_kpi_values", "dq.file_outcomes", "dq.incidents"} <= logged


def test_file_outcomes_one_row_per_version_without_cell_values(
    tmp_path: Path, ledger: Ledger
) -> None:
    serving = publish(tmp_path, ledger)
    rows = query(
        serving,
        "select path, ward_code, dataset, reference_date, state, is_current, rows_read, "
        "rows_loaded, rows_quarantined, reason from dq.file_outcomes order by first_seen",
    )
    assert [(r[0], r[4], r[5]) for r in rows] == [
        (LOADED, "rejected", False),
        (LOADED, "loaded", True),
        (REFUSED, "rejected", True),
        (STRAY, "not_recognised", True),
    ]
    loaded = rows[1]
    assert loaded[1:4] == ("131016", "hr_staff", datetime(2025, 4, 1).date())
    assert loaded[6:9] == (40, 37, 3)
    assert rows[2][9] == "error: rule 'staff_number_shape' failed on column 職員番号 (1 row)"
    assert rows[3][1:4] == (None, None, None)  # a stray's name says nothing


def test_findings_summary_per_version_rule_and_severity(tmp_path: Path, ledger: Ledger) -> None:
    serving = publish(tmp_path, ledger)
    rows = query(
        serving,
        "select f.rule, f.severity, f.finding_count, f.first_line, f.columns, o.state "
        "from dq.findings_summary as f inner join dq.file_outcomes as o using (path, sha256) "
        "order by o.first_seen, f.rule",
    )
    assert rows == [
        ("header_column_missing", "refusal", 1, None, "", "rejected"),
        ("grade_known", "quarantine", 3, 3, "職層", "loaded"),
        ("roster_volume", "warning", 1, None, "", "loaded"),
    ]


def grouped_findings(ledger: Ledger) -> list[tuple]:
    with sqlite3.connect(ledger.path) as con:
        return con.execute(
            f"{FINDING_COUNTS_SELECT} group by path, sha256, rule, severity order by 1, 2, 3, 4"
        ).fetchall()


def kept_counts(ledger: Ledger) -> list[tuple]:
    with sqlite3.connect(ledger.path) as con:
        return con.execute("select * from file_finding_counts order by 1, 2, 3, 4").fetchall()


def test_the_ledger_keeps_the_findings_summed_up_as_it_records_them(
    tmp_path: Path, ledger: Ledger
) -> None:
    # the counts are what grouping every finding gives, including a version recorded again
    assert kept_counts(ledger) == grouped_findings(ledger) != []
    again = Finding(2, "職層", "grade_known", QUARANTINE, "not a known grade")
    (entry,) = [e for e in ledger.entries(LOADED) if e.state == "loaded"]
    version = FileVersion(entry.path, entry.sha256, entry.size)
    ledger.record_outcomes([FileOutcome(version, "loaded", findings=[again])])
    assert kept_counts(ledger) == grouped_findings(ledger)
    assert ("grade_known", 1, 2) in [(row[2], row[4], row[5]) for row in kept_counts(ledger)]
    # and the publication reads them, not the findings themselves
    kept = len(kept_counts(ledger))
    with sqlite3.connect(ledger.path) as con:
        con.execute("delete from file_findings")
    serving = publish(tmp_path, ledger)
    published = query(serving, "select count(*) from dq.findings_summary")
    assert published == [(kept,)]


def test_a_ledger_from_before_the_counts_gets_them_once(tmp_path: Path, ledger: Ledger) -> None:
    with sqlite3.connect(ledger.path) as con:
        con.execute("drop table file_finding_counts")
    # read-only (an operator's look): grouped on the fly, nothing written
    readings = read_snapshot(ledger.path)
    assert len(readings.findings) == len(grouped_findings(ledger)) == 3
    # the next writer's connection fills the new table from the findings
    ledger.state_counts()
    assert kept_counts(ledger) == grouped_findings(ledger)
    assert [f.count for f in read_snapshot(ledger.path).findings] == [
        f.count for f in readings.findings
    ]


def test_the_counts_are_filled_from_the_findings_only_when_their_table_is_created(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args: object, **kwargs: object) -> sqlite3.Connection:
        con = connect(*args, **kwargs)  # type: ignore[arg-type]
        con.set_trace_callback(statements.append)
        return con

    monkeypatch.setattr(sqlite_file.sqlite3, "connect", traced)
    # the grouping of every finding (1.4 s at national scale) is not run by a connection
    ledger.state_counts()
    assert statements and not [s for s in statements if "group by path, sha256, rule" in s]
    with connect(ledger.path) as con:
        con.execute("drop table file_finding_counts")
    ledger.state_counts()  # an older ledger: the table is created and filled once
    assert len([s for s in statements if "insert or ignore into file_finding_counts" in s]) == 1
    assert kept_counts(ledger) == grouped_findings(ledger)


def test_ward_dataset_status_for_every_ward_and_dataset(tmp_path: Path, ledger: Ledger) -> None:
    serving = publish(tmp_path, ledger)
    assert query(serving, "select count(*) from dq.ward_dataset_status") == [(23 * 15,)]
    rows = {
        (r[0], r[1]): r[2:]
        for r in query(
            serving,
            "select ward_code, dataset, last_file, last_state, rows_quarantined, "
            "last_loaded_file, open_incidents, freshness_state from dq.ward_dataset_status",
        )
    }
    assert rows[("131016", "hr_staff")] == (LOADED, "loaded", 3, LOADED, 0, "fresh")
    assert rows[("131024", "hr_staff")] == (REFUSED, "rejected", None, None, 1, "never_received")
    assert rows[("131032", "training_course")] == (None, None, None, None, 0, "never_received")


def test_freshness_turns_overdue_with_time(tmp_path: Path, ledger: Ledger) -> None:
    serving = publish(tmp_path, ledger, now=datetime.now(UTC) + timedelta(days=60))
    state = query(
        serving,
        "select freshness_state from dq.ward_dataset_status "
        "where ward_code = '131016' and dataset = 'hr_staff'",
    )
    assert state == [("overdue",)]


def test_incidents_open_and_resolved(tmp_path: Path, ledger: Ledger) -> None:
    serving = publish(tmp_path, ledger)
    rows = query(
        serving,
        "select key, severity, ward_code, is_open, resolved_at is not null, resolution, "
        "opened_at < coalesce(resolved_at, now()) from dq.incidents order by id",
    )
    assert rows == [
        (f"file:{REFUSED}", ERROR, "131024", True, False, None, True),
        ("freshness:raw/hr_staff", WARN, None, False, True, "fresh again", True),
    ]


def test_without_a_ledger_the_dq_tables_are_there_and_empty(tmp_path: Path) -> None:
    serving = publish(tmp_path, Ledger(tmp_path / "absent" / "landing_ledger.sqlite"))
    assert query(serving, "select count(*) from dq.file_outcomes") == [(0,)]
    assert query(serving, "select count(*) from dq.incidents") == [(0,)]
    assert query(serving, "select distinct freshness_state from dq.ward_dataset_status") == [
        ("never_received",)
    ]
    assert not (tmp_path / "absent").exists()


def test_a_later_publication_carries_the_later_outcomes(tmp_path: Path, ledger: Ledger) -> None:
    # GIVEN a publication, then a corrected export of the refused roster loaded
    serving = publish(tmp_path, ledger)
    record(ledger, tmp_path / "landing", REFUSED, "fixed", "loaded", rows=RowCounts(5, 5, 0))
    # WHEN the next publication runs
    publish(tmp_path, ledger)
    # THEN the served file shows the new outcome next to the marts of the same build
    rows = query(
        serving, f"select state from dq.file_outcomes where path = '{REFUSED}' and is_current"
    )
    assert rows == [("loaded",)]
