"""Publishing the marts: a new file swapped in atomically, readers never blocked."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.serving import publish_marts


def make_warehouse(path: Path, value: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.fct_kpi_values as select ? as value", [value])
        con.execute("create schema if not exists staging")
        con.execute("create or replace table staging.not_published as select 1 as x")


def test_publish_copies_the_marts_and_logs_the_publication(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving" / "dxkpi.duckdb"
    make_warehouse(warehouse, 1)
    publication = publish_marts(warehouse, serving, "run-1")
    assert publication.tables == {"marts.fct_kpi_values": 1}
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select value from marts.fct_kpi_values").fetchone() == (1,)
        assert con.execute("select run_id from meta.publication").fetchone() == ("run-1",)
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    assert "staging" not in schemas
    assert [p.name for p in serving.parent.iterdir()] == ["dxkpi.duckdb"]


def test_reader_with_the_old_file_open_neither_blocks_nor_sees_half_a_build(
    tmp_path: Path,
) -> None:
    # GIVEN a published build that a BI tool holds open
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "dxkpi.duckdb"
    make_warehouse(warehouse, 1)
    publish_marts(warehouse, serving, "run-1")
    reader = duckdb.connect(str(serving), read_only=True)
    # WHEN the pipeline publishes a new build meanwhile
    make_warehouse(warehouse, 2)
    publish_marts(warehouse, serving, "run-2")
    # THEN the open reader still sees the whole old build, and a new reader the whole new one
    assert reader.execute("select value from marts.fct_kpi_values").fetchone() == (1,)
    reader.close()
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert fresh.execute("select value from marts.fct_kpi_values").fetchone() == (2,)


def test_failed_publication_keeps_the_previous_file(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "dxkpi.duckdb"
    make_warehouse(warehouse, 1)
    publish_marts(warehouse, serving, "run-1")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table marts.fct_kpi_values")
    with pytest.raises(RuntimeError, match="no table"):
        publish_marts(warehouse, serving, "run-2")
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select value from marts.fct_kpi_values").fetchone() == (1,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dxkpi.duckdb", "warehouse.duckdb"]
