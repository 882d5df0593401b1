"""Publishing the marts to the serving file BI tools read.

DuckDB lets one process hold a database file: a BI tool reading the working warehouse would
block the pipeline, and the reverse. The marts are therefore copied into a new file beside the
serving file, which then replaces it with one atomic rename: a reader sees the old build or
the new one, never half of one, and a failed publication leaves the old file in place.

Beside the marts, a publication carries the data-quality history in schema `dq` (see
`orchestration.dq`: file outcomes, findings, per-ward status, incidents), read from the landing
ledger and the alert store just before and written into the same new file: BI sees marts and
their data-quality history of the same moment.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.dq.tables import DqTable

PUBLISHED_SCHEMAS = ("marts",)


@dataclass(frozen=True)
class Publication:
    """What one publication wrote."""

    path: Path
    tables: dict[str, int]
    published_at: datetime


def _published_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in PUBLISHED_SCHEMAS)
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_catalog = ? and table_schema in ({placeholders}) "
        "and table_type = 'BASE TABLE' order by 1, 2",
        [catalog, *PUBLISHED_SCHEMAS],
    ).fetchall()
    return [(schema, name) for schema, name in rows]


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def publish_marts(
    warehouse: Path, serving: Path, run_id: str, dq_tables: Sequence[DqTable] = ()
) -> Publication:
    """Copy every mart table of `warehouse` into a new file and swap it in for `serving`.

    Args:
        warehouse: The working warehouse (attached read-only).
        serving: The file BI tools read.
        run_id: The run publishing, logged in `meta.publication`.
        dq_tables: The data-quality tables to publish with the marts (schema `dq`).

    Raises:
        RuntimeError: the warehouse has no mart table to publish.
    """
    serving.parent.mkdir(parents=True, exist_ok=True)
    staging_file = serving.with_name(f".{serving.name}.{uuid.uuid4().hex}.tmp")
    published_at = datetime.now()
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(staging_file)) as con:
            con.execute(f"attach '{warehouse}' as working (read_only)")
            for schema, table in _published_tables(con, "working"):
                con.execute(f"create schema if not exists {schema}")
                con.execute(
                    f"create table {schema}.{table} as select * from working.{schema}.{table}"
                )
                counts[f"{schema}.{table}"] = con.execute(
                    f"select count(*) from {schema}.{table}"
                ).fetchone()[0]
            if not counts:
                raise RuntimeError(f"{warehouse} has no table in {PUBLISHED_SCHEMAS} to publish")
            for table in dq_tables:
                counts[table.name] = _write_dq_table(con, table, published_at)
            _write_publication_log(con, run_id, published_at, counts)
            con.execute("detach working")
            con.execute("checkpoint")
        _fsync(staging_file)
        os.replace(staging_file, serving)
        _fsync(serving.parent)
    finally:
        staging_file.unlink(missing_ok=True)
    return Publication(serving, counts, published_at)


def _write_dq_table(con: duckdb.DuckDBPyConnection, table: DqTable, published_at: datetime) -> int:
    """Create one `dq` table with its comment and rows; return its row count."""
    schema = table.name.split(".", 1)[0]
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create table {table.name} ({table.columns}, published_at timestamp)")
    comment = table.comment.replace("'", "''")
    con.execute(f"comment on table {table.name} is '{comment}'")
    # One insert from a frame: DuckDB's executemany takes seconds for a few thousand rows.
    names = table.column_names
    frame = pd.DataFrame(
        [[row.get(name) for name in names] for row in table.rows], columns=names, dtype=object
    )
    con.register("dq_rows", frame)
    try:
        con.execute(f"insert into {table.name} select *, ? from dq_rows", [published_at])
    finally:
        con.unregister("dq_rows")
    return len(table.rows)


def _write_publication_log(
    con: duckdb.DuckDBPyConnection, run_id: str, published_at: datetime, counts: dict[str, int]
) -> None:
    con.execute("create schema meta")
    con.execute(
        "create table meta.publication "
        "(published_at timestamp, run_id varchar, table_name varchar, row_count bigint)"
    )
    con.executemany(
        "insert into meta.publication values (?, ?, ?, ?)",
        [(published_at, run_id, table, count) for table, count in counts.items()],
    )
