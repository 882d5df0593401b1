"""The cheap paths of checking and loading exports, and that they change no result.

The range rules run in bulk in GX, a first load writes without deleting, row problems are one
insert, a run with nothing new asks the warehouse once rather than per file, and the ledger
hashes only the files whose stat moved.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from test_expectations import line, valid_frame
from test_ingest import PSEUDONYMS, staff_row, write_staff

from expectations import run_suite, run_suite_per_file, runner
from ingestion.common import ledger as ledger_module
from ingestion.common.ingest import Status, ingest_exports
from ingestion.common.ledger import (
    RECEIVED_STATES,
    FileVersion,
    Ledger,
    current_findings_query,
)
from ingestion.common.loader import CheckedExport, ensure_ops_schema, load_export, load_exports
from ingestion.common.problems import RowProblem
from ingestion.common.schema import ensure_raw_schema
from ingestion.hr.contract import STAFF

BETWEEN = "expect_column_values_to_be_between"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    ensure_raw_schema(connection)
    ensure_ops_schema(connection)
    yield connection
    connection.close()


class Recording:
    """A DuckDB connection that records the SQL it is given (and can fail on one statement)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, fail_on: str | None = None) -> None:
        self._con = con
        self.fail_on = fail_on
        self.statements: list[str] = []
        self.executemany_calls = 0

    def execute(self, sql: str, *args: Any) -> Any:
        self.statements.append(" ".join(sql.split()).lower())
        if self.fail_on and self.fail_on in self.statements[-1]:
            raise RuntimeError("disk full")
        return self._con.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        self.executemany_calls += 1
        return self._con.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def deletes(self) -> list[str]:
        return [sql for sql in self.statements if sql.startswith("delete")]


# --- Range rules in bulk -------------------------------------------------------------------------


def _seconds(values: list[str | None]) -> pd.Series:
    """Dates as the reader types them: datetime64[s], which GX compared one value at a time."""
    return pd.Series(pd.to_datetime(values), dtype="datetime64[s]")


def _bad_staff_frame() -> pd.DataFrame:
    frame = valid_frame("hr_staff")
    # Before and after the bounds, on the bounds, a year nanoseconds cannot hold, a blank.
    frame["hire_date"] = _seconds(
        ["1949-12-31", "2100-01-02", "1950-01-01", "2100-01-01", None, "2010-04-01"]
    )
    frame.loc[5, "hire_date"] = pd.Timestamp("0202-04-01")
    frame["reference_date"] = frame["reference_date"].astype("datetime64[s]")
    return frame


def _per_value(frame: pd.DataFrame, columns: object) -> pd.DataFrame:
    return frame  # the frame as the reader gives it: GX compares dates one by one


@pytest.mark.parametrize(
    ("dataset", "column", "values"),
    [
        pytest.param(
            "hr_staff",
            "hire_date",
            ["1949-12-31", "2100-01-02", "1950-01-01", "2100-01-01", None, "2010-04-01"],
            id="dates",
        ),
        pytest.param(
            "training_course", "fiscal_year", [1999, 2101, 2000, 2100, 2025, 2025], id="int"
        ),
        pytest.param(
            "training_course", "fiscal_year", [1999, 2101, None, 2100, 2025, 2025], id="int-blank"
        ),
        pytest.param("training_course", "hours", [-0.5, 1000.5, 0.0, 1000.0, 2.0, 3.5], id="float"),
        pytest.param(
            "proposals_proposal", "effect_amount_yen", [-1, -5, 0, 3, 4, 5], id="open-range"
        ),
    ],
)
def test_range_rules_report_the_same_failures_in_bulk(
    dataset: str, column: str, values: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a frame breaking a range rule, in the dtypes the reader gives
    frame = valid_frame(dataset)
    dtype = frame[column].dtype
    frame[column] = _seconds(values) if dtype.kind == "M" else pd.Series(values, dtype=dtype)

    # WHEN it is validated in bulk, and value by value as before
    in_bulk = run_suite(dataset, frame)
    monkeypatch.setattr(runner, "comparable_in_bulk", _per_value)
    one_by_one = run_suite(dataset, frame)

    # THEN the failures are the same: rules, counts, rows and sample values
    assert in_bulk == one_by_one
    (failure,) = [f for f in in_bulk.failures if f.expectation == BETWEEN]
    assert (failure.unexpected_count, failure.source_rows) == (2, [line(0), line(1)])


def test_a_date_out_of_the_nanosecond_range_is_still_caught() -> None:
    frame = _bad_staff_frame()

    result = run_suite("hr_staff", frame)

    (failure,) = [f for f in result.failures if f.expectation == BETWEEN]
    assert failure.source_rows == [line(0), line(1), line(5)]
    assert failure.sample_values == ["1949-12-31", "2100-01-02", "0202-04-01"]


def test_range_rules_run_vectorised_in_gx(monkeypatch: pytest.MonkeyPatch) -> None:
    from great_expectations.expectations.metrics.column_map_metrics.column_values_between import (
        ColumnValuesBetween,
    )

    calls: list[str] = []
    vectorised = ColumnValuesBetween._pandas_vectorized.__func__

    def spy(cls: type, column: pd.Series, *args: object) -> pd.Series:
        calls.append(str(column.dtype))
        return vectorised(cls, column, *args)

    monkeypatch.setattr(ColumnValuesBetween, "_pandas_vectorized", classmethod(spy))
    frame = valid_frame("hr_staff")
    frame["hire_date"] = frame["hire_date"].astype("datetime64[s]")

    run_suite("hr_staff", frame)

    assert calls == ["datetime64[ns]"]
    assert frame["hire_date"].dtype == "datetime64[s]"  # the frame loaded keeps its dtypes


def test_many_exports_in_bulk_pin_the_same_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = {f"hr/131016_staff_2025{m:02d}01.csv": valid_frame("hr_staff") for m in (4, 5, 6)}
    for frame in frames.values():
        frame["hire_date"] = frame["hire_date"].astype("datetime64[s]")
    frames["hr/131016_staff_20250501.csv"].loc[3, "hire_date"] = pd.Timestamp("1900-01-01")

    in_bulk = run_suite_per_file("hr_staff", frames)
    monkeypatch.setattr(runner, "comparable_in_bulk", _per_value)
    one_by_one = run_suite_per_file("hr_staff", frames)

    assert in_bulk == one_by_one
    assert [result.success for result in in_bulk.values()] == [True, False, True]


# --- Loads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    ward_code: str
    reference_date: date
    name: str


EXPORT = Export("131016", date(2025, 4, 1), "hr/131016_staff_20250401.csv")


def _staff_frame(ids: list[str], digest: str) -> pd.DataFrame:
    frame = valid_frame("hr_staff", n=len(ids))
    frame["staff_id"] = pd.Series(ids, dtype="str")
    frame["source_file"] = EXPORT.name
    frame["file_sha256"] = digest
    return frame


def _problems(rows: list[int]) -> list[RowProblem]:
    return [
        RowProblem(EXPORT.name, row, "職層", "value_not_in_set", "breaks a rule") for row in rows
    ]


def _load(con: Any, ids: list[str], digest: str, problem_rows: list[int]) -> None:
    frame = _staff_frame(ids, digest)
    load_export(con, "hr_staff", EXPORT, digest, frame, _problems(problem_rows), "cp932")


def _table(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_a_first_load_deletes_nothing_and_writes_problems_in_one_insert(
    con: duckdb.DuckDBPyConnection,
) -> None:
    recording = Recording(con)

    _load(recording, ["S1", "S2"], "a" * 64, [7, 9])

    assert recording.deletes() == []
    assert recording.executemany_calls == 0
    assert _table(con, "select staff_id from raw.hr_staff order by 1") == [("S1",), ("S2",)]
    assert _table(con, "select * from ops.row_problems order by source_row") == [
        (EXPORT.name, "a" * 64, 7, "職層", "value_not_in_set", "breaks a rule"),
        (EXPORT.name, "a" * 64, 9, "職層", "value_not_in_set", "breaks a rule"),
    ]
    assert _table(con, "select file_sha256, rows_loaded, rows_rejected from ops.file_loads") == [
        ("a" * 64, 2, 2)
    ]


def test_a_corrected_reexport_still_replaces_rows_and_problems(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _load(con, ["S1", "S2"], "a" * 64, [7, 9])
    other_date = Export(EXPORT.ward_code, date(2025, 5, 1), "hr/131016_staff_20250501.csv")
    frame = _staff_frame(["S8"], "c" * 64).assign(source_file=other_date.name)
    frame["reference_date"] = pd.Series([pd.Timestamp(other_date.reference_date)], dtype="M8[s]")
    load_export(con, "hr_staff", other_date, "c" * 64, frame, [], "cp932")
    recording = Recording(con)

    _load(recording, ["S3"], "b" * 64, [4])

    assert len(recording.deletes()) == 2  # the key's raw rows and its file's row problems
    assert _table(con, "select staff_id, file_sha256 from raw.hr_staff order by 1") == [
        ("S3", "b" * 64),
        ("S8", "c" * 64),
    ]
    assert _table(con, "select source_row, file_sha256 from ops.row_problems") == [(4, "b" * 64)]
    assert _table(con, "select file_sha256 from ops.file_loads order by 1") == [
        ("b" * 64,),
        ("c" * 64,),
    ]


@pytest.mark.parametrize("failing", ["insert into raw.hr_staff", "insert into ops.row_problems"])
def test_a_failed_load_leaves_nothing_of_its_file(
    con: duckdb.DuckDBPyConnection, failing: str
) -> None:
    _load(con, ["S1"], "a" * 64, [5])
    before = [
        _table(con, f"select * from {table} order by all")
        for table in ("raw.hr_staff", "ops.row_problems", "ops.file_loads")
    ]

    with pytest.raises(RuntimeError, match="disk full"):
        _load(Recording(con, fail_on=failing), ["S2", "S3"], "b" * 64, [6])

    after = [
        _table(con, f"select * from {table} order by all")
        for table in ("raw.hr_staff", "ops.row_problems", "ops.file_loads")
    ]
    assert after == before


def _checked(day: int, ids: list[str], digest: str, problem_rows: list[int]) -> CheckedExport:
    export = Export(EXPORT.ward_code, date(2025, day, 1), f"hr/131016_staff_2025{day:02d}01.csv")
    frame = _staff_frame(ids, digest).assign(source_file=export.name)
    frame["reference_date"] = pd.Series([pd.Timestamp(export.reference_date)] * len(ids))
    frame["reference_date"] = frame["reference_date"].astype("M8[s]")
    problems = [replace(p, source_file=export.name) for p in _problems(problem_rows)]
    return CheckedExport(export, digest, frame, problems, "cp932")


def test_a_chunk_of_exports_is_written_in_one_transaction_by_one_scan(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # GIVEN an export loaded before, then a chunk: its correction and two new exports
    load_exports(con, "hr_staff", [_checked(4, ["S1", "S2"], "a" * 64, [7])])
    chunk = [
        _checked(4, ["S3"], "b" * 64, []),
        _checked(5, ["S4", "S5"], "c" * 64, [3]),
        _checked(6, ["S6"], "d" * 64, [2, 9]),
    ]
    recording = Recording(con)

    load_exports(recording, "hr_staff", chunk)

    # THEN one commit, one insert of the rows, one of the row problems
    inserts = [sql for sql in recording.statements if sql.startswith("insert into raw.")]
    assert (recording.statements.count("commit"), len(inserts)) == (1, 1)
    assert _table(con, "select staff_id, file_sha256 from raw.hr_staff order by 1") == [
        ("S3", "b" * 64),
        ("S4", "c" * 64),
        ("S5", "c" * 64),
        ("S6", "d" * 64),
    ]
    assert _table(con, "select file_sha256, source_row from ops.row_problems order by all") == [
        ("c" * 64, 3),
        ("d" * 64, 2),
        ("d" * 64, 9),
    ]
    assert _table(con, "select file_sha256, rows_loaded from ops.file_loads order by 1") == [
        ("b" * 64, 1),
        ("c" * 64, 2),
        ("d" * 64, 1),
    ]


def test_a_failure_in_a_chunk_leaves_nothing_of_any_of_its_exports(
    con: duckdb.DuckDBPyConnection,
) -> None:
    load_exports(con, "hr_staff", [_checked(4, ["S1"], "a" * 64, [5])])
    before = [
        _table(con, f"select * from {table} order by all")
        for table in ("raw.hr_staff", "ops.row_problems", "ops.file_loads")
    ]
    chunk = [_checked(4, ["S2"], "b" * 64, []), _checked(5, ["S3"], "c" * 64, [1])]

    with pytest.raises(RuntimeError, match="disk full"):
        load_exports(Recording(con, fail_on="insert into ops.row_problems"), "hr_staff", chunk)

    after = [
        _table(con, f"select * from {table} order by all")
        for table in ("raw.hr_staff", "ops.row_problems", "ops.file_loads")
    ]
    assert after == before


def test_frames_whose_types_differ_are_written_one_by_one_as_they_are(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # A retirement date column with no date at all is typed otherwise than one with dates;
    # one frame of both would widen it to `object`.
    with_date, without = _checked(4, ["S1"], "a" * 64, []), _checked(5, ["S2"], "b" * 64, [])
    with_date.frame["retirement_date"] = pd.Series(["2025-03-31"], dtype="M8[s]")
    without.frame["retirement_date"] = pd.Series([None], dtype="object")
    recording = Recording(con)

    load_exports(recording, "hr_staff", [with_date, without])

    inserts = [sql for sql in recording.statements if sql.startswith("insert into raw.")]
    assert len(inserts) == 2
    assert _table(con, "select staff_id, retirement_date from raw.hr_staff order by 1") == [
        ("S1", date(2025, 3, 31)),
        ("S2", None),
    ]


def test_a_run_with_nothing_new_asks_the_warehouse_once(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    paths = [write_staff(tmp_path, [staff_row("000001")], day) for day in ("20250401", "20250501")]
    more = [*paths, write_staff(tmp_path, [staff_row("000001")], "20250601")]
    ingest_exports(con, more, STAFF, run_suite_per_file, PSEUDONYMS, datetime(2025, 6, 2))

    def statements_of_a_noop_run(files: list[Path]) -> int:
        recording = Recording(con)
        outcomes = ingest_exports(
            recording, files, STAFF, run_suite_per_file, PSEUDONYMS, datetime(2025, 6, 2)
        )
        assert {outcome.status for outcome in outcomes} == {Status.UNCHANGED}
        return len(recording.statements)

    assert statements_of_a_noop_run(more) == statements_of_a_noop_run(paths[:1])


# --- Ledger hashes ------------------------------------------------------------------------------


@pytest.fixture
def hashing(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths the ledger reads to hash them."""
    hashed: list[Path] = []
    real = ledger_module.file_sha256

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(ledger_module, "file_sha256", counting)
    return hashed


def test_an_untouched_file_is_not_hashed_again(tmp_path: Path, hashing: list[Path]) -> None:
    landing = tmp_path / "landing"
    files = [write_staff(landing, [staff_row(f"00000{i}")], f"2025040{i}") for i in (1, 2)]
    ledger = Ledger(tmp_path / "ledger.sqlite")
    first = ledger.hash_files(landing, files)

    again = ledger.hash_files(landing, files)

    assert again == first
    assert hashing == files


def test_a_replaced_file_is_hashed_again_even_with_the_same_size_and_mtime(
    tmp_path: Path, hashing: list[Path]
) -> None:
    # GIVEN a hashed export
    landing = tmp_path / "landing"
    path = write_staff(landing, [staff_row("000001")])
    ledger = Ledger(tmp_path / "ledger.sqlite")
    before = ledger.hash_files(landing, [path])[path]
    stat = path.stat()

    # WHEN another file of the same size replaces it, its mtime set to the old one's
    staged = write_staff(tmp_path / "staging", [staff_row("000002")])
    os.utime(staged, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(staged, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)

    # THEN the ledger reads it again and sees the new version
    after = ledger.hash_files(landing, [path])[path]
    assert after.sha256 != before.sha256
    assert after.sha256 == ledger_module.file_sha256(path)
    assert hashing.count(path) == 3  # first look, after the replacement, and the check above


def test_a_ledger_with_the_old_hash_cache_is_migrated(tmp_path: Path) -> None:
    # GIVEN a ledger whose cache knew a path by size and mtime only, with a stale hash
    landing = tmp_path / "landing"
    path = write_staff(landing, [staff_row("000001")])
    stat = path.stat()
    import sqlite3

    with sqlite3.connect(tmp_path / "ledger.sqlite") as old:
        old.execute(
            "create table landing_hashes (path text primary key, size integer not null, "
            "mtime_ns integer not null, sha256 text not null)"
        )
        old.execute(
            "insert into landing_hashes values (?, ?, ?, ?)",
            ["hr/131016_staff_20250401.csv", stat.st_size, stat.st_mtime_ns, "0" * 64],
        )
    old.close()

    # WHEN the ledger hashes the file
    version = Ledger(tmp_path / "ledger.sqlite").hash_files(landing, [path])[path]

    # THEN the stale hash is not trusted and the old cache is gone
    assert version.sha256 == ledger_module.file_sha256(path)
    with sqlite3.connect(tmp_path / "ledger.sqlite") as migrated:
        tables = {row[0] for row in migrated.execute("select name from sqlite_master")}
    migrated.close()
    assert "landing_hashes" not in tables and "landing_file_hashes" in tables


def test_a_chunk_never_outgrows_one_batch_of_the_suite(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN chunks of 5 rows and three exports of 2 rows each
    monkeypatch.setattr("ingestion.common.ingest.CHUNK_ROWS", 5)
    rows = [staff_row("000001"), staff_row("000002")]
    paths = [write_staff(tmp_path, rows, day) for day in ("20250401", "20250501", "20250601")]
    checked: list[int] = []

    def validate(dataset: str, frames: dict[str, pd.DataFrame]) -> dict[str, Any]:
        checked.append(sum(len(frame) for frame in frames.values()))
        return run_suite_per_file(dataset, frames)

    # WHEN they are ingested
    outcomes = ingest_exports(con, paths, STAFF, validate, PSEUDONYMS, datetime(2025, 6, 2))

    # THEN the third is checked apart rather than taking the first chunk to 6 rows
    assert checked == [4, 2]
    assert [outcome.status for outcome in outcomes] == [Status.LOADED] * 3


def test_the_ledger_counts_versions_per_state_without_reading_them(tmp_path: Path) -> None:
    # What `dxkpi-run` prints at its end: counted in SQL, not by reading the whole history.
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record_many(
        [
            (FileVersion("hr/131016_staff_20250401.csv", "a" * 64, 10), "loaded", ""),
            (FileVersion("hr/131016_staff_20250501.csv", "b" * 64, 10), "loaded", ""),
            (FileVersion("hr/131016_staff_20250601.csv", "c" * 64, 10), "rejected", "bad"),
        ]
    )
    assert ledger.state_counts() == {"loaded": 2, "rejected": 1}
    assert ledger.state_counts() == dict(Counter(entry.state for entry in ledger.entries()))


def test_the_warnings_of_current_files_are_found_by_severity_not_by_file(tmp_path: Path) -> None:
    # The file_warnings check runs in every raw run: it must not walk every quarantined row.
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record_many([(FileVersion("hr/131016_staff_20250401.csv", "a" * 64, 10), "loaded", "")])
    with sqlite3.connect(ledger.path) as con:
        plan = con.execute(
            f"explain query plan {current_findings_query()}",
            ["warning", "hr/%", *sorted(RECEIVED_STATES)],
        ).fetchall()
    steps = [step[-1] for step in plan]
    assert any("file_findings_severity" in step for step in steps), steps
