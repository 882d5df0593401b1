"""The open-data catalogue sensor: a snapshot each JST day, and another when the catalogue changes.

Each tick asks CKAN one small question (`CkanClient.change_signal`: datasets per organisation
and the newest `metadata_modified`, no package list) and requests a run of
`raw/opendata_package` when the wards' counts or the newest edit moved since the cursor, or when
the newest snapshot in the warehouse (the asset's `snapshot_date` metadata) is from an earlier
JST day. The run key is made of the change's fingerprint, the JST day and the number of outages
seen, so a retried tick launches nothing twice, and a snapshot an outage prevented is asked for
again once the catalogue answers.

The newest edit is catalogue-wide: CKAN tells it for a set of organisations only through a Solr
`OR` query, which the sample catalogue does not answer, so in a shared catalogue an edit of
another organisation also brings a snapshot (one per change).

When the catalogue is down or answers garbage, the tick is skipped with the error, a warning is
logged, and the WARN check `catalogue_reachable` of the asset fails, once per outage; it passes
again when the catalogue answers. The cursor is a small JSON object (`CatalogueCursor`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import dagster as dg

from ingestion.common.reference import load_wards
from ingestion.opendata.ckan import CatalogueChange, CkanClient, CkanError
from orchestration.assets.opendata import (
    ASSET_KEY,
    JST,
    REACHABLE_CHECK,
    SNAPSHOT_DATE,
    standing_snapshot,
)
from orchestration.cursor import JsonCursor
from orchestration.resources import CkanResource

SENSOR_NAME = "catalogue_sensor"
DEFAULT_INTERVAL_SECONDS = 60
# The client's retries must fit in one tick (Dagster gives a sensor 60 s): at most
# 3 attempts x (5 s connect + 10 s read) + 1.5 s of backoff.
TICK_CONNECT_TIMEOUT = 5.0
TICK_READ_TIMEOUT = 10.0
TICK_MAX_RETRIES = 2


@dataclass(frozen=True)
class CatalogueCursor(JsonCursor):
    """What the sensor keeps between ticks.

    Attributes:
        fingerprint: The change fingerprint seen at the last tick that reached the catalogue.
        run_key: The run key of the last snapshot requested.
        reachable: Whether the catalogue answered at the last tick.
        outages: How many times the catalogue went from reachable to unreachable.
    """

    fingerprint: str | None = None
    run_key: str | None = None
    reachable: bool = True
    outages: int = 0


def jst_today(now: datetime | None = None) -> date:
    """The current day in Japan: the reference date a snapshot taken now gets."""
    moment = now if now is not None else datetime.now(UTC)
    return (moment.astimezone(UTC).replace(tzinfo=None) + JST).date()


def ward_organisations() -> list[str]:
    """The CKAN organisations of the configured wards (`t<ward_code>`)."""
    return [ward.ckan_organization for ward in load_wards()]


def change_fingerprint(change: CatalogueChange, organisations: Iterable[str]) -> str:
    """A short hash of what a snapshot depends on: the wards' counts and the newest edit."""
    wanted = set(organisations)
    counts = {org: n for org, n in change.per_organization.items() if org in wanted}
    text = json.dumps({"counts": counts, "newest": change.newest_modified}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def snapshot_run_key(fingerprint: str, day: date, outages: int) -> str:
    """The run key of the snapshot of this catalogue state on this JST day."""
    return f"opendata-{day:%Y%m%d}-{fingerprint}-{outages}"


def snapshot_due(last_snapshot: date | None, today: date) -> bool:
    """The daily cadence: no snapshot yet, or the newest is from an earlier JST day."""
    return last_snapshot is None or last_snapshot < today


def needs_snapshot(
    cursor: CatalogueCursor,
    fingerprint: str,
    run_key: str,
    last_snapshot: date | None,
    today: date,
) -> bool:
    """Whether to ask for a snapshot.

    Yes when the catalogue changed since the cursor or the newest snapshot is from an earlier
    JST day (or there is none), unless this very run key was asked for already (a run in
    flight, or today's that an outage did not interrupt).
    """
    if run_key == cursor.run_key:
        return False
    return fingerprint != cursor.fingerprint or snapshot_due(last_snapshot, today)


def last_snapshot_date(instance: dg.DagsterInstance) -> date | None:
    """The date of the newest snapshot in the warehouse, as the last materialisation said."""
    event = instance.get_latest_materialization_event(ASSET_KEY)
    materialisation = event.asset_materialization if event is not None else None
    value = materialisation.metadata.get(SNAPSHOT_DATE) if materialisation else None
    try:
        return date.fromisoformat(str(value.value)) if value is not None else None
    except ValueError:  # "none": the warehouse holds no snapshot yet
        return None


def reachability_evaluation(
    passed: bool, detail: str, last_snapshot: date | None
) -> dg.AssetCheckEvaluation:
    """An evaluation of `catalogue_reachable` on raw/opendata_package, from the sensor."""
    snapshot = last_snapshot.isoformat() if last_snapshot else "none"
    return dg.AssetCheckEvaluation(
        asset_key=ASSET_KEY,
        check_name=REACHABLE_CHECK,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        blocking=False,
        metadata={"error": "none" if passed else detail, SNAPSHOT_DATE: snapshot},
        description=detail if passed else f"{detail}; {standing_snapshot(snapshot)}",
    )


def sensor_client(ckan: CkanResource) -> CkanClient:
    """A client of the resource's catalogue whose timeouts and retries fit in one tick."""
    return CkanClient(
        ckan.base_url,
        timeout=(
            min(ckan.connect_timeout, TICK_CONNECT_TIMEOUT),
            min(ckan.read_timeout, TICK_READ_TIMEOUT),
        ),
        max_retries=min(ckan.max_retries, TICK_MAX_RETRIES),
    )


def _unreachable(
    context: dg.SensorEvaluationContext, cursor: CatalogueCursor, error: CkanError
) -> dg.SensorResult:
    """Skip the tick; report the outage once, when it starts."""
    message = f"catalogue unreachable: {error}"
    context.log.warning(f"{message} (no snapshot requested; the last snapshot stands)")
    events: list[dg.AssetCheckEvaluation] = []
    if cursor.reachable:
        last = last_snapshot_date(context.instance)
        events.append(reachability_evaluation(False, message, last))
        cursor = replace(cursor, reachable=False, outages=cursor.outages + 1)
    return dg.SensorResult(skip_reason=message, asset_events=events, cursor=cursor.dump())


def _reachable(
    context: dg.SensorEvaluationContext, cursor: CatalogueCursor, change: CatalogueChange
) -> dg.SensorResult:
    """Request a snapshot if the catalogue changed or today's is missing."""
    today = jst_today()
    last = last_snapshot_date(context.instance)
    fingerprint = change_fingerprint(change, ward_organisations())
    run_key = snapshot_run_key(fingerprint, today, cursor.outages)
    recovered = reachability_evaluation(True, "the catalogue answers again", last)
    events = [] if cursor.reachable else [recovered]
    if not needs_snapshot(cursor, fingerprint, run_key, last, today):
        kept = replace(cursor, fingerprint=fingerprint, reachable=True)
        reason = f"catalogue unchanged and the snapshot of {today} asked for or taken ({run_key})"
        return dg.SensorResult(skip_reason=reason, asset_events=events, cursor=kept.dump())
    trigger = "changed" if fingerprint != cursor.fingerprint else "daily"
    request = dg.RunRequest(
        run_key=run_key, asset_selection=[ASSET_KEY], tags={"dxkpi/catalogue": trigger}
    )
    context.log.info(f"snapshot requested ({trigger}): {change.count} datasets, {run_key}")
    moved = replace(cursor, fingerprint=fingerprint, run_key=run_key, reachable=True)
    return dg.SensorResult(run_requests=[request], asset_events=events, cursor=moved.dump())


def build_catalogue_sensor(
    minimum_interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
) -> dg.SensorDefinition:
    """The catalogue sensor, polling CKAN at most every `minimum_interval_seconds`."""

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        target=[ASSET_KEY],
        description=(
            "Snapshots the open-data catalogue once per JST day and whenever it changes; "
            "reports an unreachable catalogue on the check catalogue_reachable."
        ),
    )
    def catalogue_sensor(
        context: dg.SensorEvaluationContext, ckan: CkanResource
    ) -> dg.SensorResult:
        cursor = CatalogueCursor.parse(context.cursor)
        try:
            with sensor_client(ckan) as client:
                change = client.change_signal()
        except CkanError as error:
            return _unreachable(context, cursor, error)
        return _reachable(context, cursor, change)

    return catalogue_sensor


catalogue_sensor: dg.SensorDefinition = build_catalogue_sensor()
