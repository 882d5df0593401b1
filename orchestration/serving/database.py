"""The release's DuckDB 2.0 file: the marts, the dq tables and meta.publication, documented.

`CREATE TABLE AS` copies rows, not comments: the table and column comments that dbt persisted
in the working warehouse (dbt_project.yml's `persist_docs`) are copied after each table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.dq.tables import DqTable
from orchestration.serving.catalog import (
    PublishedColumn,
    PublishedTable,
    comment_statements,
    quote_literal,
    read_published_tables,
)
from orchestration.settings import duckdb_config

# The schemas copied from the working warehouse; dq and meta are written by the publication.
WAREHOUSE_SCHEMAS = ("marts",)
WORKING = "working"

PUBLICATION_TABLE = PublishedTable(
    "meta",
    "publication",
    "One row per table of this publication (marts and dq): the run that published it, when, "
    "its row count and the release it belongs to. Every row of one build carries the same "
    "run_id, published_at and release_id: compare them to know which build you read.",
    (
        PublishedColumn(
            "published_at", "TIMESTAMP", "When the publication ran (the publishing host's time)."
        ),
        PublishedColumn("run_id", "VARCHAR", "The Dagster run that published this build."),
        PublishedColumn("table_name", "VARCHAR", "A published table, as schema.table."),
        PublishedColumn("row_count", "BIGINT", "Its number of rows in this build."),
        PublishedColumn(
            "release_id",
            "VARCHAR",
            "The release directory of the files (data/serving/releases/<release_id>).",
        ),
    ),
)
DQ_PUBLISHED_AT_COMMENT = "When the publication that wrote this table ran (the host's time)."


def write_serving_database(
    warehouse: Path,
    target: Path,
    run_id: str,
    release_id: str,
    published_at: datetime,
    dq_tables: Sequence[DqTable] = (),
) -> dict[str, int]:
    """Write the marts of `warehouse`, `dq_tables` and meta.publication into a new file.

    Args:
        warehouse: The working warehouse (attached read-only).
        target: The new file (must not exist).
        run_id: The run publishing, logged in meta.publication.
        release_id: The release the file belongs to, logged in meta.publication.
        published_at: The publication's time, in meta.publication and every dq table.
        dq_tables: The data-quality tables to publish with the marts (schema `dq`).

    Returns:
        Rows per published table (`schema.table`), meta.publication aside.

    Raises:
        RuntimeError: the warehouse has no mart table to publish.
    """
    with duckdb.connect(str(target), config=duckdb_config()) as con:
        con.execute(f"attach {quote_literal(str(warehouse))} as {WORKING} (read_only)")
        marts = read_published_tables(con, WORKING, WAREHOUSE_SCHEMAS)
        if not marts:
            raise RuntimeError(f"{warehouse} has no table in {WAREHOUSE_SCHEMAS} to publish")
        # One transaction: a statement per comment would each commit (three times slower).
        con.execute("begin")
        counts = {table.qualified_name: _copy_table(con, table) for table in marts}
        for table in dq_tables:
            counts[table.name] = _write_dq_table(con, table, published_at)
        _write_publication_log(con, run_id, release_id, published_at, counts)
        con.execute("commit")
        con.execute(f"detach {WORKING}")
        con.execute("checkpoint")
    return counts


def _copy_table(con: duckdb.DuckDBPyConnection, table: PublishedTable) -> int:
    """Copy one table of the attached warehouse with its comments; return its row count."""
    con.execute(f"create schema if not exists {table.schema}")
    con.execute(f"create table {table.sql_name} as select * from {WORKING}.{table.sql_name}")
    for statement in comment_statements(table):
        con.execute(statement)
    return con.execute(f"select count(*) from {table.sql_name}").fetchone()[0]


def _write_dq_table(con: duckdb.DuckDBPyConnection, table: DqTable, published_at: datetime) -> int:
    """Create one `dq` table with its comments and rows; return its row count."""
    schema = table.name.split(".", 1)[0]
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create table {table.name} ({table.columns}, published_at timestamp)")
    con.execute(f"comment on table {table.name} is {quote_literal(table.comment)}")
    comments = {**table.column_comments, "published_at": DQ_PUBLISHED_AT_COMMENT}
    for column, comment in comments.items():
        con.execute(f"comment on column {table.name}.{column} is {quote_literal(comment)}")
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
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    release_id: str,
    published_at: datetime,
    counts: dict[str, int],
) -> None:
    table = PUBLICATION_TABLE
    columns = ", ".join(f"{column.name} {column.data_type}" for column in table.columns)
    con.execute(f"create schema {table.schema}")
    con.execute(f"create table {table.sql_name} ({columns})")
    for statement in comment_statements(table):
        con.execute(statement)
    con.executemany(
        f"insert into {table.sql_name} values (?, ?, ?, ?, ?)",
        [(published_at, run_id, name, count, release_id) for name, count in counts.items()],
    )
