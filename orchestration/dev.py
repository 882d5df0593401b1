"""`make dev`: the Dagster UI on localhost with the code location, schedules and sensors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ingestion.common.pseudonym import DEMO_KEY
from orchestration.instance import prepare_dagster_home
from orchestration.settings import REPO_ROOT


def main() -> None:
    """Start `dagster dev` on 127.0.0.1:3000 (DAGSTER_PORT to change it)."""
    prepare_dagster_home()
    os.environ.setdefault("DXKPI_SCHEDULES", "on")
    local = os.environ.get("DXKPI_ENV", "local") == "local"
    if local and not os.environ.get("DXKPI_PSEUDONYM_KEY") and not (REPO_ROOT / ".env").exists():
        print("DXKPI_PSEUDONYM_KEY is not set: using the demo key (copy .env.example to .env)")
        os.environ["DXKPI_PSEUDONYM_KEY"] = DEMO_KEY
    bin_dir = Path(sys.executable).parent
    # dagster-dbt re-parses the project under `dagster dev` with the `dbt` found on PATH.
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    dagster = bin_dir / "dagster"
    port = os.environ.get("DAGSTER_PORT", "3000")
    os.chdir(REPO_ROOT)
    os.execv(
        str(dagster), [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", port]
    )


if __name__ == "__main__":
    main()
