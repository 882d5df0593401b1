"""The open-data catalogue: a snapshot of every ward's CKAN organisation per run."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pandas as pd

from expectations import run_suite
from ingestion.common.loader import load_export
from ingestion.common.reader import lineage_frame
from ingestion.common.reference import Ward, load_wards
from ingestion.opendata.ckan import CkanClient, CkanError, packages_to_frame
from orchestration.assets.landing import SUITE_CHECK, raw_asset_key
from orchestration.resources import CkanResource, WarehouseResource
from orchestration.settings import WAREHOUSE_POOL

TABLE = "opendata_package"
JST = timedelta(hours=9)


@dataclass(frozen=True)
class CatalogueSnapshot:
    """One ward's catalogue as seen at one moment: the export identity of the load."""

    ward_code: str
    reference_date: date
    name: str


def snapshot_frame(
    packages: list[dict], ward: Ward, taken_at: datetime, base_url: str
) -> tuple[CatalogueSnapshot, str, pd.DataFrame]:
    """Turn one organisation's packages into raw rows with their lineage.

    The reference date is the JST day of the snapshot, so the fiscal year is the Japanese one.
    """
    reference_date = (taken_at + JST).date()
    search = "api/3/action/package_search"
    source = f"{base_url.rstrip('/')}/{search}?fq=organization:{ward.ckan_organization}"
    frame = packages_to_frame(packages)
    fingerprint = "\n".join(sorted(f"{p['id']} {p.get('metadata_modified')}" for p in packages))
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()
    snapshot = CatalogueSnapshot(ward.code, reference_date, source)
    rows = pd.Series(range(1, len(frame) + 1))
    lineage = lineage_frame(snapshot, digest, rows, taken_at)
    lineage["snapshot_id"] = pd.Series(
        [f"{ward.code}-{taken_at:%Y%m%dT%H%M%S}"] * len(frame), dtype="str"
    )
    lineage["taken_at"] = pd.Series([pd.Timestamp(taken_at)] * len(frame), dtype="datetime64[us]")
    return snapshot, digest, pd.concat([lineage, frame.reset_index(drop=True)], axis=1)


def _fetch(client: CkanClient, ward: Ward) -> list[dict]:
    try:
        return client.organization_packages(ward.ckan_organization)
    except CkanError as error:
        raise dg.Failure(
            description=f"catalogue snapshot of {ward.code} failed: {error}"
        ) from error


@dg.asset(
    key=raw_asset_key(TABLE),
    group_name="raw",
    kinds={"python", "duckdb"},
    pool=WAREHOUSE_POOL,
    description=(
        "Every ward's packages in the CKAN open-data catalogue (organisation t<ward_code>), "
        "one snapshot per ward per day, loaded into `raw.opendata_package`."
    ),
    check_specs=[dg.AssetCheckSpec(SUITE_CHECK, asset=raw_asset_key(TABLE), blocking=True)],
)
def opendata_package(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ckan: CkanResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Snapshot the catalogue of every ward and load the snapshots that pass their suite."""
    client = ckan.client()
    taken_at = datetime.now(UTC).replace(tzinfo=None)
    failures: list[str] = []
    packages_seen = 0
    organisations = set(client.organization_list())
    with warehouse.connect() as con:
        for ward in load_wards():
            if ward.ckan_organization not in organisations:
                context.log.warning(
                    f"{ward.code}: no organisation {ward.ckan_organization} in CKAN"
                )
                continue
            packages = _fetch(client, ward)
            if not packages:
                context.log.warning(f"{ward.code}: the catalogue lists no package")
                continue
            snapshot, digest, frame = snapshot_frame(packages, ward, taken_at, ckan.base_url)
            check = run_suite(TABLE, frame)
            if not check.success:
                failures.append(check.describe(snapshot.name))
                context.log.error(failures[-1])
                continue
            load_export(con, TABLE, snapshot, digest, frame, [], "json")
            packages_seen += len(frame)
    yield dg.MaterializeResult(
        metadata={"packages": packages_seen, "taken_at": taken_at.isoformat()}
    )
    yield dg.AssetCheckResult(
        check_name=SUITE_CHECK,
        passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failures": dg.MetadataValue.md("\n".join(failures) or "none")},
    )
