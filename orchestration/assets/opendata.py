"""The open-data catalogue: a snapshot of every ward's CKAN organisation per run.

A catalogue that cannot be read (down, timing out or answering garbage after the client's
retries) does not fail the run and holds back no other source: nothing new is written, the
last good snapshot stands, and the WARN check `catalogue_reachable` says what failed and the
date of the snapshot the marts still show. A ward whose organisation cannot be read is treated
the same way while the other wards load.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import pandas as pd

from expectations import run_suite_per_file
from ingestion.common.loader import load_export
from ingestion.common.reader import lineage_frame
from ingestion.common.reference import Ward, load_wards
from ingestion.common.schema import RAW_SCHEMA
from ingestion.opendata.ckan import CkanClient, CkanError, packages_to_frame
from orchestration.assets.landing import SUITE_CHECK, raw_asset_key
from orchestration.changes import loaded_files_digest, versioned
from orchestration.freshness import freshness_policy
from orchestration.resources import CkanResource, WarehouseResource
from orchestration.settings import WAREHOUSE_POOL

TABLE = "opendata_package"
ASSET_KEY = raw_asset_key(TABLE)
REACHABLE_CHECK = "catalogue_reachable"
# Materialisation metadata: the JST date of the newest snapshot in the warehouse after the run.
SNAPSHOT_DATE = "snapshot_date"
JST = timedelta(hours=9)

# A ward's newest snapshot in the warehouse: its reference date (JST) and taken_at (UTC).
LatestSnapshots = dict[str, tuple[date, datetime]]


@dataclass(frozen=True)
class CatalogueSnapshot:
    """One ward's catalogue as seen at one moment: the export identity of the load."""

    ward_code: str
    reference_date: date
    name: str


@dataclass
class SnapshotRun:
    """What one materialisation did: snapshots checked and loaded, wards it could not read."""

    taken_at: datetime
    base_url: str
    packages: int = 0
    checked: int = 0
    refusals: list[str] = field(default_factory=list)
    not_read: dict[str, str] = field(default_factory=dict)
    catalogue_error: str | None = None

    @property
    def reachable(self) -> bool:
        """True when the catalogue answered for every ward."""
        return self.catalogue_error is None and not self.not_read


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


def latest_snapshots(con: duckdb.DuckDBPyConnection) -> LatestSnapshots:
    """The newest snapshot of each ward in the warehouse: the one the marts show."""
    rows = con.execute(
        f"select ward_code, max(reference_date), max(taken_at) from {RAW_SCHEMA}.{TABLE} "
        "group by ward_code"
    ).fetchall()
    return {code: (day, taken_at) for code, day, taken_at in rows}


def _fetch(
    log: dg.DagsterLogManager, client: CkanClient, run: SnapshotRun, ward: Ward
) -> list[dict] | None:
    """One ward's packages, or None (noted in `run`) when the catalogue did not give them."""
    try:
        return client.organization_packages(ward.ckan_organization)
    except CkanError as error:
        run.not_read[ward.code] = str(error)
        if error.status is None:  # no answer at all after the retries: the catalogue is down
            run.catalogue_error = str(error)
        log.warning(f"{ward.code}: no snapshot taken, its last snapshot stands: {error}")
        return None


Taken = tuple[CatalogueSnapshot, str, pd.DataFrame]  # snapshot, digest, frame


def _take_snapshot(
    log: dg.DagsterLogManager, client: CkanClient, run: SnapshotRun, ward: Ward
) -> Taken | None:
    """One ward's snapshot as raw rows, or None when the catalogue did not give it."""
    packages = _fetch(log, client, run, ward)
    if packages is None:
        return None
    if not packages:
        # Asked, and got nothing: loaded as an empty snapshot (its load record in
        # ops.file_loads), so the ward scores 0 open datasets rather than no data.
        log.warning(f"{ward.code}: the catalogue lists no package: an empty snapshot")
    return snapshot_frame(packages, ward, run.taken_at, run.base_url)


def _check_and_load(
    log: dg.DagsterLogManager, con: duckdb.DuckDBPyConnection, run: SnapshotRun, taken: list[Taken]
) -> None:
    """Check every ward's snapshot against the suite, validated together (a validation per
    ward cost about a second each), then load each snapshot that passes, each on its own."""
    checks = run_suite_per_file(TABLE, {snapshot.name: frame for snapshot, _, frame in taken})
    for snapshot, digest, frame in taken:
        check = checks[snapshot.name]
        run.checked += 1
        if not check.success:
            run.refusals.append(check.describe(snapshot.name))
            log.error(run.refusals[-1])
            continue
        load_export(con, TABLE, snapshot, digest, frame, [], "json")
        run.packages += len(frame)


def _snapshot_catalogue(
    log: dg.DagsterLogManager,
    client: CkanClient,
    con: duckdb.DuckDBPyConnection,
    run: SnapshotRun,
) -> None:
    """Snapshot every ward, stopping early once the catalogue no longer answers at all."""
    try:
        organisations = set(client.organization_list())
    except CkanError as error:
        run.catalogue_error = str(error)
        log.warning(f"catalogue unreachable, nothing written, the last snapshot stands: {error}")
        return
    taken: list[Taken] = []
    for ward in load_wards():
        if run.catalogue_error is not None:
            run.not_read[ward.code] = "not tried: the catalogue stopped answering"
        elif ward.ckan_organization not in organisations:
            log.warning(f"{ward.code}: no organisation {ward.ckan_organization} in CKAN")
        elif (snapshot := _take_snapshot(log, client, run, ward)) is not None:
            taken.append(snapshot)
    if taken:
        _check_and_load(log, con, run, taken)


def standing_snapshot(snapshot_date: str) -> str:
    """Say which snapshot the marts show while the catalogue cannot be read."""
    if snapshot_date == "none":
        return "no snapshot in the warehouse yet"
    return f"the snapshot of {snapshot_date} stands"


def _newest(latest: LatestSnapshots) -> tuple[str, str]:
    """The date and time of the newest snapshot in the warehouse, or "none"."""
    if not latest:
        return "none", "none"
    day, taken_at = max(latest.values())
    return day.isoformat(), taken_at.isoformat()


def _not_read_md(run: SnapshotRun, latest: LatestSnapshots) -> dg.MetadataValue:
    """The wards not read, each with its error and the date of the snapshot that stands."""
    lines = [
        f"- {code}: {error} (last snapshot: "
        f"{latest[code][0].isoformat() if code in latest else 'none'})"
        for code, error in run.not_read.items()
    ]
    return dg.MetadataValue.md("\n".join(lines) or "none")


def _metadata(run: SnapshotRun, latest: LatestSnapshots) -> dict[str, object]:
    snapshot_date, snapshot_taken_at = _newest(latest)
    return {
        "packages": run.packages,
        "taken_at": run.taken_at.isoformat(),
        "catalogue_reachable": run.reachable,
        SNAPSHOT_DATE: snapshot_date,
        "snapshot_taken_at": snapshot_taken_at,
        "wards_not_read": _not_read_md(run, latest),
    }


def _suite_check(run: SnapshotRun) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=SUITE_CHECK,
        passed=not run.refusals,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "snapshots_checked": run.checked,
            "failures": dg.MetadataValue.md("\n".join(run.refusals) or "none"),
        },
        description=f"Great Expectations suite `{TABLE}` on every snapshot before loading",
    )


def _reachable_check(run: SnapshotRun, latest: LatestSnapshots) -> dg.AssetCheckResult:
    snapshot_date, _ = _newest(latest)
    error = run.catalogue_error or "; ".join(sorted(set(run.not_read.values())))
    description = (
        "the catalogue answered for every ward"
        if run.reachable
        else f"catalogue not (fully) read, {standing_snapshot(snapshot_date)}: {error}"
    )
    return dg.AssetCheckResult(
        check_name=REACHABLE_CHECK,
        passed=run.reachable,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "error": error or "none",
            SNAPSHOT_DATE: snapshot_date,
            "wards_not_read": _not_read_md(run, latest),
        },
        description=description,
    )


@dg.asset(
    key=ASSET_KEY,
    group_name="raw",
    kinds={"python", "duckdb"},
    pool=WAREHOUSE_POOL,
    freshness_policy=freshness_policy(TABLE),
    description=(
        "Every ward's packages in the CKAN open-data catalogue (organisation t<ward_code>), "
        "one snapshot per ward per day, loaded into `raw.opendata_package`. An unreachable "
        "catalogue writes nothing and fails the WARN check `catalogue_reachable`."
    ),
    check_specs=[
        dg.AssetCheckSpec(SUITE_CHECK, asset=ASSET_KEY, blocking=True),
        dg.AssetCheckSpec(
            REACHABLE_CHECK,
            asset=ASSET_KEY,
            description="The catalogue answered; when not, the last snapshot stands (WARN).",
        ),
    ],
)
def opendata_package(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ckan: CkanResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Snapshot the catalogue of every ward and load the snapshots that pass their suite."""
    run = SnapshotRun(datetime.now(UTC).replace(tzinfo=None), ckan.base_url)
    with ckan.client() as client, warehouse.connect() as con:
        _snapshot_catalogue(context.log, client, con, run)
        latest = latest_snapshots(con)
        digest = loaded_files_digest(con, TABLE)
    yield versioned(context.instance, ASSET_KEY, digest, _metadata(run, latest))
    yield _suite_check(run)
    yield _reachable_check(run, latest)
