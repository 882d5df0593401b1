"""The Dagster instance (DAGSTER_HOME/dagster.yaml) used by `make dev`, `make demo` and tests.

The instance stores its runs, event log and schedules in SQLite files under DAGSTER_HOME, or
in PostgreSQL (dagster-postgres) when `DXKPI_DAGSTER_PG_URL` holds a URL. Either way runs go
through the QueuedRunCoordinator and the DefaultRunLauncher, every pool is limited to one op
(one writer on the DuckDB warehouse: the `duckdb_warehouse` pool) and telemetry is off.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from dotenv import dotenv_values

from orchestration.settings import REPO_ROOT

PG_URL_VARIABLE = "DXKPI_DAGSTER_PG_URL"
# dagster-postgres talks to PostgreSQL through psycopg2 (it runs `with connection:` on each new
# DBAPI connection, which psycopg 3 would close), while SQLAlchemy 2.1 maps a bare
# `postgresql://` to psycopg 3: the URL must name the driver.
PG_URL_SCHEME = "postgresql+psycopg2"
# `dagster dev` (make dev runs it from the repository) adds this file's variables to its own.
ENV_FILE = REPO_ROOT / ".env"
OWNED_MARKER = "# Written by dxkpi"
# First line of the file earlier versions copied from orchestration/dagster.yaml.
LEGACY_FIRST_LINE = "# Instance settings copied into DAGSTER_HOME by `make dev` and `make demo`."

_HEADER = f"""\
{OWNED_MARKER} (orchestration/instance.py): `make dev` and `make demo` rewrite this file
# whenever it differs from the project's settings (e.g. once {PG_URL_VARIABLE} is set or
# unset). Delete these three lines to keep your own edits.
"""
_SQLITE_STORAGE = """\
# Storage: no `storage` section, so runs, event log and schedules are SQLite files under
# DAGSTER_HOME/storage (Dagster's default).
"""
_POSTGRES_STORAGE = f"""\
# Storage: runs, event log and schedules in PostgreSQL. Dagster reads the URL from
# {PG_URL_VARIABLE} whenever it loads the instance; it is never written here.
storage:
  postgres:
    postgres_url:
      env: {PG_URL_VARIABLE}
"""
_EXECUTION = """\
# Runs from the UI, schedules and sensors wait in the queue until the daemon launches them
# as local processes; the queue is looked at every second (Dagster's default is 5), which
# a new export waiting for its marts notices.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
run_launcher:
  module: dagster.core.launcher
  class: DefaultRunLauncher
# The working DuckDB file takes one writer: every asset that opens it is in the
# `duckdb_warehouse` pool, and no pool runs more than one op at a time.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""

logger = logging.getLogger(__name__)


def instance_yaml(postgres: bool) -> str:
    """The text of the project's dagster.yaml, with SQLite or PostgreSQL storage."""
    return "\n".join([_HEADER, _POSTGRES_STORAGE if postgres else _SQLITE_STORAGE, _EXECUTION])


def write_instance_config(directory: Path, postgres_url_env: bool | None = None) -> Path:
    """Write the project's instance settings to `directory/dagster.yaml`, replacing any.

    Args:
        directory: The instance's home (created if missing), e.g. a test's temporary folder.
        postgres_url_env: True for PostgreSQL storage at the URL Dagster will read from
            `DXKPI_DAGSTER_PG_URL`, False for SQLite; None decides from whether that variable
            is set now.

    Returns:
        The path of the written dagster.yaml.

    Raises:
        ValueError: When PostgreSQL is chosen and the variable holds a URL without psycopg2.
    """
    url = os.environ.get(PG_URL_VARIABLE)
    if postgres_url_env is None:
        postgres_url_env = bool(url)
    if postgres_url_env and url:
        check_postgres_url(url)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "dagster.yaml"
    path.write_text(instance_yaml(postgres_url_env), encoding="utf-8")
    return path


def written_by_dxkpi(path: Path) -> bool:
    """Whether an instance file was written by dxkpi (this module or an earlier copy)."""
    first_line = path.read_text(encoding="utf-8", errors="replace").partition("\n")[0]
    return first_line.startswith(OWNED_MARKER) or first_line == LEGACY_FIRST_LINE


def check_postgres_url(url: str) -> str:
    """Return the instance's PostgreSQL URL, or raise ValueError if it does not name psycopg2."""
    scheme = url.partition("://")[0]
    if scheme != PG_URL_SCHEME:
        raise ValueError(
            f"{PG_URL_VARIABLE} must start with {PG_URL_SCHEME}:// (dagster-postgres needs "
            f"psycopg2), not {scheme}://"
        )
    return url


def _postgres_url_from_environment() -> str | None:
    """The instance's PostgreSQL URL from the environment, or else from the repository's .env.

    `dagster dev` loads .env itself, so make dev must choose the storage from it too; the URL
    is then exported so that `make demo` loads the same instance in this process.
    """
    url = os.environ.get(PG_URL_VARIABLE)
    if not url and ENV_FILE.exists():
        url = dotenv_values(ENV_FILE).get(PG_URL_VARIABLE)
        if url:
            os.environ[PG_URL_VARIABLE] = url
    return check_postgres_url(url) if url else None


def prepare_dagster_home() -> Path:
    """Make sure DAGSTER_HOME exists and has the project's instance settings.

    The settings are written where none exist, and rewritten over a file dxkpi wrote earlier
    when they differ (SQLite vs PostgreSQL storage follows `DXKPI_DAGSTER_PG_URL`). An
    operator's own dagster.yaml is left as it is, and must then set the pool limit itself.
    """
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    postgres = _postgres_url_from_environment() is not None
    settings = home / "dagster.yaml"
    if not settings.exists():
        write_instance_config(home, postgres)
    elif not written_by_dxkpi(settings):
        if postgres:
            logger.warning(f"{settings} is not dxkpi's: {PG_URL_VARIABLE} is not applied to it")
    elif settings.read_text(encoding="utf-8") != instance_yaml(postgres):
        write_instance_config(home, postgres)
    return home
