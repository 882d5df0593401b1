"""Publishing to PostgreSQL, against the real local server: a read-only role, comments, and
builds swapped in one transaction under readers that pool or hold their connections.

Each test gets its own database (`dxkpi_test_<random>`) and reader role, dropped after. The
server is DXKPI_TEST_POSTGRES_URL (default: the local one, user postgres); the tests skip when
it cannot be reached, and fail instead under CI=true or DXKPI_TEST_POSTGRES_REQUIRED.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import duckdb
import psycopg2
import psycopg2.errors
import pytest
from sqlalchemy import create_engine, text

from orchestration.assets.publish import POSTGRES_MARTS, postgres_marts
from orchestration.definitions import build_definitions
from orchestration.resources import PostgresResource, ServingResource
from orchestration.serving import publish_marts, publish_to_postgres
from orchestration.serving.postgres import (
    SwapBlocked,
    connect,
    ensure_reader_role,
    file_build,
    postgres_build,
    postgres_type,
)
from orchestration.settings import POSTGRES_POOL, load_settings

SERVER = os.environ.get("DXKPI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PUBLISHED = ("marts", "dq", "meta")
KPI_ROWS = [
    (
        "131016",
        2024,
        1.5,
        "12.345",
        7,
        10**30,
        True,
        "2025-03-31",
        "2025-04-01 09:00:00",
        "'it''s', \"quoted\"",
    ),
    ("131024", 2025, None, None, None, None, None, None, None, ""),
    (
        "131032",
        2025,
        -0.1,
        "-1.000",
        2**40,
        -1,
        False,
        "2024-04-01",
        "2024-04-01 00:00:00.5",
        "区\n改行",
    ),
]


@dataclass(frozen=True)
class Target:
    """A database of its own on the server, and its reader role."""

    url: str
    reader: str
    reader_url: str

    def reader_engine_url(self) -> str:
        return self.reader_url.replace("postgresql://", "postgresql+psycopg2://", 1)


def _with(url: str, user: str | None = None, database: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user or parts.username}@{host}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, f"/{database}" if database else parts.path, "", ""))


def _admin(sql: str) -> None:
    con = psycopg2.connect(SERVER)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


@pytest.fixture(scope="module")
def server() -> str:
    """The server's admin URL, or a skip saying why it cannot be used."""
    try:
        psycopg2.connect(SERVER, connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        reason = f"PostgreSQL not reachable at {SERVER}: {str(error).strip()}"
        if os.environ.get("DXKPI_TEST_POSTGRES_REQUIRED") or os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return SERVER


def _new_target(server: str) -> Target:
    suffix = uuid.uuid4().hex[:10]
    database, reader = f"dxkpi_test_{suffix}", f"dxkpi_test_reader_{suffix}"
    _admin(f"create database {database}")
    return Target(_with(server, database=database), reader, _with(server, reader, database))


def _drop_target(target: Target) -> None:
    _admin(f"drop database if exists {urlsplit(target.url).path[1:]} with (force)")
    _admin(f"drop role if exists {target.reader}")


@pytest.fixture
def target(server: str) -> Iterator[Target]:
    created = _new_target(server)
    yield created
    _drop_target(created)


def make_warehouse(path: Path, build: int) -> None:
    """Documented marts: `kpi` (every column type the marts use) and a pair of tables whose
    row counts tell the build: `pair_left` has `build` rows, `pair_right` twice as many."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.kpi (ward_code varchar, fiscal_year integer, "
            "value double, target decimal(9, 3), staff bigint, big hugeint, "
            "is_provisional boolean, as_of_date date, loaded_at timestamp, note varchar, "
            "seen_at timestamptz)"
        )
        for row in KPI_ROWS:
            con.execute(
                "insert into marts.kpi values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "timestamptz '2025-04-01 09:00:00+09')",
                list(row),
            )
        con.execute(
            "create or replace table marts.pair_left as select range as n from range(?)", [build]
        )
        con.execute(
            "create or replace table marts.pair_right as select range as n from range(?)",
            [2 * build],
        )
        for table in ("kpi", "pair_left", "pair_right"):
            con.execute(f"comment on table marts.{table} is 'the {table} table (表)'")
            for (column,) in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'marts' "
                "and table_name = ?",
                [table],
            ).fetchall():
                con.execute(f"comment on column marts.{table}.{column} is '{column}''s meaning'")


def release(tmp_path: Path, build: int) -> Path:
    """A release of build `build` (run `run-<build>`); its DuckDB file."""
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse, build)
    publication = publish_marts(warehouse, tmp_path / "serving" / "dxkpi.duckdb", f"run-{build}")
    return publication.release_dir / "dxkpi.duckdb"


def publish(tmp_path: Path, target: Target, build: int, **options: object) -> Path:
    source = release(tmp_path, build)
    publish_to_postgres(source, target.url, target.reader, f"run-{build}", **options)
    return source


def served_run(con: psycopg2.extensions.connection) -> str:
    with con.cursor() as cur:
        cur.execute("select distinct run_id from meta.publication")
        return cur.fetchone()[0]


@pytest.fixture(scope="module")
def published(
    server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Target, Path]]:
    """One database published once (build 1), for the tests that only read."""
    target = _new_target(server)
    source = publish(tmp_path_factory.mktemp("published"), target, 1)
    yield target, source
    _drop_target(target)


def test_the_reader_reads_every_table_with_its_rows_and_types(
    published: tuple[Target, Path],
) -> None:
    target, source = published
    with duckdb.connect(str(source), read_only=True) as duck:
        expected = duck.execute("select * from marts.kpi order by ward_code").fetchall()
    with connect(target.reader_url) as con, con.cursor() as cur:
        cur.execute("select * from marts.kpi order by ward_code")
        assert cur.fetchall() == expected
        cur.execute(
            "select column_name, data_type, numeric_precision, numeric_scale "
            "from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'kpi' order by ordinal_position"
        )
        types = {name: rest for name, *rest in cur.fetchall()}
    assert types["ward_code"] == ["text", None, None]
    assert types["fiscal_year"] == ["integer", 32, 0]
    assert types["value"] == ["double precision", 53, None]
    assert types["target"] == ["numeric", 9, 3]
    assert types["staff"] == ["bigint", 64, 0]
    assert types["big"] == ["numeric", None, None]
    assert types["is_provisional"] == ["boolean", None, None]
    assert types["as_of_date"] == ["date", None, None]
    assert types["loaded_at"] == ["timestamp without time zone", None, None]
    assert types["seen_at"] == ["timestamp with time zone", None, None]
    assert file_build(source) == postgres_build(target.url)


def test_every_table_and_column_keeps_its_comment(published: tuple[Target, Path]) -> None:
    target, source = published
    with duckdb.connect(str(source), read_only=True) as duck:
        tables = dict(
            duck.execute(
                "select schema_name || '.' || table_name, comment from duckdb_tables() "
                "where database_name = current_database()"
            ).fetchall()
        )
        columns = {
            (table, column): comment
            for table, column, comment in duck.execute(
                "select schema_name || '.' || table_name, column_name, comment "
                "from duckdb_columns() where database_name = current_database()"
            ).fetchall()
        }
    with connect(target.reader_url) as con, con.cursor() as cur:
        cur.execute(
            "select n.nspname || '.' || c.relname, obj_description(c.oid, 'pg_class') "
            "from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind = 'r'",
            [list(PUBLISHED)],
        )
        served_tables = dict(cur.fetchall())
        cur.execute(
            "select c.table_schema || '.' || c.table_name, c.column_name, "
            "col_description((c.table_schema || '.' || c.table_name)::regclass, "
            "c.ordinal_position) from information_schema.columns as c "
            "where c.table_schema = any(%s)",
            [list(PUBLISHED)],
        )
        served_columns = {(table, column): comment for table, column, comment in cur.fetchall()}
    assert served_tables == tables
    assert served_columns == columns
    documented = [name for name in tables if not name.startswith("dq.")]
    assert documented and all(tables[name] for name in documented)
    assert all(comment for (table, _), comment in columns.items() if table in documented)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("insert into marts.kpi (ward_code) values ('x')", id="insert"),
        pytest.param("update marts.kpi set note = 'x'", id="update"),
        pytest.param("delete from marts.kpi", id="delete"),
        pytest.param("truncate marts.kpi", id="truncate"),
        pytest.param("create table marts.mine (x integer)", id="create-table"),
        pytest.param("create view marts.mine as select 1 as x", id="create-view"),
        pytest.param("drop table marts.kpi", id="drop-table"),
        pytest.param("alter table marts.kpi add column x integer", id="alter-table"),
        pytest.param("create schema mine", id="create-schema"),
        pytest.param("drop schema marts cascade", id="drop-schema"),
        pytest.param("delete from meta.publication", id="delete-meta"),
    ],
)
@pytest.mark.parametrize("transaction", ["default", "read write"])
def test_the_reader_role_cannot_write(
    published: tuple[Target, Path], statement: str, transaction: str
) -> None:
    # GIVEN the reader, in its default (read-only) transaction or one it asked to be read-write
    target, _ = published
    with connect(target.reader_url) as con, con.cursor() as cur:
        if transaction == "read write":
            cur.execute("set transaction read write")
        # WHEN it tries to change anything THEN PostgreSQL refuses
        with pytest.raises(
            (psycopg2.errors.ReadOnlySqlTransaction, psycopg2.errors.InsufficientPrivilege)
        ):
            cur.execute(statement)
        con.rollback()
        cur.execute("select count(*) from marts.kpi")
        assert cur.fetchone() == (len(KPI_ROWS),)


def test_the_reader_role_is_read_only_by_default_and_no_more(
    published: tuple[Target, Path],
) -> None:
    target, _ = published
    with connect(target.reader_url) as con, con.cursor() as cur:
        cur.execute("show default_transaction_read_only")
        assert cur.fetchone() == ("on",)
        cur.execute(
            "select rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolbypassrls "
            "from pg_roles where rolname = current_user"
        )
        assert cur.fetchone() == (False, False, False, True, False)
        cur.execute(
            "select has_schema_privilege(s, 'CREATE'), has_schema_privilege(s, 'USAGE') "
            "from unnest(%s::text[]) as s",
            [list(PUBLISHED)],
        )
        assert cur.fetchall() == [(False, True)] * len(PUBLISHED)


def test_a_reader_password_is_set_when_given(target: Target) -> None:
    with connect(target.url) as con:
        ensure_reader_role(con, target.reader, "s3cret")
        with con.cursor() as cur:
            cur.execute(
                "select rolpassword is not null from pg_authid where rolname = %s", [target.reader]
            )
            assert cur.fetchone() == (True,)


def test_pooled_and_held_connections_see_the_new_build_at_their_next_query(
    tmp_path: Path, target: Target
) -> None:
    # GIVEN build 1 read through a SQLAlchemy pool of one connection, a SQLAlchemy connection
    # held checked out in autocommit, and a raw psycopg2 connection kept open
    publish(tmp_path, target, 1)
    engine = create_engine(target.reader_engine_url(), pool_size=1, max_overflow=0)
    meta = text("select distinct run_id, pg_backend_pid() from meta.publication")
    held = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    pooled = create_engine(target.reader_engine_url(), pool_size=1, max_overflow=0)
    with pooled.connect() as con:
        run, pooled_pid = con.execute(meta).one()
    assert run == "run-1" and held.execute(meta).one()[0] == "run-1"
    raw = psycopg2.connect(target.reader_url)
    with raw, raw.cursor():
        assert served_run(raw) == "run-1"
    raw_pid = raw.info.backend_pid
    # WHEN build 2 is published
    publish(tmp_path, target, 2)
    # THEN each sees build 2 at its next query, on the very same server session
    with pooled.connect() as con:
        assert con.execute(meta).one() == ("run-2", pooled_pid)
    assert held.execute(meta).one()[0] == "run-2"
    with raw:
        assert served_run(raw) == "run-2"
    assert raw.info.backend_pid == raw_pid
    raw.close()
    held.close()
    engine.dispose()
    pooled.dispose()


def test_concurrent_readers_never_see_half_a_build(tmp_path: Path, target: Target) -> None:
    # GIVEN build 1, one reader counting both tables of a pair in one statement and another
    # in two statements of one transaction, over and over
    publish(tmp_path, target, 1)
    seen: list[tuple] = []
    errors: list[BaseException] = []
    done = threading.Event()
    one_statement = (
        "select (select count(*) from marts.pair_left), (select count(*) from marts.pair_right), "
        "(select min(run_id) || max(run_id) from meta.publication)"
    )

    def read(in_one_statement: bool) -> None:
        con = psycopg2.connect(target.reader_url)
        con.autocommit = in_one_statement
        try:
            while not done.is_set():
                with con.cursor() as cur:
                    if in_one_statement:
                        cur.execute(one_statement)
                        seen.append(cur.fetchone())
                    else:
                        cur.execute("select count(*) from marts.pair_left")
                        left = cur.fetchone()[0]
                        cur.execute("select count(*) from marts.pair_right")
                        right = cur.fetchone()[0]
                        cur.execute("select min(run_id) || max(run_id) from meta.publication")
                        seen.append((left, right, cur.fetchone()[0]))
                        con.rollback()
        except BaseException as error:  # noqa: BLE001 - any failure is the finding
            errors.append(error)
        finally:
            con.close()

    readers = [threading.Thread(target=read, args=(flag,)) for flag in (True, False)]
    for reader in readers:
        reader.start()
    # WHEN builds 2 to 5 are swapped in meanwhile
    try:
        for build in range(2, 6):
            publish(tmp_path, target, build)
    finally:
        done.set()
        for reader in readers:
            reader.join()
    # THEN every reading is one whole build
    assert not errors
    builds = {(b, 2 * b, f"run-{b}run-{b}") for b in range(1, 6)}
    assert seen and set(seen) <= builds
    assert (5, 10, "run-5run-5") in seen or postgres_build(target.url).run_ids == {"run-5"}


def test_a_reader_idle_in_a_transaction_holds_the_swap_and_the_old_build_stays(
    tmp_path: Path, target: Target
) -> None:
    # GIVEN build 1 and a reader that read it and left its transaction open
    publish(tmp_path, target, 1)
    reader = psycopg2.connect(target.reader_url)
    assert served_run(reader) == "run-1"
    # WHEN build 2 cannot take the live tables before its deadline
    with pytest.raises(SwapBlocked, match=str(reader.info.backend_pid)):
        publish(tmp_path, target, 2, lock_timeout="100ms", swap_deadline=1.5)
    # THEN build 1 stays live, whole, and no build schema is left behind
    assert postgres_build(target.url).run_ids == {"run-1"}
    assert served_run(reader) == "run-1"
    assert _schemas(target) == {"marts", "dq", "meta", "public"}
    # and once the reader ends its transaction the next publication goes through
    reader.rollback()
    publish(tmp_path, target, 3)
    assert served_run(reader) == "run-3"
    reader.close()


def _schemas(target: Target) -> set[str]:
    with connect(target.url) as con, con.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where nspname not like 'pg\\_%' "
            "and nspname <> 'information_schema'"
        )
        return {row[0] for row in cur.fetchall()}


def test_old_and_abandoned_build_schemas_are_dropped(tmp_path: Path, target: Target) -> None:
    # GIVEN a build, and schemas an interrupted and a blocked publication left behind
    publish(tmp_path, target, 1)
    with connect(target.url) as con, con.cursor() as cur:
        cur.execute("create schema marts__build_0123456789ab")
        cur.execute("create table marts__build_0123456789ab.half (x integer)")
        cur.execute("create schema dq__old_0123456789ab")
        con.commit()
    # WHEN two more builds are published
    publish(tmp_path, target, 2)
    publish(tmp_path, target, 3)
    # THEN only the live schemas remain
    assert _schemas(target) == {"marts", "dq", "meta", "public"}


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        pytest.param("VARCHAR", "text", id="varchar"),
        pytest.param("INTEGER", "integer", id="integer"),
        pytest.param("BIGINT", "bigint", id="bigint"),
        pytest.param("HUGEINT", "numeric", id="hugeint"),
        pytest.param("DOUBLE", "double precision", id="double"),
        pytest.param("DECIMAL(18,3)", "numeric(18,3)", id="decimal"),
        pytest.param("DATE", "date", id="date"),
        pytest.param("TIMESTAMP", "timestamp", id="timestamp"),
        pytest.param("TIMESTAMP WITH TIME ZONE", "timestamptz", id="timestamptz"),
        pytest.param("BOOLEAN", "boolean", id="boolean"),
        pytest.param("ENUM('a', 'b')", "text", id="enum"),
    ],
)
def test_duckdb_types_map_to_postgres_types(duckdb_type: str, expected: str) -> None:
    assert postgres_type(duckdb_type) == expected


@pytest.mark.parametrize(
    "duckdb_type", ["INTEGER[]", "STRUCT(a INTEGER)", "BLOB", "MAP(VARCHAR, INTEGER)"]
)
def test_types_without_a_faithful_postgres_type_are_refused(duckdb_type: str) -> None:
    with pytest.raises(ValueError, match="no PostgreSQL type"):
        postgres_type(duckdb_type)


def test_the_postgres_asset_exists_only_where_a_url_is_set() -> None:
    settings = dataclasses.replace(load_settings(), postgres_url=None)
    without = build_definitions(settings).resolve_asset_graph()
    assert POSTGRES_MARTS not in without.get_all_asset_keys()
    with_url = dataclasses.replace(settings, postgres_url="postgresql://dxkpi@db.example/dxkpi")
    graph = build_definitions(with_url).resolve_asset_graph()
    node = graph.get(POSTGRES_MARTS)
    assert node.parent_keys == {dg.AssetKey(["serving", "kpi_marts"])}
    assert node.pools == {POSTGRES_POOL} and node.group_name == "serving"


def test_the_postgres_asset_publishes_the_current_release_and_checks_it(
    tmp_path: Path, target: Target
) -> None:
    # GIVEN a current release of the files
    source = release(tmp_path, 4)
    # WHEN only the PostgreSQL publication is materialised
    result = dg.materialize(
        [postgres_marts],
        resources={
            "serving": ServingResource(path=str(tmp_path / "serving" / "dxkpi.duckdb")),
            "postgres": PostgresResource(url=target.url, reader_role=target.reader),
        },
    )
    # THEN PostgreSQL serves that release and both checks pass
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"same_rows_as_file": True, "serves_this_build": True}
    assert postgres_build(target.url) == file_build(source)
