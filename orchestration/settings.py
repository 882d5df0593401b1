"""The one place that decides the environment (local or prod) and every path from it.

Everything is read from the environment with local defaults, so `make demo`, `make dev` and
the tests need no configuration, and a deployment sets only variables (see .env.example).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
WAREHOUSE_POOL = "duckdb_warehouse"
# Publications to PostgreSQL, one at a time (they read the serving file, not the warehouse).
POSTGRES_POOL = "postgres_serving"
# The dbt of this environment, whether or not its bin folder is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


# DuckDB's memory limit for every connection that builds (loads, dbt, publication): set on
# purpose rather than DuckDB's default of 80% of the machine's memory, so that the pipeline's
# footprint is known and larger work spills to disk (`<warehouse>.tmp`) instead of growing.
DUCKDB_MEMORY_LIMIT_VARIABLE = "DXKPI_DUCKDB_MEMORY_LIMIT"
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"


def duckdb_config() -> dict[str, str]:
    """The DuckDB settings of a connection that builds (DXKPI_DUCKDB_MEMORY_LIMIT)."""
    limit = os.environ.get(DUCKDB_MEMORY_LIMIT_VARIABLE, "").strip()
    return {"memory_limit": limit or DEFAULT_DUCKDB_MEMORY_LIMIT}


@dataclass(frozen=True)
class Settings:
    """Where things are and how the pipeline behaves in this environment."""

    environment: str
    landing_dir: Path
    warehouse_path: Path
    serving_path: Path
    ledger_path: Path
    ckan_url: str
    dbt_target: str
    settle_seconds: float
    schedules_running: bool
    # Great Expectations Data Docs (expectations.docs); None: not written. The default keeps
    # Settings built by hand (tests) from writing pages into the repository.
    data_docs_dir: Path | None = None
    # The PostgreSQL database the marts are also published to (publisher's URL); None: none.
    postgres_url: str | None = None
    # The login role BI tools use on it: read-only, created by the publication if missing.
    postgres_reader: str = "dxkpi_reader"


def _path(variable: str, default: str) -> Path:
    path = Path(os.environ.get(variable, default))
    return path if path.is_absolute() else REPO_ROOT / path


def _optional_path(variable: str, default: str) -> Path | None:
    """Like `_path`, but a variable set to the empty string means "none"."""
    return _path(variable, default) if os.environ.get(variable, default).strip() else None


def load_settings() -> Settings:
    """Read the settings of the current environment (DXKPI_ENV: local or prod)."""
    environment = os.environ.get("DXKPI_ENV", "local")
    if environment not in ("local", "prod"):
        raise ValueError(f"DXKPI_ENV must be local or prod, not {environment!r}")
    return Settings(
        environment=environment,
        landing_dir=_path("DXKPI_LANDING", "data/landing"),
        warehouse_path=_path("DXKPI_WAREHOUSE", "data/warehouse.duckdb"),
        serving_path=_path("DXKPI_SERVING", "data/serving/dxkpi.duckdb"),
        ledger_path=_path("DXKPI_LEDGER", "data/landing_ledger.sqlite"),
        ckan_url=os.environ.get("DXKPI_CKAN_URL", "http://127.0.0.1:8765"),
        dbt_target=os.environ.get("DXKPI_DBT_TARGET", "local"),
        # In production a copy over SMB may still be running when a file appears.
        settle_seconds=float(
            os.environ.get("DXKPI_SETTLE_SECONDS", "0" if environment == "local" else "60")
        ),
        schedules_running=environment == "prod" or os.environ.get("DXKPI_SCHEDULES") == "on",
        data_docs_dir=_optional_path("DXKPI_DATA_DOCS_DIR", "data/data_docs"),
        postgres_url=os.environ.get("DXKPI_POSTGRES_URL", "").strip() or None,
        postgres_reader=os.environ.get("DXKPI_POSTGRES_READER", "").strip() or "dxkpi_reader",
    )
