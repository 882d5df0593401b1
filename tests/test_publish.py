"""Publishing the marts: a release of files built aside and swapped in atomically."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from orchestration.dq.tables import DqTable
from orchestration.serving import publish_marts
from orchestration.serving.locations import where_published
from orchestration.serving.release import prune_releases
from orchestration.settings import Settings

TABLE_COMMENTS = {
    "fct_kpi_values": "One row per ward per indicator: the value.",
    "dim_ward": "One row per ward (区).",
}
COLUMN_COMMENTS = {
    ("fct_kpi_values", "ward_code"): "The ward's code (団体コード).",
    ("fct_kpi_values", "value"): "The indicator's value; it's quoted 'like this'.",
    ("dim_ward", "ward_code"): "The ward's code.",
    ("dim_ward", "ward_name_ja"): "区名",
}
DQ_TABLE = DqTable("dq.incidents", "key varchar, is_open boolean", "One row per incident.", [])


def make_warehouse(path: Path, value: int) -> None:
    """Two documented marts (fct_kpi_values holds `value` in one row) and a staging table."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.fct_kpi_values as "
            "select '131016' as ward_code, ?::integer as value",
            [value],
        )
        con.execute(
            "create or replace table marts.dim_ward as select * from (values "
            "('131016', '千代田区'), ('131024', '中央区')) as wards(ward_code, ward_name_ja)"
        )
        for table, comment in TABLE_COMMENTS.items():
            con.execute(f"comment on table marts.{table} is '{comment}'")
        for (table, column), comment in COLUMN_COMMENTS.items():
            escaped = comment.replace("'", "''")
            con.execute(f"comment on column marts.{table}.{column} is '{escaped}'")
        con.execute("create schema if not exists staging")
        con.execute("create or replace table staging.not_published as select 1 as x")


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def releases(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "releases").iterdir())


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    """(warehouse with value 1, stable serving path)."""
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse, 1)
    return warehouse, tmp_path / "serving" / "dxkpi.duckdb"


def test_a_publication_is_one_release_behind_stable_links(paths: tuple[Path, Path]) -> None:
    warehouse, serving = paths
    publication = publish_marts(warehouse, serving, "run-1", [DQ_TABLE])
    root = serving.parent
    assert publication.tables == {
        "marts.dim_ward": 2,
        "marts.fct_kpi_values": 1,
        "dq.incidents": 0,
    }
    assert sorted(path.name for path in root.iterdir()) == [
        "current",
        "dashboard",
        "dxkpi.duckdb",
        "dxkpi_v1.duckdb",
        "parquet",
        "releases",
    ]
    assert releases(root) == [publication.release_id]
    assert os.readlink(root / "current") == f"releases/{publication.release_id}"
    for name in ("dxkpi.duckdb", "dxkpi_v1.duckdb", "parquet", "dashboard"):
        assert os.readlink(root / name) == f"current/{name}"
    assert query(serving, "select value from marts.fct_kpi_values") == [(1,)]
    assert query(serving, "select distinct run_id, release_id from meta.publication") == [
        ("run-1", publication.release_id)
    ]
    schemas = {row[0] for row in query(serving, "select schema_name from duckdb_schemas()")}
    assert {"marts", "dq", "meta"} <= schemas and "staging" not in schemas


def test_release_json_lists_the_tables_and_every_file_with_its_hash(
    paths: tuple[Path, Path],
) -> None:
    warehouse, serving = paths
    publication = publish_marts(warehouse, serving, "run-1", [DQ_TABLE])
    manifest = json.loads((publication.release_dir / "release.json").read_text(encoding="utf-8"))
    assert manifest["release_id"] == publication.release_id
    assert manifest["run_id"] == "run-1"
    assert manifest["published_at"] == publication.published_at.isoformat()
    assert manifest["tables"] == {**publication.tables, "meta.publication": 3}
    assert set(manifest["files"]) == {
        "dxkpi.duckdb",
        "dxkpi_v1.duckdb",
        "parquet/dq/incidents.parquet",
        "parquet/marts/dim_ward.parquet",
        "parquet/marts/fct_kpi_values.parquet",
        "parquet/meta/publication.parquet",
    }
    for name, entry in manifest["files"].items():
        content = (publication.release_dir / name).read_bytes()
        assert entry == {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def test_every_table_and_column_is_documented_in_the_duckdb_files(
    paths: tuple[Path, Path],
) -> None:
    warehouse, serving = paths
    publish_marts(warehouse, serving, "run-1", [DQ_TABLE])
    for published in (serving, serving.with_name("dxkpi_v1.duckdb")):
        tables = dict(
            query(
                published,
                "select schema_name || '.' || table_name, comment from duckdb_tables() "
                "where database_name = current_database()",
            )
        )
        columns = {
            (row[0], row[1]): row[2]
            for row in query(
                published,
                "select schema_name || '.' || table_name, column_name, comment "
                "from duckdb_columns() where database_name = current_database()",
            )
        }
        for table, comment in TABLE_COMMENTS.items():
            assert tables[f"marts.{table}"] == comment
        for (table, column), comment in COLUMN_COMMENTS.items():
            assert columns[(f"marts.{table}", column)] == comment
        assert tables["dq.incidents"] == DQ_TABLE.comment
        assert columns[("dq.incidents", "published_at")]
        assert tables["meta.publication"]
        assert all(c for (table, _), c in columns.items() if table == "meta.publication")


def test_parquet_files_hold_the_rows_and_the_comments(paths: tuple[Path, Path]) -> None:
    warehouse, serving = paths
    publication = publish_marts(warehouse, serving, "run-1", [DQ_TABLE])
    parquet = serving.parent / "parquet"
    rows = query(serving, f"select count(*) from '{parquet}/marts/dim_ward.parquet'")
    assert rows == [(2,)]
    assert query(serving, f"select * from '{parquet}/marts/fct_kpi_values.parquet'") == [
        ("131016", 1)
    ]
    metadata = {
        key.decode(): value.decode()
        for key, value in query(
            serving,
            f"select key, value from parquet_kv_metadata('{parquet}/marts/fct_kpi_values.parquet')",
        )
    }
    assert metadata["table_comment"] == TABLE_COMMENTS["fct_kpi_values"]
    assert metadata["column_comment:ward_code"] == COLUMN_COMMENTS[("fct_kpi_values", "ward_code")]
    assert metadata["column_comment:value"] == COLUMN_COMMENTS[("fct_kpi_values", "value")]
    assert metadata["run_id"] == "run-1"
    assert metadata["published_at"] == publication.published_at.isoformat()


def test_reader_with_the_old_release_open_neither_blocks_nor_sees_half_a_build(
    paths: tuple[Path, Path],
) -> None:
    # GIVEN a published build that a BI tool holds open
    warehouse, serving = paths
    publish_marts(warehouse, serving, "run-1")
    reader = duckdb.connect(str(serving), read_only=True)
    # WHEN the pipeline publishes a new build meanwhile
    make_warehouse(warehouse, 2)
    publish_marts(warehouse, serving, "run-2")
    # THEN the open reader still sees the whole old build, and a new reader the whole new one
    assert reader.execute("select value from marts.fct_kpi_values").fetchone() == (1,)
    assert reader.execute("select distinct run_id from meta.publication").fetchall() == [("run-1",)]
    reader.close()
    assert query(serving, "select value from marts.fct_kpi_values") == [(2,)]


def test_readers_opening_during_publications_always_find_one_whole_release(
    paths: tuple[Path, Path],
) -> None:
    # GIVEN a first release and a reader opening the stable path over and over
    warehouse, serving = paths
    publish_marts(warehouse, serving, "run-1")
    seen: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read_until_done() -> None:
        while not done.is_set():
            try:
                with duckdb.connect(str(serving), read_only=True) as con:
                    (value,) = con.execute("select value from marts.fct_kpi_values").fetchone()
                    (run,) = con.execute("select distinct run_id from meta.publication").fetchone()
                seen.append((value, run))
            except BaseException as error:  # noqa: BLE001 - every failure is the finding
                errors.append(error)

    reader = threading.Thread(target=read_until_done)
    reader.start()
    # WHEN four more releases are swapped in meanwhile
    try:
        for value in range(2, 6):
            make_warehouse(warehouse, value)
            publish_marts(warehouse, serving, f"run-{value}")
    finally:
        done.set()
        reader.join()
    # THEN every open found a whole release: the marts and the log of the same build
    assert not errors
    assert seen and all(run == f"run-{value}" for value, run in seen)


def test_failed_publication_keeps_the_previous_release(paths: tuple[Path, Path]) -> None:
    warehouse, serving = paths
    first = publish_marts(warehouse, serving, "run-1")
    make_warehouse(warehouse, 2)

    def broken_dashboard(release: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish_marts(warehouse, serving, "run-2", before_swap=broken_dashboard)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table marts.fct_kpi_values")
        con.execute("drop table marts.dim_ward")
    with pytest.raises(RuntimeError, match="no table"):
        publish_marts(warehouse, serving, "run-3")
    assert query(serving, "select value from marts.fct_kpi_values") == [(1,)]
    assert releases(serving.parent) == [first.release_id]  # no partial release left behind
    assert not [path for path in serving.parent.iterdir() if path.name.startswith(".")]


def test_before_swap_writes_into_the_release_once_its_files_exist(
    paths: tuple[Path, Path],
) -> None:
    warehouse, serving = paths
    seen_in_hook: list[int] = []

    def write_dashboard(release: Path) -> None:
        seen_in_hook.extend(
            query(release / "dxkpi.duckdb", "select value from marts.fct_kpi_values")[0]
        )
        assert (release / "dxkpi_v1.duckdb").exists()
        assert (release / "parquet" / "marts" / "dim_ward.parquet").exists()
        (release / "dashboard").mkdir()
        (release / "dashboard" / "index.html").write_text("<h1>1</h1>", encoding="utf-8")

    publication = publish_marts(warehouse, serving, "run-1", before_swap=write_dashboard)
    assert seen_in_hook == [1]
    page = serving.parent / "dashboard" / "index.html"
    assert page.read_text(encoding="utf-8") == "<h1>1</h1>"
    manifest = json.loads((publication.release_dir / "release.json").read_text(encoding="utf-8"))
    assert "dashboard/index.html" in manifest["files"]


def test_only_the_newest_three_releases_are_kept(paths: tuple[Path, Path]) -> None:
    # GIVEN a reader holding the first release open
    warehouse, serving = paths
    first = publish_marts(warehouse, serving, "run-1")
    reader = duckdb.connect(str(serving), read_only=True)
    # WHEN four more publications follow
    published = [first]
    for value in range(2, 6):
        make_warehouse(warehouse, value)
        published.append(publish_marts(warehouse, serving, f"run-{value}"))
    # THEN the newest three stay, the newest current, and the reader still reads its release
    assert releases(serving.parent) == sorted(p.release_id for p in published[-3:])
    assert published[-1].pruned == (published[-4].release_id,)
    assert os.readlink(serving.parent / "current") == f"releases/{published[-1].release_id}"
    assert reader.execute("select value from marts.fct_kpi_values").fetchone() == (1,)
    reader.close()


def test_pruning_never_deletes_the_current_release(paths: tuple[Path, Path]) -> None:
    warehouse, serving = paths
    first = publish_marts(warehouse, serving, "run-1")
    second = publish_marts(warehouse, serving, "run-2")
    root = serving.parent
    os.replace(root / "current", root / "current.moved")
    os.symlink(f"releases/{first.release_id}", root / "current")
    assert prune_releases(root, keep=1) == []
    assert releases(root) == sorted([first.release_id, second.release_id])


def test_a_plain_file_from_before_releases_becomes_the_link(paths: tuple[Path, Path]) -> None:
    # GIVEN the serving file as publications wrote it before releases, open in a BI tool
    warehouse, serving = paths
    serving.parent.mkdir(parents=True)
    with duckdb.connect(str(serving)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_kpi_values as select 0 as value")
    reader = duckdb.connect(str(serving), read_only=True)
    # WHEN the first publication of this layout runs
    publication = publish_marts(warehouse, serving, "run-1")
    # THEN the file is now the stable link to the release; its reader keeps the old file
    assert serving.is_symlink() and serving.resolve() == publication.release_dir / "dxkpi.duckdb"
    assert query(serving, "select value from marts.fct_kpi_values") == [(1,)]
    assert reader.execute("select value from marts.fct_kpi_values").fetchone() == (0,)
    reader.close()


def test_a_partial_release_an_interrupted_publication_left_is_removed(
    paths: tuple[Path, Path],
) -> None:
    warehouse, serving = paths
    leftover = serving.parent / "releases" / ".20200101T000000000000-deadbeef.partial"
    leftover.mkdir(parents=True)
    (leftover / "dxkpi.duckdb").write_bytes(b"half")
    publication = publish_marts(warehouse, serving, "run-1")
    assert releases(serving.parent) == [publication.release_id]


def test_where_published_names_every_target_without_the_password(
    paths: tuple[Path, Path],
) -> None:
    warehouse, serving = paths
    settings = Settings(
        environment="local",
        landing_dir=serving.parent / "landing",
        warehouse_path=warehouse,
        serving_path=serving,
        ledger_path=serving.parent / "ledger.sqlite",
        ckan_url="http://127.0.0.1:1",
        dbt_target="local",
        settle_seconds=0,
        schedules_running=False,
    )
    assert where_published(settings).startswith("nothing published yet")
    make_warehouse(warehouse, 1)
    publication = publish_marts(
        warehouse,
        serving,
        "run-1",
        before_swap=lambda release: (
            (release / "dashboard").mkdir()
            or (release / "dashboard" / "index.html").write_text("<html></html>")
        ),
    )
    text = where_published(
        replace(settings, postgres_url="postgresql://publisher:s3cret@db.example:5432/dxkpi")
    )
    assert publication.release_id in text
    assert str(serving) in text and str(serving.parent / "dxkpi_v1.duckdb") in text
    assert (serving.parent / "dashboard" / "index.html").absolute().as_uri() in text
    assert "postgresql://publisher:***@db.example:5432/dxkpi" in text and "s3cret" not in text
    assert "not configured" in where_published(settings)
