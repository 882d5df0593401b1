"""Loading checked exports into the raw tables: atomic, idempotent, replaceable.

One export = one transaction. The rows of a ward's dataset for one reference date come from
exactly one file: loading the same file again changes nothing, and a corrected re-export
(same ward, dataset and date, new bytes) replaces the old file's rows. `ops.file_loads` keeps
the file currently loaded per key, `ops.file_rejections` the files refused, and
`ops.row_problems` the rows each loaded file had to leave out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import duckdb
import pandas as pd

from ingestion.common.problems import RowProblem
from ingestion.common.pseudonym import KeyChangedError
from ingestion.common.schema import DATASET_COLUMNS, LINEAGE_COLUMNS, RAW_SCHEMA

OPS_DDL = (
    "create schema if not exists ops",
    """create table if not exists ops.file_loads (
        raw_table varchar not null,
        ward_code varchar not null,
        reference_date date not null,
        source_file varchar not null,
        file_sha256 varchar not null,
        encoding varchar not null,
        rows_loaded integer not null,
        rows_rejected integer not null,
        loaded_at timestamp not null,
        primary key (raw_table, ward_code, reference_date)
    )""",
    """create table if not exists ops.file_rejections (
        source_file varchar not null,
        file_sha256 varchar not null,
        raw_table varchar not null,
        reason varchar not null,
        rejected_at timestamp not null,
        primary key (source_file, file_sha256)
    )""",
    """create table if not exists ops.pseudonym_key (
        fingerprint varchar not null,
        first_used timestamp not null
    )""",
    """create table if not exists ops.row_problems (
        source_file varchar not null,
        file_sha256 varchar not null,
        source_row integer not null,
        column_name varchar not null,
        rule varchar not null,
        message varchar not null
    )""",
)


def ensure_ops_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables of loads, rejections and row problems."""
    for statement in OPS_DDL:
        con.execute(statement)


class ExportIdentity(Protocol):
    """What names an export: its ward, its reference date (基準日) and where it came from."""

    @property
    def ward_code(self) -> str: ...

    @property
    def reference_date(self) -> date: ...

    @property
    def name(self) -> str: ...


def check_pseudonym_key(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    """Record the pseudonym key's fingerprint on first use; refuse a different key later.

    Raises:
        KeyChangedError: the warehouse holds pseudonyms made with another key.
    """
    row = con.execute("select fingerprint from ops.pseudonym_key").fetchone()
    if row is None:
        con.execute("insert into ops.pseudonym_key values (?, ?)", [fingerprint, datetime.now()])
    elif row[0] != fingerprint:
        raise KeyChangedError(
            "DXKPI_PSEUDONYM_KEY is not the key this warehouse was built with (fingerprint "
            f"{row[0]}, now {fingerprint}): staff would no longer join across exports. Restore "
            "the key, or rebuild the warehouse from the landing zone with the new one."
        )


@dataclass(frozen=True)
class LoadedFile:
    """The file currently loaded for one ward, dataset and reference date."""

    source_file: str
    file_sha256: str


def current_load(
    con: duckdb.DuckDBPyConnection, table: str, export: ExportIdentity
) -> LoadedFile | None:
    """Return the file whose rows are loaded for this export's key, if any."""
    row = con.execute(
        "select source_file, file_sha256 from ops.file_loads "
        "where raw_table = ? and ward_code = ? and reference_date = ?",
        [table, export.ward_code, export.reference_date],
    ).fetchone()
    return LoadedFile(*row) if row else None


def current_loads(con: duckdb.DuckDBPyConnection, table: str) -> dict[tuple[str, date], LoadedFile]:
    """Every file loaded in a raw table, by (ward code, reference date): one query for a run
    that looks at many exports, instead of one per export (see `current_load`)."""
    rows = con.execute(
        "select ward_code, reference_date, source_file, file_sha256 from ops.file_loads "
        "where raw_table = ?",
        [table],
    ).fetchall()
    return {(ward, day): LoadedFile(name, digest) for ward, day, name, digest in rows}


def rejected_versions(con: duckdb.DuckDBPyConnection, table: str) -> set[tuple[str, str]]:
    """The (source file, SHA-256) of every file version refused for a raw table: read once per
    run (`ingest_exports`) rather than asked per export. A file's folder and name decide its
    table, so no other table's refusal can concern its files."""
    rows = con.execute(
        "select source_file, file_sha256 from ops.file_rejections where raw_table = ?", [table]
    ).fetchall()
    return {(name, digest) for name, digest in rows}


@dataclass(frozen=True)
class CheckedExport:
    """An export ready to load: its rows passed the dataset's suite.

    Attributes:
        export: The export the frame was read from (a landing file or a catalogue snapshot).
        digest: The SHA-256 of the export's bytes.
        frame: Rows already checked by the dataset's suite, lineage columns included.
        problems: Rows of the file that were left out, kept for the operator.
        encoding: The encoding detected, recorded with the load.
    """

    export: ExportIdentity
    digest: str
    frame: pd.DataFrame
    problems: list[RowProblem]
    encoding: str


def load_export(
    con: duckdb.DuckDBPyConnection,
    table: str,
    export: ExportIdentity,
    digest: str,
    frame: pd.DataFrame,
    problems: list[RowProblem],
    encoding: str,
) -> None:
    """Replace the rows of this export's key by `frame`, in one transaction (see
    `load_exports`)."""
    load_exports(con, table, [CheckedExport(export, digest, frame, problems, encoding)])


def load_exports(
    con: duckdb.DuckDBPyConnection, table: str, exports: Sequence[CheckedExport]
) -> None:
    """Replace the rows of each export's key by its frame, all in one transaction.

    The old rows of a key are deleted only when `ops.file_loads` holds a file for it: a first
    load (the usual case) writes without a delete, whose scan would grow with the table's
    history. Each frame and the row problems are written by scans of DataFrames, not row by
    row. Anything that fails rolls every export of the call back: each is loaded whole or not
    at all, and a chunk of small exports pays one commit, not one each.

    Args:
        con: A connection to the working warehouse.
        table: The raw table, e.g. `hr_staff`.
        exports: Exports of distinct keys (ward, reference date).
    """
    columns = [name for name, _ in LINEAGE_COLUMNS + DATASET_COLUMNS[table]]
    con.execute("begin transaction")
    try:
        for item in exports:
            # Read inside the transaction, so the answer holds until the commit.
            previous = current_load(con, table, item.export)
            if previous is not None:
                _forget_load(con, table, item.export, previous)
            rows = (len(item.frame), len(item.problems))
            _record_load(
                con,
                table,
                item.export,
                item.digest,
                item.encoding,
                rows,
                replacing=previous is not None,
            )
        for frame in _same_types([item.frame for item in exports], columns):
            _insert_frame(con, f"{RAW_SCHEMA}.{table}", frame, columns)
        problems = [(problem, item.digest) for item in exports for problem in item.problems]
        _insert_frame(con, "ops.row_problems", _row_problems_frame(problems))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _same_types(frames: list[pd.DataFrame], columns: list[str]) -> list[pd.DataFrame]:
    """The frames' `columns` as one frame when their types agree (one scan instead of one per
    frame); else the frames as they are, so no column is widened to `object` on the way."""
    if len(frames) > 1 and len({tuple(frame.dtypes[columns]) for frame in frames}) == 1:
        return [pd.concat([frame[columns] for frame in frames], ignore_index=True, copy=False)]
    return frames


def _forget_load(
    con: duckdb.DuckDBPyConnection, table: str, export: ExportIdentity, previous: LoadedFile
) -> None:
    """Delete the rows, and the row problems, of the file loaded before for the export's key."""
    con.execute(
        f"delete from {RAW_SCHEMA}.{table} where ward_code = ? and reference_date = ?",
        [export.ward_code, export.reference_date],
    )
    # The previous file's name: the same as the export's for a landing file (its name holds
    # its key), and the one whose rows were just deleted in any case.
    con.execute("delete from ops.row_problems where source_file = ?", [previous.source_file])


def _insert_frame(
    con: duckdb.DuckDBPyConnection,
    target: str,
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
) -> None:
    """Append a frame's rows (its `columns`, default all) to a table, matched by column name,
    in one scan of the frame."""
    if frame.empty:
        return
    column_list = ", ".join(frame.columns if columns is None else columns)
    con.register("incoming_rows", frame)
    try:
        con.execute(f"insert into {target} ({column_list}) select {column_list} from incoming_rows")
    finally:
        con.unregister("incoming_rows")


def _row_problems_frame(problems: list[tuple[RowProblem, str]]) -> pd.DataFrame:
    """The rows of `ops.row_problems` for problems, each with its file's digest."""
    return pd.DataFrame(
        {
            "source_file": pd.Series([p.source_file for p, _ in problems], dtype="str"),
            "file_sha256": pd.Series([digest for _, digest in problems], dtype="str"),
            "source_row": pd.Series([p.source_row for p, _ in problems], dtype="int64"),
            "column_name": pd.Series([p.column for p, _ in problems], dtype="str"),
            "rule": pd.Series([p.rule for p, _ in problems], dtype="str"),
            "message": pd.Series([p.message for p, _ in problems], dtype="str"),
        }
    )


def _record_load(
    con: duckdb.DuckDBPyConnection,
    table: str,
    export: ExportIdentity,
    digest: str,
    encoding: str,
    rows: tuple[int, int],
    *,
    replacing: bool,
) -> None:
    """Record the file loaded for the export's key, with its rows (loaded, left out).

    A plain insert for a new key: an upsert would cost a constraint lookup for nothing.
    """
    verb = "insert or replace" if replacing else "insert"
    con.execute(
        f"{verb} into ops.file_loads values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [table, export.ward_code, export.reference_date, export.name, digest, encoding, *rows]
        + [datetime.now()],
    )


def record_rejection(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source_file: str,
    digest: str,
    reason: str,
) -> None:
    """Remember that these bytes of `source_file` were refused, and why."""
    con.execute(
        "insert or replace into ops.file_rejections values (?, ?, ?, ?, ?)",
        [source_file, digest, table, reason, datetime.now()],
    )
