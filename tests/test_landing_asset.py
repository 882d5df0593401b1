"""The raw asset's checks, invoked directly with Dagster's test context."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from roster_files import write_roster

from ingestion.hr.contract import STAFF
from orchestration.assets.landing import build_landing_asset
from orchestration.resources import LandingZoneResource, WarehouseResource


def materialise(tmp_path: Path) -> dict[str, dg.AssetCheckResult]:
    asset = build_landing_asset(STAFF)
    context = dg.build_asset_context(
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
            "landing": LandingZoneResource(path=str(tmp_path / "landing")),
        }
    )
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
