"""The published tables as a DuckDB catalog describes them: names, types and comments.

Every target (the DuckDB file, its 1.x copy, Parquet, PostgreSQL) is written from this one
description, so a table and its documentation travel together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

# What BI tools see: the marts, their data-quality history, and the publication log.
PUBLISHED_SCHEMAS = ("marts", "dq", "meta")


@dataclass(frozen=True)
class PublishedColumn:
    """A column of a published table.

    Attributes:
        name: The column name.
        data_type: Its DuckDB type as `duckdb_columns()` spells it, e.g. `DECIMAL(18,3)`.
        comment: Its documentation (dbt's column description), None when undocumented.
    """

    name: str
    data_type: str
    comment: str | None


@dataclass(frozen=True)
class PublishedTable:
    """A published table with its documentation.

    Attributes:
        schema: `marts`, `dq` or `meta`.
        name: The table name.
        comment: Its documentation (dbt's model description), None when undocumented.
        columns: Its columns, in order.
    """

    schema: str
    name: str
    comment: str | None
    columns: tuple[PublishedColumn, ...]

    @property
    def qualified_name(self) -> str:
        """`schema.table`, as meta.publication and release.json name it."""
        return f"{self.schema}.{self.name}"

    @property
    def sql_name(self) -> str:
        """The quoted `"schema"."table"` for SQL."""
        return f"{quote_identifier(self.schema)}.{quote_identifier(self.name)}"


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes (DuckDB and PostgreSQL alike)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A SQL string literal in single quotes."""
    return "'" + text.replace("'", "''") + "'"


def read_published_tables(
    con: duckdb.DuckDBPyConnection, catalog: str, schemas: Sequence[str] = PUBLISHED_SCHEMAS
) -> list[PublishedTable]:
    """The base tables of `schemas` in the attached database `catalog`, with their comments.

    Args:
        con: A connection that has `catalog` attached (or opened).
        catalog: The database name (`working`, `dxkpi`, ...).
        schemas: The schemas to list.

    Returns:
        The tables ordered by schema (in the order given) and name.
    """
    placeholders = ", ".join("?" for _ in schemas)
    tables = con.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        f"where database_name = ? and schema_name in ({placeholders}) and not temporary "
        "order by schema_name, table_name",
        [catalog, *schemas],
    ).fetchall()
    columns: dict[tuple[str, str], list[PublishedColumn]] = {}
    for schema, table, name, data_type, comment in con.execute(
        "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
        f"where database_name = ? and schema_name in ({placeholders}) "
        "order by schema_name, table_name, column_index",
        [catalog, *schemas],
    ).fetchall():
        columns.setdefault((schema, table), []).append(PublishedColumn(name, data_type, comment))
    ordered = sorted(tables, key=lambda row: (list(schemas).index(row[0]), row[1]))
    return [
        PublishedTable(schema, name, comment or None, tuple(columns.get((schema, name), ())))
        for schema, name, comment in ordered
    ]


def comment_statements(table: PublishedTable, target_name: str | None = None) -> list[str]:
    """`COMMENT ON` statements giving `table`'s documentation to a copy of it.

    Args:
        table: The documented table.
        target_name: The copy's quoted SQL name; `table.sql_name` by default.

    Returns:
        One statement for the table and one per documented column (DuckDB and PostgreSQL
        accept the same syntax).
    """
    target = target_name or table.sql_name
    statements = []
    if table.comment:
        statements.append(f"comment on table {target} is {quote_literal(table.comment)}")
    for column in table.columns:
        if column.comment:
            statements.append(
                f"comment on column {target}.{quote_identifier(column.name)} "
                f"is {quote_literal(column.comment)}"
            )
    return statements
