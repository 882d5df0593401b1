"""The raw layer of the warehouse: one table per source dataset, created before any load.

Every raw table carries the same lineage columns (which ward, which export, which file and
row, when loaded) followed by the dataset's own typed columns. dbt reads these tables through
its sources; nothing else writes them.
"""

from __future__ import annotations

import duckdb

from ingestion.registry import FILE_CONTRACTS

RAW_SCHEMA = "raw"

LINEAGE_COLUMNS: list[tuple[str, str]] = [
    ("ward_code", "varchar not null"),
    ("reference_date", "date not null"),
    ("source_file", "varchar not null"),
    ("file_sha256", "varchar not null"),
    ("source_row", "integer not null"),
    ("loaded_at", "timestamp not null"),
]

# The landing datasets' columns come from their contracts; the catalogue snapshot has none.
DATASET_COLUMNS: dict[str, list[tuple[str, str]]] = {
    **{table: contract.warehouse_columns for table, contract in FILE_CONTRACTS.items()},
    "opendata_package": [
        ("snapshot_id", "varchar"),
        ("taken_at", "timestamp"),
        ("organization", "varchar"),
        ("package_id", "varchar"),
        ("package_name", "varchar"),
        ("state", "varchar"),
        ("is_private", "boolean"),
        ("metadata_created", "timestamp"),
        ("metadata_modified", "timestamp"),
        ("num_resources", "integer"),
    ],
}


def raw_table_ddl(table: str) -> str:
    """Return the `create table if not exists` statement of one raw table."""
    columns = LINEAGE_COLUMNS + DATASET_COLUMNS[table]
    body = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in columns)
    return f"create table if not exists {RAW_SCHEMA}.{table} (\n    {body}\n)"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and every raw table that does not exist yet."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table in DATASET_COLUMNS:
        con.execute(raw_table_ddl(table))
