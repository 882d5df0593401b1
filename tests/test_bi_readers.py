"""The published files as BI tools open them: the DuckDB 1.x CLI on the compatibility copy,
SQLAlchemy (duckdb_engine) on the 2.0 file, and what a connection pool does across a
publication (what the README tells BI users)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from orchestration.serving import publish_marts

# The DuckDB 1.x CLI of this environment (the duckdb-cli wheel), beside the Python.
DUCKDB_1X_CLI = Path(sys.executable).with_name("duckdb")
WARDS = [("131016", "千代田区", 66, 0.25), ("131024", "中央区", 170, None)]


def make_warehouse(path: Path, build: int) -> None:
    """Documented marts; `dim_ward.build` tells which build a reader sees."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.dim_ward (ward_code varchar, ward_name_ja varchar, "
            "population_thousands integer, share double, build integer)"
        )
        con.executemany(
            "insert into marts.dim_ward values (?, ?, ?, ?, ?)", [(*w, build) for w in WARDS]
        )
        con.execute(
            "create or replace table marts.fct_kpi_values as "
            "select 'dx_01' as indicator_id, 1.5 as value"
        )
        con.execute("comment on table marts.dim_ward is 'One row per ward (区).'")
        con.execute("comment on column marts.dim_ward.ward_code is 'The ward code (団体コード).'")
        con.execute("comment on table marts.fct_kpi_values is 'One row per indicator.'")


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    """The stable path of the DuckDB file, build 1 published."""
    make_warehouse(tmp_path / "warehouse.duckdb", 1)
    path = tmp_path / "serving" / "dxkpi.duckdb"
    publish_marts(tmp_path / "warehouse.duckdb", path, "run-1")
    return path


def republish(serving: Path, build: int) -> None:
    warehouse = serving.parent.parent / "warehouse.duckdb"
    make_warehouse(warehouse, build)
    publish_marts(warehouse, serving, f"run-{build}")


def cli(database: Path, sql: str) -> subprocess.CompletedProcess[str]:
    """Run `sql` in the DuckDB 1.x CLI on `database`, read-only, JSON out."""
    return subprocess.run(
        [str(DUCKDB_1X_CLI), "-readonly", str(database), "-json", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_here_is_duckdb_1x() -> None:
    version = subprocess.run(
        [str(DUCKDB_1X_CLI), "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.startswith("v1."), version.stdout


def test_the_duckdb_1x_cli_reads_the_compatibility_copy(serving: Path) -> None:
    copy = serving.with_name("dxkpi_v1.duckdb")
    result = cli(copy, "select * from marts.dim_ward order by ward_code")
    assert result.returncode == 0, result.stderr
    rows = [tuple(row.values()) for row in json.loads(result.stdout)]
    with duckdb.connect(str(serving), read_only=True) as con:
        assert rows == con.execute("select * from marts.dim_ward order by ward_code").fetchall()
    comments = cli(
        copy,
        "select table_name, comment from duckdb_tables() where schema_name = 'marts' "
        "order by table_name",
    )
    assert json.loads(comments.stdout) == [
        {"table_name": "dim_ward", "comment": "One row per ward (区)."},
        {"table_name": "fct_kpi_values", "comment": "One row per indicator."},
    ]


def test_the_duckdb_1x_cli_refuses_the_2_0_file(serving: Path) -> None:
    # Why the compatibility copy exists: 1.x cannot read what 2.0 writes.
    result = cli(serving, "select count(*) from marts.dim_ward")
    assert result.returncode != 0
    assert "version number" in result.stderr + result.stdout


def engine_on(serving: Path, **options: object) -> Engine:
    return create_engine(f"duckdb:///{serving}", connect_args={"read_only": True}, **options)


def test_sqlalchemy_reflects_the_marts_with_their_comments(serving: Path) -> None:
    engine = engine_on(serving)
    inspector = inspect(engine)
    assert inspector.get_table_names(schema="marts") == ["dim_ward", "fct_kpi_values"]
    columns = inspector.get_columns("dim_ward", schema="marts")
    assert [c["name"] for c in columns] == [
        "ward_code",
        "ward_name_ja",
        "population_thousands",
        "share",
        "build",
    ]
    assert columns[0]["comment"] == "The ward code (団体コード)."
    assert inspector.get_table_comment("dim_ward", schema="marts") == {
        "text": "One row per ward (区)."
    }
    engine.dispose()


BUILD = text("select distinct build from marts.dim_ward")


def test_a_pooled_connection_keeps_the_build_it_opened_until_the_pool_lets_it_go(
    serving: Path,
) -> None:
    # GIVEN a pooled engine (pre-ping on) that read build 1, one connection held checked out
    engine = engine_on(serving, pool_size=2, pool_pre_ping=True)
    held = engine.connect()
    assert held.execute(BUILD).scalar() == 1
    with engine.connect() as pooled:
        assert pooled.execute(BUILD).scalar() == 1
    # WHEN build 2 is published
    republish(serving, 2)
    # THEN the held connection and the pooled one (pre-ping does not help: it is alive) still
    # read build 1: each keeps the file it opened
    assert held.execute(BUILD).scalar() == 1
    with engine.connect() as pooled:
        assert pooled.execute(BUILD).scalar() == 1
    # and a fresh connection, even beside them, reads build 2
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert fresh.execute("select distinct build from marts.dim_ward").fetchone() == (2,)
    # and once the pool is disposed (and the held connection returned) the engine reads build 2
    held.close()
    engine.dispose()
    with engine.connect() as pooled:
        assert pooled.execute(BUILD).scalar() == 2
    engine.dispose()


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"poolclass": NullPool}, id="NullPool"),
        # pool_recycle=N reopens a connection older than N seconds at checkout; 0: every time.
        pytest.param({"pool_recycle": 0}, id="pool_recycle"),
    ],
)
def test_an_engine_that_does_not_keep_connections_reads_each_new_build(
    serving: Path, options: dict[str, object]
) -> None:
    engine = engine_on(serving, **options)
    with engine.connect() as con:
        assert con.execute(BUILD).scalar() == 1
    republish(serving, 2)
    with engine.connect() as con:
        assert con.execute(BUILD).scalar() == 2
    engine.dispose()
