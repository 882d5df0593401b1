"""The alert sensor: incidents from check failures, refused files, failed runs and overdue sources,
one message when each opens and one when it resolves.

Every tick (30 s) it reads the event log after its cursor (check evaluations, run failures and
successes, freshness state changes: `orchestration.alerts.sources`) and the landing ledger's
current outcomes, opens and resolves incidents in the incident store (`alerts.sqlite` beside the
ledger), which queues one message per channel for each change, then delivers the outbox for at
most `DELIVERY_BUDGET_SECONDS`. It requests no run and never opens the DuckDB warehouse.

A channel that is down fails nothing: its messages stay in the outbox and go out, in order, on a
later tick. An error while reading the sources is logged and the cursor stays where it was, so
the next tick reads the same events again (the store ignores an event it has applied already).
The cursor is a small JSON object of storage ids (`EventCursor`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.alerts.channels import DeliveryReport, configured_channels, deliver
from orchestration.alerts.incidents import ApplyResult, IncidentStore, alerts_db_path, utc_now
from orchestration.alerts.sources import (
    FILE_KEY_PREFIX,
    REFUSED_STATES,
    EventCursor,
    event_transitions,
    ledger_transitions,
)
from orchestration.resources import LandingZoneResource

SENSOR_NAME = "alert_sensor"
DEFAULT_INTERVAL_SECONDS = 30
# Delivery stops after this many seconds; what is left goes on the next tick (a sensor tick
# may take 60 s in all).
DELIVERY_BUDGET_SECONDS = 20.0


def incident_store(landing: LandingZoneResource) -> IncidentStore:
    """The incident store of the deployment whose landing ledger `landing` names."""
    return IncidentStore(alerts_db_path(landing.ledger().path))


def update_incidents(
    instance: dg.DagsterInstance,
    landing: LandingZoneResource,
    store: IncidentStore,
    channels: list[str],
    cursor: EventCursor,
    now: datetime,
) -> tuple[ApplyResult, EventCursor]:
    """Read the sources, apply their transitions, queue the messages; the new cursor.

    The ledger is read after the event log and applied in the same batch: both are state the
    store can take twice, so the order between them does not matter.
    """
    open_runs = store.open_keys("run")
    transitions, moved = event_transitions(instance, cursor, open_runs)
    # Only the files that can move an incident: newest version refused, or an incident open.
    open_files = store.open_keys("file")
    entries = landing.ledger().newest_entries(
        REFUSED_STATES, [key.removeprefix(FILE_KEY_PREFIX) for key in open_files]
    )
    transitions += ledger_transitions(entries, Path(landing.path), open_files)
    result = store.apply(transitions, channels, now, quiet=not cursor.caught_up)
    return result, moved


def _tick_summary(result: ApplyResult, report: DeliveryReport) -> str:
    return (
        f"{len(result.opened)} incidents opened, {len(result.resolved)} resolved; "
        f"{report.summary()}"
    )


def build_alert_sensor(
    minimum_interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
    clock: Callable[[], datetime] = utc_now,
    environ: Mapping[str, str] | None = None,
    delivery_budget_seconds: float = DELIVERY_BUDGET_SECONDS,
) -> dg.SensorDefinition:
    """The alert sensor; `clock` and `environ` (channel settings) are for tests."""

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Opens and resolves incidents from failed checks, refused files, failed runs and "
            "freshness, and sends one message per change to Teams, Slack and data/alerts.jsonl."
        ),
    )
    def alert_sensor(
        context: dg.SensorEvaluationContext, landing: LandingZoneResource
    ) -> dg.SensorResult:
        cursor = EventCursor.parse(context.cursor)
        store = incident_store(landing)
        channels = configured_channels(environ)
        result = ApplyResult()
        try:
            result, cursor = update_incidents(
                context.instance, landing, store, [c.name for c in channels], cursor, clock()
            )
        except Exception as error:  # read again next tick; deliver what is queued meanwhile
            context.log.exception(f"incidents not updated: {type(error).__name__}: {error}")
        report = deliver(store, channels, clock, delivery_budget_seconds)
        if report.failed:
            context.log.warning(f"alert delivery: {report.summary()}")
        return dg.SensorResult(skip_reason=_tick_summary(result, report), cursor=cursor.dump())

    return alert_sensor


alert_sensor: dg.SensorDefinition = build_alert_sensor()
