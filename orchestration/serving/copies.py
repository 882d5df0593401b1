"""Copies of the release's DuckDB file for readers that cannot open it.

- A DuckDB file in storage version v1.4.0: DuckDB 1.x (most BI drivers and installed CLIs
  today) refuses a file written by 2.0 ("version number 69 ... 64 to 68").
  `COPY FROM DATABASE` carries the tables, their rows and their comments.
- One Parquet file per table, for tools that read files (Power BI, Tableau, pandas, Spark).
  Parquet has no comment field: the table's and columns' documentation go into the file's
  key-value metadata (`table_comment`, `column_comment:<column>`), with the run and time of
  the publication (`run_id`, `published_at`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.serving.catalog import PublishedTable, quote_literal, read_published_tables

# The oldest storage version DuckDB 1.x reads; checked with the DuckDB 1.5 CLI.
V1_STORAGE_VERSION = "v1.4.0"
TABLE_COMMENT_KEY = "table_comment"
COLUMN_COMMENT_KEY = "column_comment:"
SOURCE = "published"


def write_duckdb_v1_copy(source: Path, target: Path) -> None:
    """Copy every schema, table, row and comment of `source` into a 1.x-readable `target`.

    Args:
        source: The release's DuckDB file (opened read-only).
        target: The new file (must not exist).
    """
    with duckdb.connect() as con:
        con.execute(f"attach {quote_literal(str(source))} as {SOURCE} (read_only)")
        con.execute(
            f"attach {quote_literal(str(target))} as compat "
            f"(storage_version {quote_literal(V1_STORAGE_VERSION)})"
        )
        con.execute(f"copy from database {SOURCE} to compat")
        con.execute("detach compat")


def parquet_path(directory: Path, table: PublishedTable) -> Path:
    """Where a table's Parquet file goes: `<directory>/<schema>/<table>.parquet`."""
    return directory / table.schema / f"{table.name}.parquet"


def kv_metadata(table: PublishedTable, run_id: str, published_at: datetime) -> dict[str, str]:
    """The Parquet key-value metadata of a table's file: its documentation and its build."""
    metadata = {"run_id": run_id, "published_at": published_at.isoformat()}
    if table.comment:
        metadata[TABLE_COMMENT_KEY] = table.comment
    for column in table.columns:
        if column.comment:
            metadata[COLUMN_COMMENT_KEY + column.name] = column.comment
    return metadata


def write_parquet_files(
    source: Path, directory: Path, run_id: str, published_at: datetime
) -> dict[str, int]:
    """Write one Parquet file per table of `source`, documented in its key-value metadata.

    Args:
        source: The release's DuckDB file (opened read-only).
        directory: The release's `parquet` folder (created).
        run_id: The publishing run, in each file's metadata.
        published_at: The publication's time, in each file's metadata.

    Returns:
        Rows written per table (`schema.table`).
    """
    counts: dict[str, int] = {}
    with duckdb.connect(str(source), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        for table in read_published_tables(con, catalog):
            path = parquet_path(directory, table)
            path.parent.mkdir(parents=True, exist_ok=True)
            metadata = ", ".join(
                f"{quote_literal(key)}: {quote_literal(value)}"
                for key, value in kv_metadata(table, run_id, published_at).items()
            )
            written = con.execute(
                f"copy {table.sql_name} to {quote_literal(str(path))} "
                f"(format parquet, compression zstd, kv_metadata {{{metadata}}})"
            ).fetchone()
            counts[table.qualified_name] = written[0]
    return counts
