"""The local Dagster instance (DAGSTER_HOME) used by `make dev` and `make demo`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.settings import REPO_ROOT

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")


def prepare_dagster_home() -> Path:
    """Make sure DAGSTER_HOME exists and holds the project's instance settings (pools)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_TEMPLATE, home / "dagster.yaml")
    return home
