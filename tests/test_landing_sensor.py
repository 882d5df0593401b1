"""The landing-zone sensor's ticks, evaluated directly on an ephemeral instance.

The daemon test runs the sensor for real; these pin down each rule of a tick: what is asked
for, how a lost request or a dead run is recovered, when it gives up, what it reports.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from roster_files import write_roster

from ingestion.common.ledger import FileVersion, Ledger
from orchestration.definitions import defs
from orchestration.resources import LandingZoneResource
from orchestration.sensors.landing import MAX_ATTEMPTS, landing_zone_sensor


class Ticks:
    """Runs ticks of the sensor against one landing zone and instance, carrying the cursor."""

    def __init__(self, root: Path, instance: dg.DagsterInstance) -> None:
        self.landing = root / "landing"
        self.landing.mkdir()
        self.resource = LandingZoneResource(
            path=str(self.landing), ledger_path=str(root / "ledger.sqlite")
        )
        self.ledger = Ledger(root / "ledger.sqlite")
        self.instance = instance
        self.cursor: str | None = None

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"landing": self.resource},
            definitions=defs,
        )
        result = landing_zone_sensor(context)
        self.cursor = result.cursor
        return result

    def run_ended(self, run_key: str, status: dg.DagsterRunStatus) -> str:
        """Record a run of this run key that ended with `status` (as a crashed run would)."""
        run_id = str(uuid.uuid4())
        self.instance.add_run(
            dg.DagsterRun(
                job_name="__ASSET_JOB",
                run_id=run_id,
                status=status,
                tags={"dagster/run_key": run_key},
            )
        )
        return run_id


def materialise_raw_assets(instance: dg.DagsterInstance) -> None:
    """As after the first run of a deployment: every raw asset materialised once."""
    for key in defs.resolve_asset_graph().materializable_asset_keys:
        if key.path[0] == "raw":
            instance.report_runless_asset_event(dg.AssetMaterialization(key))


@pytest.fixture
def ticks(tmp_path: Path) -> Iterator[Ticks]:
    with dg.DagsterInstance.ephemeral() as instance:
        materialise_raw_assets(instance)
        yield Ticks(tmp_path, instance)


def files_of(request: dg.RunRequest) -> dict[str, str]:
    return request.run_config["ops"]["raw__hr_staff"]["config"]["files"]


def test_new_files_are_asked_for_in_one_run_with_what_follows(ticks: Ticks) -> None:
    names = [write_roster(ticks.landing, day) for day in ("20250401", "20250501")]
    names.append(write_roster(ticks.landing, "20250401", ward="131024"))
    [request] = ticks.tick().run_requests
    assert sorted(files_of(request)) == sorted(names)
    selected = {key.to_user_string() for key in request.asset_selection}
    assert {"raw/hr_staff", "marts/fct_kpi_values", "serving/kpi_marts"} <= selected
    assert "raw/training_course" not in selected  # only what follows from the files
    entries = ticks.ledger.entries()
    assert {e.state for e in entries} == {"requested"}
    assert {e.run_key for e in entries} == {request.run_key}


def test_a_request_lost_before_its_run_started_is_asked_again_under_its_key(
    ticks: Ticks,
) -> None:
    write_roster(ticks.landing, "20250401")
    [first] = ticks.tick().run_requests
    [again] = ticks.tick().run_requests  # the daemon died: no run carries the key
    assert again.run_key == first.run_key and files_of(again) == files_of(first)
    assert [e.attempts for e in ticks.ledger.entries()] == [1]


def test_a_run_in_flight_is_left_alone_and_a_loaded_file_is_not_asked_again(
    ticks: Ticks,
) -> None:
    name = write_roster(ticks.landing, "20250401")
    [request] = ticks.tick().run_requests
    run_id = ticks.run_ended(request.run_key, dg.DagsterRunStatus.STARTED)
    assert ticks.tick().run_requests == []
    [entry] = ticks.ledger.entries()
    ticks.ledger.record(FileVersion(name, entry.sha256), "loaded", run_id=run_id)
    os.utime(ticks.landing / name, (0, 0))  # same bytes, another mtime
    assert ticks.tick().run_requests == []


def test_files_of_a_dead_run_are_retried_then_given_up(ticks: Ticks) -> None:
    write_roster(ticks.landing, "20250401")
    [request] = ticks.tick().run_requests
    for attempt in range(2, MAX_ATTEMPTS + 1):
        ticks.run_ended(request.run_key, dg.DagsterRunStatus.FAILURE)
        [request] = ticks.tick().run_requests
        assert [e.attempts for e in ticks.ledger.entries()] == [attempt]
    ticks.run_ended(request.run_key, dg.DagsterRunStatus.FAILURE)
    assert ticks.tick().run_requests == []
    [entry] = ticks.ledger.entries()
    assert entry.state == "run_failed" and "without an outcome" in entry.reason
    assert ticks.tick().run_requests == []  # no loop


def test_unrecognised_files_are_recorded_and_reported_once_per_change(ticks: Ticks) -> None:
    stray = ticks.landing / "hr" / "131016_staff_20250401.xlsx"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"PK")
    [evaluation] = ticks.tick().asset_events
    assert not evaluation.passed and evaluation.check_name == "unrecognised_files"
    assert ".xlsx" in evaluation.metadata["not_recognised"].value
    [entry] = ticks.ledger.entries()
    assert entry.state == "not_recognised" and "extension" in entry.reason
    assert ticks.tick().asset_events == []  # unchanged: nothing new to say
    stray.unlink()
    [cleared] = ticks.tick().asset_events
    assert cleared.passed


def test_a_new_deployment_asks_once_for_everything(tmp_path: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        ticks = Ticks(tmp_path, instance)
        [request] = ticks.tick().run_requests
        assert request.run_key.startswith("landing-first-")
        graph = defs.resolve_asset_graph()
        assert set(request.asset_selection) == set(graph.materializable_asset_keys)
        materialise_raw_assets(instance)
        assert ticks.tick().run_requests == []


def test_a_reprocess_request_asks_for_one_run_that_reads_the_file_again(ticks: Ticks) -> None:
    name = write_roster(ticks.landing, "20250401")
    [request] = ticks.tick().run_requests
    run_id = ticks.run_ended(request.run_key, dg.DagsterRunStatus.SUCCESS)
    [entry] = ticks.ledger.entries()
    ticks.ledger.record(FileVersion(name, entry.sha256), "rejected", "a rule", run_id=run_id)
    assert ticks.tick().run_requests == []

    request_id = ticks.ledger.request_reprocess(name)
    ticks.ledger.request_reprocess("hr/131016_staff_20990401.csv")  # not in the landing zone
    [again] = ticks.tick().run_requests

    assert again.run_key == f"reprocess-{request_id + 1}"
    config = again.run_config["ops"]["raw__hr_staff"]["config"]
    assert config == {"files": {name: entry.sha256}, "reprocess": [name]}
    assert ticks.ledger.pending_reprocess() == []
    assert [e.state for e in ticks.ledger.entries()] == ["requested"]
    # Lost before its run started: asked again, still as a reprocess.
    [lost] = ticks.tick().run_requests
    assert lost.run_key == again.run_key
    assert lost.run_config["ops"]["raw__hr_staff"]["config"]["reprocess"] == [name]


def test_a_file_still_being_written_is_recorded_as_settling_until_it_settles(
    ticks: Ticks,
) -> None:
    ticks.resource = LandingZoneResource(
        path=str(ticks.landing), ledger_path=str(ticks.ledger.path), settle_seconds=60
    )
    name = write_roster(ticks.landing, "20250401")
    assert ticks.tick().run_requests == []
    [entry] = ticks.ledger.entries()
    assert (entry.path, entry.state, entry.sha256) == (name, "settling", "")

    os.utime(ticks.landing / name, (1, 1))  # unchanged for long enough
    [request] = ticks.tick().run_requests
    assert list(files_of(request)) == [name]
    assert [e.state for e in ticks.ledger.entries()] == ["requested"]


def test_a_file_not_recognised_before_is_asked_for_once_it_is_an_export(ticks: Ticks) -> None:
    # Recorded while its ward was missing from the municipality list; the ward has been added since.
    name = write_roster(ticks.landing, "20250401")
    version = ticks.ledger.hash_files(ticks.landing, [ticks.landing / name])[ticks.landing / name]
    ticks.ledger.record(version, "not_recognised", "ward code 131016 is not a configured ward")

    [request] = ticks.tick().run_requests

    assert list(files_of(request)) == [name]
    assert [e.state for e in ticks.ledger.entries()] == ["requested"]
