"""The local Dagster instance (DAGSTER_HOME) used by `make dev` and `make demo`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.settings import REPO_ROOT

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")


def prepare_dagster_home() -> Path:
    """Make sure DAGSTER_HOME exists and has instance settings.

    The project's settings (every pool limited to one op) are copied only where none exist:
    an operator's own dagster.yaml (e.g. PostgreSQL storage) is left as it is, and must then
    set the pool limit itself.
    """
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        shutil.copyfile(INSTANCE_TEMPLATE, settings)
    return home
