"""The deployment reacts on its own: the real dagster-daemon and code server, a landing zone.

One scenario, in order, on a private instance: a first start builds and publishes everything
once; a burst of exports (23 wards x 12 monthly rosters, the training and proposal exports,
and one ward's registers and surveys) lands in two halves with the daemon killed in between,
and every file is loaded exactly once in a handful of runs; the same bytes dropped again
start nothing; a corrected re-export replaces the old rows; a file failing its suite holds
back publication, and a later good file of another ward loads and publishes. Nothing but
files is ever touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.common.ledger import Ledger
from ingestion.common.reference import load_wards
from orchestration.deployment import LocalDeployment, wait_for
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.generate import GeneratorConfig, generate

# Run on its own (`make test-daemon`, and by CI after `make test`): it takes minutes.
pytestmark = [pytest.mark.e2e, pytest.mark.daemon]
SETTLED = {"loaded", "replaced", "unchanged", "rejected", "still_rejected"}
LANDING_SENSOR = "landing_zone_sensor"


class Scenario:
    """The deployment, its folders and what the test reads back."""

    def __init__(self, root: Path, deployment: LocalDeployment) -> None:
        self.root = root
        self.source = root / "exports"
        self.landing = root / "landing"
        self.serving = root / "serving" / "dxkpi.duckdb"
        self.ledger = Ledger(root / "ledger.sqlite")
        self.deployment = deployment

    def drop(self, relative: str, data: bytes | None = None) -> tuple[str, str]:
        """Make an export appear in the landing zone at once (written aside, then renamed)."""
        target = self.landing / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        aside = self.root / "aside.tmp"
        data = (self.source / relative).read_bytes() if data is None else data
        aside.write_bytes(data)
        os.replace(aside, target)
        return relative, hashlib.sha256(data).hexdigest()

    def outcome(self, version: tuple[str, str], timeout: float = 300) -> str:
        """Wait for this file version's outcome and for the runs to finish; return it."""

        def done() -> bool:
            state = self.states().get(version)
            return state in SETTLED and self.deployment.runs_in_flight() == 0

        wait_for(done, timeout, f"an outcome for {version[0]}")
        return self.states()[version]

    def states(self) -> dict[tuple[str, str], str]:
        return {(e.path, e.sha256): e.state for e in self.ledger.entries()}

    def settled(self, paths: list[str]) -> bool:
        """Every version of these paths has an outcome, and no run is queued or running."""
        wanted = set(paths)
        outcomes = [s for (path, _), s in self.states().items() if path in wanted]
        done = len(outcomes) >= len(wanted) and all(s in SETTLED for s in outcomes)
        return done and self.deployment.runs_in_flight() == 0

    def publication(self) -> tuple[datetime, str] | None:
        if not self.serving.exists():
            return None
        with duckdb.connect(str(self.serving), read_only=True) as con:
            row = con.execute("select max(published_at), max(run_id) from meta.publication")
            return row.fetchone()

    def landing_runs(self) -> list[dg.RunRecord]:
        """Runs the landing-zone sensor asked for with files, newest first."""
        sensor = dg.RunsFilter(tags={"dagster/sensor_name": LANDING_SENSOR})
        with self.deployment.instance() as instance:
            records = instance.get_run_records(filters=sensor)
        return [r for r in records if r.dagster_run.tags.get("dxkpi/landing_files", "0") != "0"]

    def published_since(self, record: dg.RunRecord) -> bool:
        """Whether a publication happened after this run started (local time, like it)."""
        publication = self.publication()
        started = datetime.fromtimestamp(record.start_time or record.create_timestamp.timestamp())
        return publication is not None and publication[0] >= started


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("daemon")
    wards = [ward.code for ward in load_wards()]
    generate(GeneratorConfig(root / "generated", wards, (15, 25), [2025], seed=5, dirty_share=0.01))
    shutil.move(root / "generated" / "landing", root / "exports")
    (root / "landing").mkdir()
    catalogue = read_catalogue(root / "generated" / "catalogue" / "packages.json")
    with CkanServer(catalogue) as ckan:
        environment = {
            "DXKPI_LANDING": str(root / "landing"),
            "DXKPI_WAREHOUSE": str(root / "warehouse.duckdb"),
            "DXKPI_SERVING": str(root / "serving" / "dxkpi.duckdb"),
            "DXKPI_LEDGER": str(root / "ledger.sqlite"),
            "DXKPI_CKAN_URL": ckan.base_url,
            "DXKPI_SETTLE_SECONDS": "0",
            "DXKPI_ALERTS_FILE": str(root / "alerts.jsonl"),
            "DXKPI_DATA_DOCS_DIR": "",  # Data Docs are tested on their own
        }
        deployment = LocalDeployment(root / "dagster_home", environment, root / "logs")
        try:
            deployment.start()
            yield Scenario(root, deployment)
        finally:
            deployment.stop()


def test_first_start_publishes_the_marts_with_no_file(scenario: Scenario) -> None:
    # The automation sensor builds the graph in several runs, each a process of its own: about
    # 5 minutes on a quiet 2-core machine, 11 when the machine was also running the demo.
    wait_for(lambda: scenario.publication() is not None, 900, "the first publication")


def burst_files(source: Path) -> list[str]:
    """The burst: every ward's rosters, training and proposal exports, and every other
    dataset of one ward (the registers and surveys go through the same sensor and asset code;
    all 23 wards' would only make the test longer)."""
    every = sorted(p.relative_to(source).as_posix() for p in source.rglob("*.csv"))
    first_datasets = ("_staff_", "training/", "proposals/")
    return [
        f
        for f in every
        if any(part in f for part in first_datasets) or f.split("/")[1].startswith("131016_")
    ]


def test_a_burst_is_loaded_exactly_once_across_a_daemon_crash(scenario: Scenario) -> None:
    files = burst_files(scenario.source)
    rosters = [f for f in files if "_staff_" in f and f.startswith("hr/")]
    assert len(rosters) == 23 * 12
    assert {f.split("/")[0] for f in files} == {
        "hr",
        "training",
        "proposals",
        "dx_office",
        "surveys",
    }
    first, second = files[: len(files) // 2], files[len(files) // 2 :]
    for relative in first:
        scenario.drop(relative)
    wait_for(lambda: len(scenario.landing_runs()) >= 1, 120, "a run for the first half")
    scenario.deployment.kill_daemon()
    for relative in second:
        scenario.drop(relative)
    scenario.deployment.start_daemon()
    wait_for(lambda: scenario.settled(files), 600, "every file to be loaded")

    entries = scenario.ledger.entries()
    assert sorted(e.path for e in entries) == files  # one version each, nothing else
    assert {e.state for e in entries} == {"loaded"}
    assert {e.attempts for e in entries} == {1}  # each asked for once: nothing loaded twice
    runs = [record.dagster_run for record in scenario.landing_runs()]
    assert sum(int(run.tags["dxkpi/landing_files"]) for run in runs) == len(files)
    assert len(runs) <= 6, f"{len(runs)} runs for one burst"
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    newest = scenario.landing_runs()[0]
    wait_for(lambda: scenario.published_since(newest), 120, "the burst's publication")


def test_the_same_bytes_again_start_no_run(scenario: Scenario) -> None:
    before = len(scenario.landing_runs())
    relative = "hr/" + sorted(n for n in os.listdir(scenario.landing / "hr") if "_staff_" in n)[0]
    scenario.drop(relative)  # same content, new mtime
    with pytest.raises(TimeoutError):
        wait_for(lambda: len(scenario.landing_runs()) > before, 20, "a run that must not come")
    assert len(scenario.ledger.entries(relative)) == 1


def test_a_corrected_re_export_replaces_the_old_rows(scenario: Scenario) -> None:
    relative = "hr/" + sorted(n for n in os.listdir(scenario.landing / "hr") if "_staff_" in n)[1]
    rows = [row for row in (scenario.landing / relative).read_bytes().split(b"\r\n") if row]
    corrected = scenario.drop(relative, b"\r\n".join(rows[:-1]) + b"\r\n")  # a row withdrawn
    assert scenario.outcome(corrected) == "replaced"
    assert [e.state for e in scenario.ledger.entries(relative)] == ["loaded", "replaced"]


def test_a_refused_file_holds_publication_until_a_good_file_of_another_ward(
    scenario: Scenario,
) -> None:
    published = scenario.publication()
    bad = "hr/131016_staff_20260401.csv"
    march = (scenario.source / "hr" / "131016_staff_20260301.csv").read_bytes()
    refused = scenario.drop(bad, march.replace("係員".encode("cp932"), "課長代理".encode("cp932")))
    assert scenario.outcome(refused) == "rejected"
    assert scenario.publication() == published  # the marts BI reads did not move
    # The alert sensor, under the real daemon, announces the refused file once.
    alerts = scenario.root / "alerts.jsonl"

    def announced() -> list[dict]:
        lines = alerts.read_text().splitlines() if alerts.exists() else []
        return [a for a in map(json.loads, lines) if a["key"] == f"file:{bad}"]

    wait_for(lambda: bool(announced()), 120, "the refused file's alert")
    [alert] = announced()
    assert alert["status"] == "opened" and "break row rules" in alert["message"]

    good = "hr/131024_staff_20260401.csv"
    loaded = scenario.drop(
        good, (scenario.source / "hr" / "131024_staff_20260301.csv").read_bytes()
    )
    assert scenario.outcome(loaded) == "loaded"
    wait_for(lambda: scenario.publication() != published, 120, "a new publication")
    scenario.deployment.stop()
    with duckdb.connect(str(scenario.root / "warehouse.duckdb"), read_only=True) as con:
        loads = dict(
            con.execute(
                "select source_file, count(*) from raw.hr_staff "
                "where source_file in (?, ?) group by 1",
                [bad, good],
            ).fetchall()
        )
    assert bad not in loads and loads[good] > 0
