"""Publishing a release's DuckDB file to PostgreSQL, where BI tools connect natively.

Each schema of the file (marts, dq, meta) is built aside as `<schema>__build_<id>` in one
transaction: tables typed for PostgreSQL, rows streamed with COPY (CSV written by DuckDB), the
table and column comments, and SELECT granted to the reader role. A second, short transaction
then takes ACCESS EXCLUSIVE locks on the live tables and renames the live schemas aside and the
build schemas in. Because of those locks a statement that names two tables never mixes builds:
it either resolved both before the swap or waits for it and then reads the new ones. A pooled
connection sees the new build at its next statement; nothing has to reconnect. The old schemas
are dropped afterwards; if a reader still holds them the drop gives up and the next
publication retries it.

The swap waits at most `lock_timeout` per attempt (readers queue behind a waiting exclusive
lock, so this bounds their stall) and retries with backoff until `swap_deadline` seconds. A
session left idle in a transaction holds its tables: the reader role ends such sessions after
READER_IDLE_IN_TRANSACTION (a role setting), well inside the default deadline.

The reader role: LOGIN, no other attribute, `default_transaction_read_only = on`, USAGE on the
published schemas and SELECT on their tables, nothing else (the publisher owns the schemas).
The database itself is the deployer's: create it once (`createdb dxkpi`) and point
DXKPI_POSTGRES_URL at it; the publisher needs CREATE on it, and CREATEROLE to create the reader.
It is dxkpi's alone: every publication replaces its schemas marts, dq and meta.

DuckDB's postgres extension would have to be downloaded at run time; psycopg2 and COPY do the
same with what is installed.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection

from orchestration.serving.catalog import (
    PUBLISHED_SCHEMAS,
    PublishedTable,
    quote_literal,
    read_published_tables,
)

DEFAULT_READER_ROLE = "dxkpi_reader"
READER_IDLE_IN_TRANSACTION = "5min"
# At most twice PostgreSQL's deadlock_timeout (1 s by default): when a reader in a transaction
# and the swap deadlock, the swap's own check or timeout always fires first, so the swap (which
# retries) is the one cancelled, never the reader.
LOCK_TIMEOUT = "1500ms"
SWAP_DEADLINE_SECONDS = 600.0
# pg_try_advisory_lock key of the publisher ("dxkpi" in ASCII): one publication at a time.
PUBLISHER_LOCK = 0x64786B7069
_LEFTOVER = re.compile(rf"^({'|'.join(PUBLISHED_SCHEMAS)})__(build|old)_[0-9a-f]+$")
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_POSTGRES_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric",
    "UHUGEINT": "numeric",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIME WITH TIME ZONE": "timetz",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "jsonb",
}

log = logging.getLogger(__name__)


class SwapBlocked(RuntimeError):
    """The live schemas stayed locked by readers until the deadline; nothing changed."""


@dataclass(frozen=True)
class PostgresPublication:
    """What one publication to PostgreSQL did.

    Attributes:
        build_id: The suffix of the build schemas (`marts__build_<build_id>`).
        tables: Rows copied per table (`schema.table`).
        swap_attempts: Transactions it took to swap (1 when no reader was in the way).
        left_behind: Old schemas that could not be dropped yet (the next publication will).
    """

    build_id: str
    tables: dict[str, int]
    swap_attempts: int
    left_behind: tuple[str, ...]


@dataclass(frozen=True)
class ServedBuild:
    """Which build a target serves: meta.publication's ids and every table's row count."""

    run_ids: frozenset[str]
    release_ids: frozenset[str]
    rows: dict[str, int]


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL type for a DuckDB column type (as `duckdb_columns()` spells it).

    Raises:
        ValueError: a type with no faithful PostgreSQL counterpart here (lists, structs,
            maps, blobs): publish such a column as text in the mart instead.
    """
    if decimal := _DECIMAL.match(duckdb_type):
        return f"numeric({decimal[1]},{decimal[2]})"
    if duckdb_type.startswith("ENUM("):
        return "text"
    if duckdb_type in _POSTGRES_TYPES:
        return _POSTGRES_TYPES[duckdb_type]
    raise ValueError(f"no PostgreSQL type for DuckDB type {duckdb_type}")


def libpq_url(url: str) -> str:
    """A URL libpq accepts: SQLAlchemy's `postgresql+psycopg2://` loses its driver part."""
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)


@contextmanager
def connect(url: str, application_name: str = "dxkpi") -> Iterator[PgConnection]:
    """A psycopg2 connection to `url` (UTF-8), closed after."""
    con = psycopg2.connect(
        libpq_url(url), application_name=application_name, client_encoding="UTF8"
    )
    try:
        yield con
    finally:
        con.close()


def publish_to_postgres(
    source: Path,
    url: str,
    reader_role: str,
    run_id: str,
    *,
    reader_password: str | None = None,
    lock_timeout: str = LOCK_TIMEOUT,
    swap_deadline: float = SWAP_DEADLINE_SECONDS,
    logger: logging.Logger | None = None,
) -> PostgresPublication:
    """Copy every table of `source` into PostgreSQL and swap the build in atomically.

    Args:
        source: The release's DuckDB file (opened read-only), schemas marts, dq and meta.
        url: The database to publish into (`postgresql://user@host:5432/dxkpi`; keep the
            password in PGPASSWORD or ~/.pgpass rather than the URL).
        reader_role: The login role BI tools use; created when missing.
        run_id: The publishing run (shown as the session's application_name).
        reader_password: Set as the reader's password when given.
        lock_timeout: How long one swap attempt waits for readers' locks.
        swap_deadline: Seconds to keep retrying the swap before giving up.
        logger: Where to log (Dagster's context.log); this module's logger by default.

    Returns:
        What was published.

    Raises:
        SwapBlocked: readers held the live tables until the deadline; the build is dropped
            and the previous one stays live.
        RuntimeError: another publication holds the publisher lock.
    """
    logger = logger or log
    build_id = uuid.uuid4().hex[:12]
    with duckdb.connect(str(source), read_only=True) as duck:
        catalog = duck.execute("select current_database()").fetchone()[0]
        tables = read_published_tables(duck, catalog)
        with connect(url, f"dxkpi-publish {run_id}"[:63]) as con:
            _take_publisher_lock(con)
            _drop_schemas(con, _leftover_schemas(con), lock_timeout, logger)
            ensure_reader_role(con, reader_role, reader_password)
            try:
                counts = _build(con, duck, tables, build_id, reader_role)
                attempts = _swap(con, build_id, lock_timeout, swap_deadline, logger)
            except BaseException:
                con.rollback()
                _drop_schemas(con, _build_schemas(build_id), lock_timeout, logger)
                raise
            old = [_old_schema(schema, build_id) for schema in PUBLISHED_SCHEMAS]
            left = _drop_schemas(con, _existing(con, old), lock_timeout, logger)
    logger.info(f"PostgreSQL serves build {build_id} ({len(counts)} tables)")
    return PostgresPublication(build_id, counts, attempts, tuple(left))


def ensure_reader_role(con: PgConnection, role: str, password: str | None = None) -> None:
    """Create the reader role if missing and make it read-only by default.

    Only what differs is changed, so a publisher without CREATEROLE can publish once a
    deployer has created the role.

    Raises:
        ValueError: the role is a superuser (it would bypass every privilege).
    """
    name = sql.Identifier(role)
    with con.cursor() as cur:
        cur.execute(
            "select rolsuper, rolcanlogin, coalesce(rolconfig, '{}'), rolname = current_user "
            "from pg_roles where rolname = %s",
            [role],
        )
        found = cur.fetchone()
        if found and (found[0] or found[3]):
            raise ValueError(
                f"the reader role {role} is a superuser or the publisher: choose a plain role"
            )
        if found is None or password is not None:
            verb = sql.SQL("create" if found is None else "alter")
            secret = (
                sql.SQL(" password {}").format(sql.Literal(password)) if password else sql.SQL("")
            )
            cur.execute(sql.SQL("{} role {} login{}").format(verb, name, secret))
        elif not found[1]:
            cur.execute(sql.SQL("alter role {} login").format(name))
        settings = set(found[2]) if found else set()
        for setting, value in (
            ("default_transaction_read_only", "on"),
            ("idle_in_transaction_session_timeout", READER_IDLE_IN_TRANSACTION),
        ):
            if f"{setting}={value}" not in settings:
                cur.execute(
                    sql.SQL("alter role {} set {} = {}").format(
                        name, sql.Identifier(setting), sql.Literal(value)
                    )
                )
        cur.execute("select has_database_privilege(%s, current_database(), 'CONNECT')", [role])
        if not cur.fetchone()[0]:
            cur.execute(
                sql.SQL("grant connect on database {} to {}").format(
                    sql.Identifier(con.info.dbname), name
                )
            )
    con.commit()


def _take_publisher_lock(con: PgConnection) -> None:
    with con.cursor() as cur:
        cur.execute("select pg_try_advisory_lock(%s)", [PUBLISHER_LOCK])
        (taken,) = cur.fetchone()
    con.commit()
    if not taken:
        raise RuntimeError("another dxkpi publication to this PostgreSQL server is running")


def _build_schema(schema: str, build_id: str) -> str:
    return f"{schema}__build_{build_id}"


def _old_schema(schema: str, build_id: str) -> str:
    return f"{schema}__old_{build_id}"


def _build_schemas(build_id: str) -> list[str]:
    return [_build_schema(schema, build_id) for schema in PUBLISHED_SCHEMAS]


def _existing(con: PgConnection, schemas: Sequence[str]) -> list[str]:
    with con.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where nspname = any(%s) order by 1", [list(schemas)]
        )
        found = {row[0] for row in cur.fetchall()}
    con.commit()
    return [schema for schema in schemas if schema in found]


def _leftover_schemas(con: PgConnection) -> list[str]:
    """Build and old schemas that interrupted or blocked publications left."""
    with con.cursor() as cur:
        cur.execute("select nspname from pg_namespace order by 1")
        names = [row[0] for row in cur.fetchall()]
    con.commit()
    return [name for name in names if _LEFTOVER.match(name)]


def _build(
    con: PgConnection,
    duck: duckdb.DuckDBPyConnection,
    tables: Sequence[PublishedTable],
    build_id: str,
    reader_role: str,
) -> dict[str, int]:
    """Create, fill, document and grant the build schemas in one transaction."""
    reader = sql.Identifier(reader_role)
    counts: dict[str, int] = {}
    with con.cursor() as cur, tempfile.TemporaryDirectory(prefix="dxkpi-pg-") as scratch:
        for schema in PUBLISHED_SCHEMAS:
            build = sql.Identifier(_build_schema(schema, build_id))
            cur.execute(sql.SQL("create schema {}").format(build))
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(build, reader))
        for table in tables:
            target = sql.Identifier(_build_schema(table.schema, build_id), table.name)
            cur.execute(_create_table(target, table))
            counts[table.qualified_name] = _copy_rows(cur, duck, table, target, Path(scratch))
            for statement in _comments(target, table):
                cur.execute(statement)
            cur.execute(sql.SQL("grant select on {} to {}").format(target, reader))
    con.commit()
    return counts


def _create_table(target: sql.Composable, table: PublishedTable) -> sql.Composed:
    columns = [
        sql.SQL("{} {}").format(
            sql.Identifier(column.name),
            sql.SQL(postgres_type(column.data_type)),
        )
        for column in table.columns
    ]
    return sql.SQL("create table {} ({})").format(target, sql.SQL(", ").join(columns))


def _copy_rows(
    cur: psycopg2.extensions.cursor,
    duck: duckdb.DuckDBPyConnection,
    table: PublishedTable,
    target: sql.Composable,
    scratch: Path,
) -> int:
    """Stream one table through a CSV file DuckDB writes; return the rows copied.

    Every value is quoted and NULL is the only unquoted empty field, so PostgreSQL tells a
    NULL from an empty string.
    """
    csv = scratch / f"{table.schema}.{table.name}.csv"
    duck.execute(
        f"copy {table.sql_name} to {quote_literal(str(csv))} "
        "(format csv, header false, force_quote *)"
    )
    with csv.open("rb") as rows:
        cur.copy_expert(sql.SQL("copy {} from stdin with (format csv)").format(target), rows)
        copied = cur.rowcount
    csv.unlink()
    return copied


def _comments(target: sql.Composable, table: PublishedTable) -> list[sql.Composed]:
    statements = []
    if table.comment:
        statements.append(
            sql.SQL("comment on table {} is {}").format(target, sql.Literal(table.comment))
        )
    for column in table.columns:
        if column.comment:
            statements.append(
                sql.SQL("comment on column {}.{} is {}").format(
                    target, sql.Identifier(column.name), sql.Literal(column.comment)
                )
            )
    return statements


def _swap(
    con: PgConnection, build_id: str, lock_timeout: str, deadline: float, logger: logging.Logger
) -> int:
    """Rename the live schemas aside and the build in, retrying while readers hold locks."""
    give_up_at = time.monotonic() + deadline
    attempt = 0
    while True:
        attempt += 1
        try:
            _swap_once(con, build_id, lock_timeout)
            return attempt
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected) as error:
            con.rollback()
            blockers = _lock_holders(con)
            pause = min(2.0 ** (attempt - 1), 30.0)
            if time.monotonic() + pause > give_up_at:
                raise SwapBlocked(
                    f"the live schemas stayed locked for {deadline:.0f} s ({attempt} attempts; "
                    f"holders: {blockers or 'gone'}); the previous build stays live"
                ) from error
            logger.info(f"swap attempt {attempt} waited for {blockers}: retrying in {pause:.0f} s")
            time.sleep(pause)


def _swap_once(con: PgConnection, build_id: str, lock_timeout: str) -> None:
    live = _existing(con, PUBLISHED_SCHEMAS)
    with con.cursor() as cur:
        cur.execute("select set_config('lock_timeout', %s, true)", [lock_timeout])
        cur.execute(
            "select format('%%I.%%I', schemaname, tablename) from pg_tables "
            "where schemaname = any(%s) order by 1",
            [live],
        )
        locked = [sql.SQL(row[0]) for row in cur.fetchall()]
        if locked:
            cur.execute(
                sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(locked))
            )
        for schema in PUBLISHED_SCHEMAS:
            if schema in live:
                cur.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(schema), sql.Identifier(_old_schema(schema, build_id))
                    )
                )
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(_build_schema(schema, build_id)), sql.Identifier(schema)
                )
            )
    con.commit()


def _lock_holders(con: PgConnection) -> list[str]:
    """Sessions holding locks on the live tables: `pid user application (state)`."""
    with con.cursor() as cur:
        cur.execute(
            "select distinct a.pid, a.usename, a.application_name, a.state "
            "from pg_locks as l inner join pg_stat_activity as a on a.pid = l.pid "
            "inner join pg_class as c on c.oid = l.relation "
            "inner join pg_namespace as n on n.oid = c.relnamespace "
            "where l.granted and n.nspname = any(%s) and a.pid <> pg_backend_pid() order by 1",
            [list(PUBLISHED_SCHEMAS)],
        )
        holders = [f"{pid} {user} {app or '-'} ({state})" for pid, user, app, state in cur]
    con.commit()
    return holders


def _drop_schemas(
    con: PgConnection, schemas: Sequence[str], lock_timeout: str, logger: logging.Logger
) -> list[str]:
    """Drop each schema with its tables; return those a reader's locks kept."""
    left = []
    for schema in schemas:
        try:
            with con.cursor() as cur:
                cur.execute("select set_config('lock_timeout', %s, true)", [lock_timeout])
                cur.execute(
                    sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
                )
            con.commit()
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected):
            con.rollback()
            left.append(schema)
            logger.warning(f"{schema} is still read: left for the next publication to drop")
    return left


def postgres_build(url: str) -> ServedBuild:
    """The build PostgreSQL serves: meta.publication's ids, rows of every published table."""
    with connect(url, "dxkpi-check") as con, con.cursor() as cur:
        cur.execute("select distinct run_id, release_id from meta.publication")
        ids = cur.fetchall()
        cur.execute(
            "select schemaname, tablename from pg_tables where schemaname = any(%s) order by 1, 2",
            [list(PUBLISHED_SCHEMAS)],
        )
        rows = {}
        for schema, table in cur.fetchall():
            cur.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table)))
            rows[f"{schema}.{table}"] = cur.fetchone()[0]
        con.rollback()
    return ServedBuild(frozenset(r for r, _ in ids), frozenset(i for _, i in ids if i), rows)


def file_build(source: Path) -> ServedBuild:
    """The build a DuckDB serving file holds, in the terms of `postgres_build`."""
    with duckdb.connect(str(source), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        ids = con.execute("select distinct run_id, release_id from meta.publication").fetchall()
        rows = {
            table.qualified_name: con.execute(f"select count(*) from {table.sql_name}").fetchone()[
                0
            ]
            for table in read_published_tables(con, catalog)
        }
    return ServedBuild(frozenset(r for r, _ in ids), frozenset(i for _, i in ids if i), rows)
