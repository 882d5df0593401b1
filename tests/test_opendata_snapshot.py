from datetime import datetime

from expectations import run_suite
from ingestion.common.reference import load_wards
from orchestration.assets.opendata import snapshot_frame
from sampledata.catalogue import generate_catalogue


def test_snapshot_rows_carry_lineage_and_the_japanese_date() -> None:
    # GIVEN a snapshot taken at 16:00 UTC on March 31, already April 1 in Japan
    ward = load_wards()[0]
    packages = [p for p in generate_catalogue([ward.code], seed=1) if p["organization"]]
    taken_at = datetime(2026, 3, 31, 16, 0)
    # WHEN it becomes raw rows
    snapshot, digest, frame = snapshot_frame(packages, ward, taken_at, "http://127.0.0.1:1/")
    # THEN its reference date is the JST day, so it counts in FY2026, and the suite passes
    assert str(snapshot.reference_date) == "2026-04-01"
    assert frame["reference_date"].iloc[0].date().isoformat() == "2026-04-01"
    assert frame["source_row"].tolist() == list(range(1, len(packages) + 1))
    assert set(frame["file_sha256"]) == {digest}
    assert frame["source_file"].iloc[0].endswith(f"fq=organization:{ward.ckan_organization}")
    assert run_suite("opendata_package", frame).success


def test_same_catalogue_gives_the_same_digest() -> None:
    ward = load_wards()[1]
    packages = generate_catalogue([ward.code], seed=2)
    first = snapshot_frame(packages, ward, datetime(2026, 5, 1), "http://x")[1]
    second = snapshot_frame(list(reversed(packages)), ward, datetime(2026, 5, 2), "http://x")[1]
    assert first == second
