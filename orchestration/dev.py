"""`make dev`: the Dagster UI on localhost with the code location, schedules and sensors.

Locally (DXKPI_ENV unset or `local`) with no catalogue configured (DXKPI_CKAN_URL unset, in the
environment and in `.env`), the sample catalogue `make generate` wrote under
`<data>/catalogue/packages.json` is served on loopback for as long as `dagster dev` runs, and
its URL is handed to it, so the catalogue sensor has a catalogue to poll.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from dotenv import dotenv_values

from ingestion.common.pseudonym import DEMO_KEY
from orchestration.instance import ENV_FILE, prepare_dagster_home
from orchestration.settings import REPO_ROOT
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer

SAMPLE_CATALOGUE = Path("catalogue") / "packages.json"
# The catalogue URL the settings default to, so a sample catalogue keeps a familiar address.
SAMPLE_CATALOGUE_PORT = 8765


def dagster_environment() -> dict[str, str]:
    """The variables `dagster dev` will run with: `.env`, which it loads itself, wins."""
    from_file = dotenv_values(ENV_FILE) if ENV_FILE.exists() else {}
    return {**os.environ, **{k: v for k, v in from_file.items() if v is not None}}


def sample_catalogue_path(environ: Mapping[str, str]) -> Path:
    """`<data>/catalogue/packages.json`, where data is the landing zone's parent folder."""
    landing = Path(environ.get("DXKPI_LANDING", "data/landing"))
    return (landing if landing.is_absolute() else REPO_ROOT / landing).parent / SAMPLE_CATALOGUE


def wants_sample_catalogue(environ: Mapping[str, str]) -> bool:
    """Whether to serve the sample catalogue: local, and no catalogue URL configured."""
    return environ.get("DXKPI_ENV", "local") == "local" and not environ.get("DXKPI_CKAN_URL")


def _start_on_loopback(path: Path) -> CkanServer:
    """Serve the catalogue file on 127.0.0.1:8765, or on any free port if that one is taken."""
    packages = read_catalogue(path)
    try:
        return CkanServer(packages, port=SAMPLE_CATALOGUE_PORT).start()
    except OSError:
        return CkanServer(packages).start()


@contextmanager
def sample_catalogue(environ: Mapping[str, str]) -> Iterator[None]:
    """Serve the sample catalogue while the block runs and export its URL, or say why not."""
    if not wants_sample_catalogue(environ):
        yield
        return
    path = sample_catalogue_path(environ)
    if not path.exists():
        print(
            f"No open-data catalogue configured: DXKPI_CKAN_URL is not set and there is no "
            f"sample catalogue at {path}. Run `make generate` to write one, or set "
            "DXKPI_CKAN_URL. Dagster starts anyway with the default catalogue URL; if nothing "
            "answers there, the catalogue sensor reports it unreachable (WARN check "
            "catalogue_reachable) and everything else runs on.",
            flush=True,
        )
        yield
        return
    server = _start_on_loopback(path)
    try:
        os.environ["DXKPI_CKAN_URL"] = server.base_url
        print(f"sample CKAN catalogue ({path}) at {server.base_url}", flush=True)
        yield
    finally:
        server.stop()


def run_until_exit(command: list[str]) -> int:
    """Run a command until it exits and return its exit status.

    Ctrl-C reaches the whole foreground process group, so `dagster dev` gets it too: wait for
    its own clean shutdown rather than leave it orphaned. SIGTERM is passed on.
    """
    process = subprocess.Popen(command)

    def terminate(signum: int, frame: FrameType | None) -> None:
        process.terminate()

    signal.signal(signal.SIGTERM, terminate)
    while True:
        try:
            returncode = process.wait()
        except KeyboardInterrupt:
            continue
        return returncode if returncode >= 0 else 128 - returncode


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
    command = [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", port]
    with sample_catalogue(dagster_environment()):
        returncode = run_until_exit(command)
    sys.exit(returncode)


if __name__ == "__main__":
    main()
