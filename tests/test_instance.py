"""The Dagster instance settings: SQLite by default, PostgreSQL when DXKPI_DAGSTER_PG_URL is set.

The PostgreSQL tests run against a real server (DXKPI_TEST_PG_URL, by default the local one)
in a throwaway database; they are skipped when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import psycopg2
import pytest
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.runs import SqliteRunStorage
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from orchestration import instance as dxkpi_instance
from orchestration.assets.opendata import opendata_package
from orchestration.instance import (
    PG_URL_SCHEME,
    PG_URL_VARIABLE,
    instance_yaml,
    prepare_dagster_home,
    write_instance_config,
)
from orchestration.resources import CkanResource, WarehouseResource
from orchestration.settings import WAREHOUSE_POOL
from sampledata.catalogue import generate_catalogue
from sampledata.ckan_server import CkanServer

# A libpq URL of the test server; the instance gets the same one with the psycopg2 driver named.
TEST_PG_URL = os.environ.get("DXKPI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The first line of the file `make dev` copied into DAGSTER_HOME before this module wrote it.
LEGACY_FIRST_LINE = "# Instance settings copied into DAGSTER_HOME by `make dev` and `make demo`."


@pytest.fixture(autouse=True)
def no_postgres_from_outside(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the shell nor the repository's .env chooses the storage of these tests."""
    monkeypatch.delenv(PG_URL_VARIABLE, raising=False)
    monkeypatch.setattr(dxkpi_instance, "ENV_FILE", tmp_path / "no.env")


def assert_project_execution_settings(instance: dg.DagsterInstance) -> None:
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    assert isinstance(instance.run_launcher, DefaultRunLauncher)
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    assert not instance.telemetry_enabled


def test_sqlite_is_the_default_with_queue_and_pools_of_one(tmp_path: Path) -> None:
    write_instance_config(tmp_path)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.run_storage, SqliteRunStorage)
        assert_project_execution_settings(instance)


def test_home_gets_the_settings_and_follows_the_storage_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a DAGSTER_HOME that does not exist yet
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    # WHEN make dev / make demo prepares it, THEN it holds the SQLite settings
    assert prepare_dagster_home() == home
    settings = home / "dagster.yaml"
    assert settings.read_text(encoding="utf-8") == instance_yaml(postgres=False)
    # WHEN a PostgreSQL URL appears, THEN dxkpi's file switches, without the URL in it
    monkeypatch.setenv(PG_URL_VARIABLE, "postgresql+psycopg2://secret@db.example:5432/dagster")
    prepare_dagster_home()
    assert settings.read_text(encoding="utf-8") == instance_yaml(postgres=True)
    assert "secret" not in settings.read_text(encoding="utf-8")
    # and back to SQLite once it is gone
    monkeypatch.delenv(PG_URL_VARIABLE)
    prepare_dagster_home()
    assert settings.read_text(encoding="utf-8") == instance_yaml(postgres=False)


def test_the_url_in_the_repository_env_file_chooses_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the URL only in .env, which `dagster dev` loads itself
    env_file = tmp_path / ".env"
    env_file.write_text(f"{PG_URL_VARIABLE}=postgresql+psycopg2://u@h:5432/d\n", encoding="utf-8")
    monkeypatch.setattr(dxkpi_instance, "ENV_FILE", env_file)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    # WHEN the home is prepared, THEN the instance is on PostgreSQL and this process sees the URL
    home = prepare_dagster_home()
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == instance_yaml(postgres=True)
    assert os.environ[PG_URL_VARIABLE] == "postgresql+psycopg2://u@h:5432/d"


@pytest.mark.parametrize(
    "first_line",
    [
        pytest.param(LEGACY_FIRST_LINE, id="copied-from-orchestration-dagster-yaml"),
        pytest.param("# Written by dxkpi (orchestration/instance.py)", id="written-by-dxkpi"),
    ],
)
def test_an_earlier_dxkpi_file_is_rewritten(
    first_line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text(f"{first_line}\ntelemetry:\n  enabled: false\n")
    prepare_dagster_home()
    assert (tmp_path / "dagster.yaml").read_text() == instance_yaml(postgres=False)


def test_an_operators_own_file_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = "storage:\n  sqlite:\n    base_dir: /srv/dagster\n"
    (tmp_path / "dagster.yaml").write_text(own)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv(PG_URL_VARIABLE, "postgresql+psycopg2://u@h:5432/d")
    prepare_dagster_home()
    assert (tmp_path / "dagster.yaml").read_text() == own


def test_a_url_that_does_not_name_psycopg2_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLAlchemy 2.1 would open a bare postgresql:// URL with psycopg 3, which is not installed
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv(PG_URL_VARIABLE, "postgresql://u@h:5432/d")
    with pytest.raises(ValueError, match=r"must start with postgresql\+psycopg2://"):
        prepare_dagster_home()


# PostgreSQL, for real


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """The URL of a fresh database on the test server, dropped afterwards."""
    server = urlsplit(TEST_PG_URL)
    try:
        admin = psycopg2.connect(TEST_PG_URL, connect_timeout=5)
    except psycopg2.OperationalError as error:
        where = f"{server.hostname}:{server.port or 5432}"
        pytest.skip(f"PostgreSQL not reachable at {where}: {' '.join(str(error).split())}")
    admin.autocommit = True
    name = f"dxkpi_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f"create database {name}")
    try:
        yield server._replace(path=f"/{name}").geturl()
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {name} with (force)")
        admin.close()


@pytest.fixture
def postgres_instance(
    postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    """An instance loaded from the project's PostgreSQL settings, as the daemon would."""
    dagster_url = urlsplit(postgres_database)._replace(scheme=PG_URL_SCHEME).geturl()
    monkeypatch.setenv(PG_URL_VARIABLE, dagster_url)
    settings = write_instance_config(tmp_path / "dagster_home")
    assert dagster_url not in settings.read_text(encoding="utf-8")
    with dg.DagsterInstance.from_config(str(settings.parent)) as instance:
        yield instance


def query(url: str, sql: str, *parameters: object) -> list[tuple]:
    with closing(psycopg2.connect(url)) as connection, connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall()


def test_postgres_instance_stores_everything_in_postgres(
    postgres_instance: dg.DagsterInstance,
) -> None:
    assert isinstance(postgres_instance.run_storage, PostgresRunStorage)
    assert isinstance(postgres_instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(postgres_instance.schedule_storage, PostgresScheduleStorage)
    assert_project_execution_settings(postgres_instance)


@dg.asset(pool=WAREHOUSE_POOL)
def pooled_asset() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


def test_a_materialisation_is_read_back_from_postgres(
    postgres_instance: dg.DagsterInstance, postgres_database: str
) -> None:
    # WHEN an asset of the warehouse pool is materialised on the instance
    result = dg.materialize([pooled_asset], instance=postgres_instance)
    # THEN the run, its materialisation and the pool's single slot are in PostgreSQL
    assert result.success
    run = postgres_instance.get_run_by_id(result.run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    event = postgres_instance.get_latest_materialization_event(dg.AssetKey("pooled_asset"))
    assert event is not None and event.run_id == result.run_id
    assert event.asset_materialization.metadata["rows"].value == 3
    pool = postgres_instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    assert pool.slot_count == 1
    runs = query(postgres_database, "select status from runs where run_id = %s", result.run_id)
    assert runs == [("SUCCESS",)]
    materialisations = query(
        postgres_database,
        "select asset_key from event_logs"
        " where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION'",
        result.run_id,
    )
    assert materialisations == [('["pooled_asset"]',)]


def test_a_dxkpi_asset_materialises_on_the_postgres_instance(
    postgres_instance: dg.DagsterInstance, postgres_database: str, tmp_path: Path
) -> None:
    # GIVEN a local catalogue of two wards and a throwaway warehouse
    packages = generate_catalogue(["131016", "131032"], seed=3, packages_per_ward=(2, 4))
    with CkanServer(packages) as server:
        resources = {
            "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
            "ckan": CkanResource(base_url=server.base_url),
        }
        # WHEN raw/opendata_package is materialised on the PostgreSQL instance
        result = dg.materialize([opendata_package], instance=postgres_instance, resources=resources)
    # THEN the run, the materialisation and the suite's check are read back from PostgreSQL
    assert result.success
    key = opendata_package.key
    event = postgres_instance.get_latest_materialization_event(key)
    assert event is not None and event.run_id == result.run_id
    assert event.asset_materialization.metadata["packages"].value > 0
    suite = dg.AssetCheckKey(key, "expectation_suite")
    records = postgres_instance.event_log_storage.get_latest_asset_check_execution_by_key([suite])
    assert records[suite].run_id == result.run_id
    assert records[suite].status == AssetCheckExecutionRecordStatus.SUCCEEDED
    runs = query(postgres_database, "select status from runs where run_id = %s", result.run_id)
    assert runs == [("SUCCESS",)]
