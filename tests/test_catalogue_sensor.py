"""The catalogue sensor and the snapshot asset against the real sample CKAN server on loopback.

No HTTP is mocked: the catalogue is `sampledata.ckan_server.CkanServer`, stopped to play an
outage and started again on the same port to play the recovery.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from ingestion.opendata.ckan import CkanClient, CkanError
from orchestration.assets.landing import SUITE_CHECK
from orchestration.assets.opendata import ASSET_KEY, REACHABLE_CHECK, opendata_package
from orchestration.dev import sample_catalogue
from orchestration.resources import CkanResource, WarehouseResource
from orchestration.sensors.catalogue import (
    CatalogueCursor,
    catalogue_sensor,
    jst_today,
    last_snapshot_date,
    needs_snapshot,
)
from sampledata.catalogue import (
    TOKYO_WARD_CODES,
    generate_catalogue,
    ward_code_of,
    write_catalogue,
)
from sampledata.ckan_server import CkanServer

WARDS = TOKYO_WARD_CODES[:3]


@pytest.fixture
def packages() -> list[dict[str, Any]]:
    return generate_catalogue(WARDS, seed=5, packages_per_ward=(5, 12))


@pytest.fixture
def server(packages: list[dict[str, Any]]) -> Iterator[CkanServer]:
    with CkanServer(packages) as running:
        yield running


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tick(base_url: str, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    """One evaluation of the sensor, as the daemon would run it."""
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"ckan": CkanResource(base_url=base_url, max_retries=1)},
        instance=instance,
    )
    return catalogue_sensor(context)


def reachability(result: dg.SensorResult) -> list[bool]:
    """The `catalogue_reachable` evaluations a tick emitted: passed or not."""
    return [
        event.passed
        for event in result.asset_events
        if isinstance(event, dg.AssetCheckEvaluation) and event.check_name == REACHABLE_CHECK
    ]


# --- the sensor ----------------------------------------------------------------------------


def test_first_tick_requests_a_snapshot(server: CkanServer, instance: dg.DagsterInstance) -> None:
    result = tick(server.base_url, instance, None)
    [request] = result.run_requests or []
    assert request.asset_selection == [ASSET_KEY]
    assert request.run_key.startswith(f"opendata-{jst_today():%Y%m%d}-")
    assert result.skip_reason is None
    assert reachability(result) == []
    assert CatalogueCursor.parse(result.cursor).run_key == request.run_key
    # the signal is one rows=1 search, never the package list
    [search] = [r for r in server.request_log if r.action == "package_search"]
    assert search.params["rows"] == "1"


def test_unchanged_catalogue_on_the_same_day_requests_nothing(
    server: CkanServer, instance: dg.DagsterInstance
) -> None:
    first = tick(server.base_url, instance, None)
    # a retried tick (same cursor) asks for the same run key: Dagster launches it once
    retried = tick(server.base_url, instance, None)
    assert [r.run_key for r in retried.run_requests or []] == [
        r.run_key for r in first.run_requests or []
    ]
    second = tick(server.base_url, instance, first.cursor)
    assert not second.run_requests
    assert second.skip_reason is not None
    assert "unchanged" in (second.skip_reason.skip_message or "")
    assert second.cursor == first.cursor


def modify_a_package(server: CkanServer, packages: list[dict[str, Any]]) -> None:
    # The store shares the package dicts: an edit in place is what CKAN's edit looks like.
    published = [p for p in packages if p["state"] == "active" and not p["private"]]
    package = server.store.find(published[-1]["id"])
    assert package is not None
    package["metadata_modified"] = "2099-01-01T00:00:00.000000"


def add_a_package(server: CkanServer, packages: list[dict[str, Any]]) -> None:
    server.insert_at_top()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(modify_a_package, id="metadata-modified-moves"),
        pytest.param(add_a_package, id="package-added"),
    ],
)
def test_a_change_requests_a_new_run_key(
    server: CkanServer, instance: dg.DagsterInstance, packages: list[dict[str, Any]], change: Any
) -> None:
    first = tick(server.base_url, instance, None)
    change(server, packages)
    second = tick(server.base_url, instance, first.cursor)
    [before] = first.run_requests or []
    [after] = second.run_requests or []
    assert after.run_key != before.run_key
    assert after.tags["dxkpi/catalogue"] == "changed"


def test_an_outage_is_reported_once_and_the_recovery_once(
    packages: list[dict[str, Any]], instance: dg.DagsterInstance
) -> None:
    # GIVEN a tick that saw the catalogue and asked for today's snapshot
    server = CkanServer(packages).start()
    port = server.port
    first = tick(server.base_url, instance, None)
    # WHEN the catalogue stops answering
    server.stop()
    down = tick(server.base_url, instance, first.cursor)
    still_down = tick(server.base_url, instance, down.cursor)
    # THEN the tick is skipped with the error, and one failed WARN evaluation is emitted
    assert not down.run_requests
    assert down.skip_reason is not None
    assert "catalogue unreachable" in (down.skip_reason.skip_message or "")
    assert "ConnectionError" in (down.skip_reason.skip_message or "")
    assert reachability(down) == [False]
    [evaluation] = down.asset_events
    assert isinstance(evaluation, dg.AssetCheckEvaluation)
    assert evaluation.asset_key == ASSET_KEY
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert reachability(still_down) == []
    assert still_down.skip_reason is not None
    # WHEN it answers again on the same port
    with CkanServer(packages, port=port) as back:
        recovered = tick(back.base_url, instance, still_down.cursor)
        steady = tick(back.base_url, instance, recovered.cursor)
    # THEN one passing evaluation, and the snapshot the outage may have cost is asked for again
    assert reachability(recovered) == [True]
    [request] = recovered.run_requests or []
    assert request.run_key != (first.run_requests or [])[0].run_key
    assert reachability(steady) == [] and not steady.run_requests


class GarbageHandler(BaseHTTPRequestHandler):
    """A proxy's error page where the catalogue should be."""

    def do_GET(self) -> None:
        body = b"<html><body>Service temporarily unavailable</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def garbage_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), GarbageHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.mark.parametrize("where", [pytest.param("nothing", id="port-nothing-listens-on"), "html"])
def test_an_unusable_catalogue_at_the_first_tick_is_reported(
    where: str, instance: dg.DagsterInstance, request: pytest.FixtureRequest
) -> None:
    base_url = (
        f"http://127.0.0.1:{free_port()}"
        if where == "nothing"
        else request.getfixturevalue("garbage_url")
    )
    result = tick(base_url, instance, None)
    assert not result.run_requests
    assert result.skip_reason is not None
    assert reachability(result) == [False]
    assert CatalogueCursor.parse(result.cursor).reachable is False


@pytest.mark.parametrize(
    ("cursor", "last_snapshot", "expected"),
    [
        pytest.param(CatalogueCursor("fp", "key-today"), None, False, id="same-key-in-flight"),
        pytest.param(CatalogueCursor("fp", "key-yesterday"), date(2026, 4, 1), True, id="daily"),
        pytest.param(CatalogueCursor("fp", "key-yesterday"), date(2026, 4, 2), False, id="fresh"),
        pytest.param(CatalogueCursor("old", "key-yesterday"), date(2026, 4, 2), True, id="change"),
        pytest.param(CatalogueCursor(), None, True, id="first-tick"),
    ],
)
def test_needs_snapshot(
    cursor: CatalogueCursor, last_snapshot: date | None, expected: bool
) -> None:
    today = date(2026, 4, 2)
    assert needs_snapshot(cursor, "fp", "key-today", last_snapshot, today) is expected


def test_jst_day_turns_at_15_utc() -> None:
    assert jst_today(datetime.fromisoformat("2026-03-31T14:59:59+00:00")) == date(2026, 3, 31)
    assert jst_today(datetime.fromisoformat("2026-03-31T15:00:00+00:00")) == date(2026, 4, 1)


@pytest.mark.parametrize("text", [None, "", "not json", "[1, 2]", '{"outages": 2, "extra": 1}'])
def test_a_cursor_that_cannot_be_read_starts_afresh(text: str | None) -> None:
    cursor = CatalogueCursor.parse(text)
    assert cursor.reachable is True
    assert CatalogueCursor.parse(cursor.dump()) == cursor


# --- the asset when the catalogue is down --------------------------------------------------


def materialise(
    base_url: str, warehouse: Path, instance: dg.DagsterInstance, raise_on_error: bool = True
) -> dg.ExecuteInProcessResult:
    resources = {
        "warehouse": WarehouseResource(path=str(warehouse)),
        "ckan": CkanResource(base_url=base_url, max_retries=1),
    }
    return dg.materialize(
        [opendata_package], resources=resources, instance=instance, raise_on_error=raise_on_error
    )


def checks_of(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def metadata_of(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def ward_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select ward_code, count(*) from raw.opendata_package group by 1"
        ).fetchall()
    return dict(rows)


def test_a_down_catalogue_writes_nothing_and_the_last_snapshot_stands(
    packages: list[dict[str, Any]], instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    # WHEN the snapshot runs while nothing answers
    down = materialise(f"http://127.0.0.1:{free_port()}", warehouse, instance)
    # THEN the run succeeds, the suite has nothing to refuse, the WARN check fails
    assert down.success
    checks = checks_of(down)
    assert checks[SUITE_CHECK].passed
    assert not checks[REACHABLE_CHECK].passed
    assert checks[REACHABLE_CHECK].severity == dg.AssetCheckSeverity.WARN
    assert "ConnectionError" in checks[REACHABLE_CHECK].metadata["error"].value
    assert metadata_of(down)["catalogue_reachable"] is False
    assert metadata_of(down)["snapshot_date"] == "none"
    assert ward_rows(warehouse) == {}
    # WHEN the catalogue answers, the snapshot loads and the check passes
    with CkanServer(packages) as server:
        live = materialise(server.base_url, warehouse, instance)
    assert live.success and all(e.passed for e in checks_of(live).values())
    assert set(ward_rows(warehouse)) == set(WARDS)
    today = jst_today()
    assert metadata_of(live)["snapshot_date"] == today.isoformat()
    assert last_snapshot_date(instance) == today
    # WHEN it is down again, the snapshot of today stands and is named
    before = ward_rows(warehouse)
    again = materialise(f"http://127.0.0.1:{free_port()}", warehouse, instance)
    assert again.success and not checks_of(again)[REACHABLE_CHECK].passed
    assert metadata_of(again)["snapshot_date"] == today.isoformat()
    assert ward_rows(warehouse) == before


def test_an_organisation_failing_mid_way_keeps_the_others(
    packages: list[dict[str, Any]], instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    def fail_the_second_ward(server: CkanServer, searches: int) -> None:
        if searches == 2:  # the server answers this search with CKAN's HTTP 500
            raise RuntimeError("Solr went away")

    warehouse = tmp_path / "warehouse.duckdb"
    with CkanServer(packages) as server:
        server.after_search = fail_the_second_ward
        result = materialise(server.base_url, warehouse, instance)
    assert result.success
    checks = checks_of(result)
    assert checks[SUITE_CHECK].passed
    assert not checks[REACHABLE_CHECK].passed
    assert WARDS[1] in checks[REACHABLE_CHECK].metadata["wards_not_read"].value
    assert set(ward_rows(warehouse)) == {WARDS[0], WARDS[2]}


# --- make dev serves the sample catalogue ---------------------------------------------------


def test_make_dev_serves_the_sample_catalogue_while_dagster_runs(
    packages: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DXKPI_CKAN_URL", raising=False)
    write_catalogue(packages, tmp_path / "catalogue" / "packages.json")
    environ = {"DXKPI_LANDING": str(tmp_path / "landing")}
    with sample_catalogue(environ):
        base_url = os.environ["DXKPI_CKAN_URL"]
        with CkanClient(base_url) as client:
            assert client.change_signal().count > 0
    with pytest.raises(CkanError):
        CkanClient(base_url, max_retries=0).change_signal()  # stopped with dagster dev


def test_make_dev_without_a_catalogue_says_so_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DXKPI_CKAN_URL", raising=False)
    with sample_catalogue({"DXKPI_LANDING": str(tmp_path / "landing")}):
        assert "DXKPI_CKAN_URL" not in os.environ
    assert "make generate" in capsys.readouterr().out


def test_an_organisation_with_no_package_is_an_empty_snapshot_not_a_missing_one(
    packages: list[dict[str, Any]], instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    # GIVEN a ward whose organisation's only package was deleted: the catalogue knows the
    # organisation and lists nothing for it
    empty_ward = WARDS[2]
    kept = [p for p in packages if ward_code_of(p) != empty_ward]
    gone = next(p for p in packages if ward_code_of(p) == empty_ward)
    warehouse = tmp_path / "warehouse.duckdb"
    # WHEN the snapshot runs
    with CkanServer([*kept, {**gone, "state": "deleted"}]) as server:
        result = materialise(server.base_url, warehouse, instance)
    # THEN the ward has no package row, but its snapshot is recorded as loaded with 0 rows:
    # "asked, and got nothing", which the marts count as 0 open datasets, not no data
    assert result.success and all(e.passed for e in checks_of(result).values())
    assert set(ward_rows(warehouse)) == {WARDS[0], WARDS[1]}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loads = dict(
            con.execute(
                "select ward_code, rows_loaded from ops.file_loads "
                "where raw_table = 'opendata_package'"
            ).fetchall()
        )
    assert loads[empty_ward] == 0 and loads[WARDS[0]] > 0


def test_a_snapshot_failing_its_suite_is_refused_and_the_other_wards_load(
    server: CkanServer,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a catalogue answering the second ward's search with one package twice (its id is
    # then not unique in that ward's snapshot); every ward's snapshot is validated in one batch
    search = CkanClient.organization_packages

    def one_package_twice(client: CkanClient, organisation: str) -> list[dict[str, Any]]:
        found = search(client, organisation)
        return [*found, found[0]] if organisation.endswith(WARDS[1]) else found

    monkeypatch.setattr(CkanClient, "organization_packages", one_package_twice)
    warehouse = tmp_path / "warehouse.duckdb"
    result = materialise(server.base_url, warehouse, instance, raise_on_error=False)
    # THEN that ward's snapshot is refused by name, and the other two load
    checks = checks_of(result)
    assert not checks[SUITE_CHECK].passed
    refusals = checks[SUITE_CHECK].metadata["failures"].value
    assert WARDS[1] in refusals and WARDS[0] not in refusals and WARDS[2] not in refusals
    assert set(ward_rows(warehouse)) == {WARDS[0], WARDS[2]}
