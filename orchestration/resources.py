"""Dagster resources: the warehouse, the landing zone, the catalogue, the serving targets."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from ingestion.common.landing import LandingSurvey, survey_landing_zone
from ingestion.common.ledger import Ledger
from ingestion.common.loader import ensure_ops_schema
from ingestion.common.reference import load_wards
from ingestion.common.schema import ensure_raw_schema
from ingestion.opendata.ckan import CkanClient
from ingestion.registry import DATASETS_BY_SYSTEM
from orchestration.serving.postgres import (
    DEFAULT_READER_ROLE,
    PostgresPublication,
    ServedBuild,
    postgres_build,
    publish_to_postgres,
)
from orchestration.settings import duckdb_config


class WarehouseResource(dg.ConfigurableResource):
    """The working DuckDB warehouse. Only one process may write it at a time: every asset that
    opens it runs in the `duckdb_warehouse` pool, whose limit is 1."""

    path: str

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse with its raw and ops schemas in place, and close it after."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, config=duckdb_config())
        try:
            ensure_raw_schema(con)
            ensure_ops_schema(con)
            yield con
        finally:
            con.close()

    def ensure_schemas(self) -> None:
        """Create the raw and ops schemas if missing (dbt's sources read raw)."""
        with self.connect():
            pass


class LandingZoneResource(dg.ConfigurableResource):
    """The folder the source systems drop their exports into, and its ledger.

    The ledger (a SQLite file, see `ingestion.common.ledger`) records every file version seen
    and its outcome; it defaults to `landing_ledger.sqlite` beside the landing folder. The
    suites' validations of its files go to Great Expectations Data Docs in `data_docs_dir`
    (none when empty).
    """

    path: str
    settle_seconds: float = 0.0
    ledger_path: str = ""
    data_docs_dir: str = ""

    def ledger(self) -> Ledger:
        """The landing ledger."""
        default = Path(self.path).parent / "landing_ledger.sqlite"
        return Ledger(Path(self.ledger_path) if self.ledger_path else default)

    def survey(self) -> LandingSurvey:
        """The landing zone now: complete exports, unrecognised files, files settling."""
        wards = {ward.code for ward in load_wards()}
        return survey_landing_zone(Path(self.path), DATASETS_BY_SYSTEM, wards, self.settle_seconds)


class CkanResource(dg.ConfigurableResource):
    """The CKAN open-data catalogue (production: the Tokyo catalogue)."""

    base_url: str
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 3

    def client(self) -> CkanClient:
        """A client with timeouts and retries."""
        return CkanClient(
            self.base_url,
            timeout=(self.connect_timeout, self.read_timeout),
            max_retries=self.max_retries,
        )


class ServingResource(dg.ConfigurableResource):
    """The stable path of the DuckDB file BI tools read (`<serving dir>/dxkpi.duckdb`).

    Its folder is the serving directory: a symlink to the current release, swapped on every
    publish (see `orchestration.serving.release`).
    """

    path: str

    def current_file(self) -> Path:
        """The current release's DuckDB file: fixed for a step, whatever is published after."""
        return Path(self.path).resolve(strict=True)


class PostgresResource(dg.ConfigurableResource):
    """The PostgreSQL database the marts are published to, and the role BI tools log in as.

    The URL is the publisher's (DXKPI_POSTGRES_URL); keep its password in PGPASSWORD or
    ~/.pgpass, which libpq reads, rather than in the URL.
    """

    url: str
    reader_role: str = DEFAULT_READER_ROLE
    reader_password: str | None = None

    def publish(self, source: Path, run_id: str, logger: logging.Logger) -> PostgresPublication:
        """Publish the DuckDB file `source` (see `publish_to_postgres`)."""
        return publish_to_postgres(
            source,
            self.url,
            self.reader_role,
            run_id,
            reader_password=self.reader_password,
            logger=logger,
        )

    def served_build(self) -> ServedBuild:
        """The build PostgreSQL serves now."""
        return postgres_build(self.url)
