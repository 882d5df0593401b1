"""The raw asset's checks, invoked directly with Dagster's test context."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import dagster as dg
import pytest
from roster_files import HEADER, write_roster

from expectations import docs
from ingestion.common import ingest as ingest_module
from ingestion.common.ingest import ExportOutcome, Status
from ingestion.common.ledger import Ledger
from ingestion.common.problems import WARNING, Finding
from ingestion.hr.contract import STAFF
from orchestration.assets import landing as landing_module
from orchestration.assets.landing import build_landing_asset, ingest_dataset, log_outcomes
from orchestration.resources import LandingZoneResource, WarehouseResource


def resources(tmp_path: Path) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
        "landing": LandingZoneResource(path=str(tmp_path / "landing")),
    }


def materialise(tmp_path: Path) -> dict[str, dg.AssetCheckResult]:
    asset = build_landing_asset(STAFF)
    context = dg.build_asset_context(resources=resources(tmp_path))
    results = list(asset(context))
    return {r.check_name: r for r in results if isinstance(r, dg.AssetCheckResult)}


def test_checks_follow_a_refused_file_until_it_is_corrected(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_roster(landing, "20250401", "係員")
    write_roster(landing, "20250501", "課長代理")

    first = materialise(tmp_path)
    assert not first["expectation_suite"].passed
    assert "131016_staff_20250501.csv" in first["expectation_suite"].metadata["rejections"].value
    assert not first["outstanding_rejections"].passed

    # The refusal was reported: the blocking check passes again, the warning stays.
    second = materialise(tmp_path)
    assert second["expectation_suite"].passed
    assert not second["outstanding_rejections"].passed
    assert second["outstanding_rejections"].metadata["files"].value == 1

    write_roster(landing, "20250501", "課長級")
    third = materialise(tmp_path)
    assert third["expectation_suite"].passed and third["outstanding_rejections"].passed


def write_roster_with_one_bad_grade(landing: Path, day: str) -> None:
    """30 staff, the last with a grade outside the list: that row is quarantined."""
    rows = [f"{n:06d},甲,コウ,0100,総務部,係員,主事,正規,2015/4/{day[5]}," for n in range(1, 30)]
    rows.append("000030,乙,オツ,0100,総務部,局長,主事,正規,2015/4/1,")
    path = landing / "hr" / f"131016_staff_{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r\n".join([HEADER, *rows]).encode("cp932"))


def write_three_rosters_with_one_bad_grade(landing: Path) -> None:
    for day in ("20250401", "20250501", "20250601"):
        write_roster_with_one_bad_grade(landing, day)


def ingest_staff(tmp_path: Path, landing: LandingZoneResource) -> list[ExportOutcome]:
    """Ingest the rosters of `landing` into a warehouse under `tmp_path`."""
    warehouse = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))
    return ingest_dataset(STAFF, warehouse, landing, dg.get_dagster_logger())


def test_outcomes_are_recorded_as_the_run_goes_and_only_their_counts_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three rosters with a quarantined row each, and a ledger written two files at a time
    write_three_rosters_with_one_bad_grade(tmp_path / "landing")
    monkeypatch.setattr(landing_module, "LEDGER_BATCH", 2)
    transactions: list[int] = []
    record_outcomes = Ledger.record_outcomes

    def counting(self: Ledger, outcomes: object, run_id: str | None = None) -> None:
        recorded = list(outcomes)  # type: ignore[call-overload]
        transactions.append(len(recorded))
        record_outcomes(self, recorded, run_id)

    monkeypatch.setattr(Ledger, "record_outcomes", counting)
    landing = LandingZoneResource(path=str(tmp_path / "landing"))

    # WHEN the dataset is ingested
    outcomes = ingest_staff(tmp_path, landing)

    # THEN the ledger got the files as they were done, with every row finding
    assert [n for n in transactions if n] == [2, 1]
    ledger = landing.ledger()
    for outcome in outcomes:
        (entry,) = ledger.entries(outcome.source_file)
        rules = [(f.line, f.rule) for f in ledger.findings(entry.path, entry.sha256)]
        assert rules == [(31, "value_not_in_set")]
    # AND the run keeps each file's counts, not its rows
    assert [(o.status, o.rows_loaded, o.rows_quarantined, o.row_problems) for o in outcomes] == [
        (Status.LOADED, 29, 1, [])
    ] * 3


def test_data_docs_of_every_chunk_are_built_once_at_the_end_of_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three rosters checked one chunk each, with Data Docs on
    write_three_rosters_with_one_bad_grade(tmp_path / "landing")
    monkeypatch.setattr(ingest_module, "CHUNK_ROWS", 1)
    builds: list[int] = []
    build = docs._build
    monkeypatch.setattr(docs, "_build", lambda b: (builds.append(len(b.listed)), build(b)))
    landing = LandingZoneResource(
        path=str(tmp_path / "landing"), data_docs_dir=str(tmp_path / "data_docs")
    )

    # WHEN the dataset is ingested
    outcomes = ingest_staff(tmp_path, landing)

    # THEN the three validations' pages were built in one go, and each file's result links its own
    assert builds == [3]
    assert [o.status for o in outcomes] == [Status.LOADED] * 3
    pages = [o.check.docs_url for o in outcomes if o.check is not None]
    assert len(set(pages)) == 3
    assert all(Path(url2pathname(urlparse(page).path)).is_file() for page in pages if page)


def test_a_scan_reads_only_the_exports_not_loaded_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three rosters loaded by a run that scanned the landing zone
    landing = tmp_path / "landing"
    for month in ("04", "05", "06"):
        write_roster(landing, f"2025{month}01")
    materialise(tmp_path)
    read: list[str] = []
    read_bytes = Path.read_bytes

    def recording(path: Path) -> bytes:
        read.append(path.name)
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", recording)

    # WHEN a fourth arrives and another scan runs
    write_roster(landing, "20250701")
    checks = materialise(tmp_path)

    # THEN only the new export's bytes are read: the others are known by the ledger's hashes
    assert read == ["131016_staff_20250701.csv"]
    assert checks["expectation_suite"].passed


class RecordingLog:
    """Stands in for Dagster's log manager: the messages by level."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {"info": [], "warning": [], "error": []}

    def info(self, message: str) -> None:
        self.messages["info"].append(message)

    def warning(self, message: str) -> None:
        self.messages["warning"].append(message)

    def error(self, message: str) -> None:
        self.messages["error"].append(message)


def test_a_batch_of_outcomes_is_logged_in_one_message_per_kind() -> None:
    drift = Finding(None, "", "schema_drift", WARNING, "an extra column 備考")
    outcomes = [
        ExportOutcome(f"hr/13101{n}_staff_20250401.csv", Status.LOADED, 30, encoding="cp932")
        for n in range(3)
    ]
    outcomes[1] = replace(outcomes[1], status=Status.REPLACED, quarantined=2, warnings=[drift])
    outcomes.append(ExportOutcome("hr/131040_staff_20250401.csv", Status.REJECTED, reason="r"))
    log = RecordingLog()

    log_outcomes(log, outcomes)  # type: ignore[arg-type]

    (loaded,) = log.messages["info"]
    assert loaded.splitlines() == [
        "3 files loaded: 90 rows, 2 quarantined",
        "loaded hr/131010_staff_20250401.csv: 30 rows (cp932), 0 rows quarantined",
        "replaced hr/131011_staff_20250401.csv: 30 rows (cp932), 2 rows quarantined",
        "loaded hr/131012_staff_20250401.csv: 30 rows (cp932), 0 rows quarantined",
    ]
    assert log.messages["error"] == [
        "refused hr/131040_staff_20250401.csv; nothing written, file kept: r"
    ]
    assert log.messages["warning"] == [
        "warnings (1):\nhr/131011_staff_20250401.csv: an extra column 備考"
    ]
