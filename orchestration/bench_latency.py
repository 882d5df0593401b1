"""`make bench-latency`: seconds from a new roster file landing to the marts published with it.

Builds a sample warehouse (by default the demo's: 23 wards, 1,000-5,000 staff, FY2023-2025)
with one headless run, then starts the real deployment (code server and dagster-daemon, as in
`make dev`) on it, and drops new roster files one at a time, each a new export of another
ward. For each it measures the time from the file appearing (an atomic rename into the
landing zone) to a publication that loaded it: the landing ledger says `loaded` and the
serving file was replaced after that. Prints every sample, the median and the p95.

Everything lives under --work (default data/bench-latency), which is emptied first.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import time
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.common.ledger import Ledger, file_sha256
from ingestion.common.pseudonym import DEMO_KEY
from orchestration.deployment import LocalDeployment, wait_for
from orchestration.instance import write_instance_config
from orchestration.settings import REPO_ROOT
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.generate import add_generator_arguments, config_from_arguments, generate


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "data" / "bench-latency")
    parser.add_argument("--samples", type=int, default=7)
    add_generator_arguments(parser)
    return parser.parse_args(argv)


def _environment(work: Path, ckan_url: str) -> dict[str, str]:
    return {
        "DXKPI_LANDING": str(work / "landing"),
        "DXKPI_WAREHOUSE": str(work / "warehouse.duckdb"),
        "DXKPI_SERVING": str(work / "serving" / "dxkpi.duckdb"),
        "DXKPI_LEDGER": str(work / "landing_ledger.sqlite"),
        "DXKPI_CKAN_URL": ckan_url,
        "DXKPI_SETTLE_SECONDS": "0",
        "DXKPI_PSEUDONYM_KEY": os.environ.get("DXKPI_PSEUDONYM_KEY", DEMO_KEY),
    }


def _build_warehouse(work: Path, environment: dict[str, str]) -> float:
    """Load everything generated with one headless run on the bench's instance; seconds."""
    os.environ.update(environment)
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    write_instance_config(work / "dagster_home", postgres_url_env=False)
    from orchestration.run import report, run_everything

    started = time.monotonic()
    with LocalDeployment(work / "dagster_home", environment, work / "logs").instance() as inst:
        if not report(run_everything(inst)):
            raise SystemExit("the initial load failed: see the output above")
    return time.monotonic() - started


def _published_at(serving: Path) -> datetime | None:
    if not serving.exists():
        return None
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute("select max(published_at) from meta.publication").fetchone()[0]


def _new_rosters(landing: Path, samples: int) -> list[tuple[Path, Path]]:
    """(source, new path) pairs: each ward's latest roster again, as a new export date."""
    latest: dict[str, Path] = {}
    for path in sorted((landing / "hr").glob("*_staff_*.csv")):
        latest[path.name[:6]] = path
    wards = sorted(latest)
    pairs = []
    for index in range(samples):
        source = latest[wards[index % len(wards)]]
        stamp = source.stem.rsplit("_", 1)[1]
        day = 10 + index // len(wards)  # a day of the month no export of the sample uses
        pairs.append((source, source.with_name(f"{source.name[:13]}{stamp[:6]}{day:02d}.csv")))
    return pairs


def _wait_until_quiet(deployment: LocalDeployment, quiet: float = 20) -> None:
    """Wait until no run has been queued or running for `quiet` seconds: a new deployment
    first snapshots the catalogue and rebuilds what follows it, which no sample should pay."""
    since = time.monotonic()

    def quiet_long_enough() -> bool:
        nonlocal since
        if deployment.runs_in_flight():
            since = time.monotonic()
        return time.monotonic() - since >= quiet

    wait_for(quiet_long_enough, 900, "the deployment to be idle", interval=1)


def _measure(
    deployment: LocalDeployment, ledger: Ledger, serving: Path, source: Path, target: Path
) -> float:
    """Drop one roster and time it to the publication that carries it."""
    _wait_until_quiet(deployment)
    before = _published_at(serving)
    aside = target.parent.parent / "aside.tmp"
    shutil.copyfile(source, aside)
    digest = file_sha256(aside)
    version = (f"hr/{target.name}", digest)
    started = time.monotonic()
    os.replace(aside, target)

    def published() -> bool:
        states = {(e.path, e.sha256): e.state for e in ledger.entries(version[0])}
        return states.get(version) == "loaded" and _published_at(serving) != before

    wait_for(published, 900, f"{target.name} to be published", interval=0.2)
    return time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (p95 of 7 samples is the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> None:
    """Entry point of `make bench-latency`."""
    args = _arguments(argv)
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    summary = generate(config_from_arguments(args, work))
    print(f"generated {summary['files']} exports for {summary['wards']} wards", flush=True)
    with CkanServer(read_catalogue(work / "catalogue" / "packages.json")) as ckan:
        environment = _environment(work, ckan.base_url)
        print(f"initial load: {_build_warehouse(work, environment):.0f} s", flush=True)
        ledger, serving = Ledger(work / "landing_ledger.sqlite"), work / "serving" / "dxkpi.duckdb"
        with LocalDeployment(work / "dagster_home", environment, work / "logs") as deployment:
            seconds = []
            for source, target in _new_rosters(work / "landing", args.samples):
                seconds.append(_measure(deployment, ledger, serving, source, target))
                print(f"  {target.name}: {seconds[-1]:.1f} s", flush=True)
    print(
        f"landing -> published, {len(seconds)} new rosters: median "
        f"{statistics.median(seconds):.1f} s, p95 {percentile(seconds, 0.95):.1f} s "
        f"(min {min(seconds):.1f}, max {max(seconds):.1f})"
    )


if __name__ == "__main__":
    main()
