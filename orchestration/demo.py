"""`make demo`: sample data for every ward, the whole pipeline through Dagster, the scorecard.

Generates the sample exports and catalogue, starts the local CKAN server on loopback,
materialises every asset in-process on the local Dagster instance (so the run shows in
`make dev` afterwards), publishes the marts and prints the scorecard, then a data-quality
summary of the landing ledger.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from ingestion.common.pseudonym import DEMO_KEY
from orchestration.dq import summary_for
from orchestration.instance import prepare_dagster_home
from orchestration.run import report, run_everything
from orchestration.serving.locations import where_published
from orchestration.settings import REPO_ROOT, load_settings
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.generate import add_generator_arguments, config_from_arguments, generate


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT / "data")
    add_generator_arguments(parser)
    return parser.parse_args(argv)


def _fresh_sample(args: argparse.Namespace) -> None:
    """Start from an empty landing zone, ledger and working warehouse; keep the serving file."""
    for name in ("landing", "truth", "catalogue"):
        shutil.rmtree(args.data / name, ignore_errors=True)
    (args.data / "warehouse.duckdb").unlink(missing_ok=True)
    for ledger in args.data.glob("landing_ledger.sqlite*"):
        ledger.unlink()
    summary = generate(config_from_arguments(args, args.data))
    print(f"generated {summary['files']} exports for {summary['wards']} wards", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `make demo`."""
    args = _arguments(argv)
    started = time.monotonic()
    os.environ.setdefault("DXKPI_PSEUDONYM_KEY", DEMO_KEY)
    os.environ["DXKPI_LANDING"] = str(args.data / "landing")
    os.environ["DXKPI_WAREHOUSE"] = str(args.data / "warehouse.duckdb")
    os.environ["DXKPI_LEDGER"] = str(args.data / "landing_ledger.sqlite")
    os.environ.setdefault("DXKPI_SERVING", str(args.data / "serving" / "dxkpi.duckdb"))
    prepare_dagster_home()
    _fresh_sample(args)
    packages = read_catalogue(args.data / "catalogue" / "packages.json")
    with CkanServer(packages) as server:
        os.environ["DXKPI_CKAN_URL"] = server.base_url
        print(f"local CKAN catalogue at {server.base_url}", flush=True)
        succeeded = report(run_everything())
    from orchestration.scorecard import render_scorecard

    settings = load_settings()
    if settings.serving_path.exists():
        print(render_scorecard(settings.serving_path))
    print(f"\n{summary_for()}")
    print(f"\n{where_published(settings)}")
    print(f"demo took {time.monotonic() - started:.0f} s")
    if not succeeded:
        sys.exit("the pipeline run failed: see the Dagster logs above (or `make dev`)")


if __name__ == "__main__":
    main()
