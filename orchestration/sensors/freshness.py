"""Per-ward freshness: the `ward_freshness` check of each landing-zone raw asset, and its sensor.

A raw asset is one per dataset, so its Dagster freshness policy only says whether the dataset
was updated at all. Which wards are late is told by the WARN check `ward_freshness` on
`raw/hr_staff`, `raw/training_*` and `raw/proposals_proposal`: it fails while some ward's
newest export of the dataset (a version loaded, replaced or unchanged in the landing ledger, by
when the ledger first saw it) is older than that ward's cadence plus grace
(`orchestration/freshness.yaml`), or while some ward never sent one.

Both read only the landing ledger (SQLite), never the DuckDB warehouse, which admits one
process. The check is declared in the graph (run from the UI, and after each load in the same
run); the sensor evaluates it every few minutes and records a result only when a dataset's
set of late wards changes, so a ward falling overdue shows up without any run. Its cursor is a
small JSON object: the late wards per dataset at the last evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

import dagster as dg

from ingestion.common.contract import DatasetContract
from ingestion.common.ledger import Ledger
from ingestion.common.reference import load_wards
from ingestion.registry import FILE_CONTRACTS
from orchestration.assets.landing import raw_asset_key
from orchestration.freshness import (
    FreshnessConfig,
    LateWard,
    WardFreshness,
    configured,
    utc_now,
    ward_freshness,
)
from orchestration.resources import LandingZoneResource

CHECK_NAME = "ward_freshness"
SENSOR_NAME = "freshness_sensor"
DEFAULT_INTERVAL_SECONDS = 300
CHECK_DESCRIPTION = (
    "Wards whose newest export of this dataset is older than their cadence plus grace "
    "(orchestration/freshness.yaml), and wards never heard from (WARN)"
)
# The datasets of the landing zone, by raw table (the catalogue has no per-ward receipts).
LANDING_TABLES = tuple(FILE_CONTRACTS)
# The late wards of one dataset, as kept in the cursor.
Signature = dict[str, list[str]]


def evaluate_wards(
    ledger: Ledger,
    now: datetime,
    tables: Sequence[str] = LANDING_TABLES,
    config: FreshnessConfig | None = None,
) -> list[WardFreshness]:
    """Which wards are late with each dataset, from the ledger's receipts, at `now`."""
    receipts = ledger.latest_receipts()
    codes = [ward.code for ward in load_wards()]
    cadences = config or configured()
    return [ward_freshness(table, receipts, codes, cadences, now) for table in tables]


def _late_line(ward: LateWard, names: dict[str, str], now: datetime) -> str:
    """One Markdown line: the ward, its newest export and its age, and what is expected."""
    who = f"{ward.ward_code} {names.get(ward.ward_code, '')}".rstrip()
    expected = f"expected {ward.cadence.describe()}"
    if ward.last is None:
        return f"- {who}: no export received yet ({expected})"
    age = (now - ward.last.first_seen).days
    arrived = ward.last.first_seen.strftime("%Y-%m-%d %H:%M UTC")
    return f"- {who}: newest `{ward.last.path}` arrived {arrived}, {age} days ago ({expected})"


def ward_freshness_evaluation(result: WardFreshness) -> dg.AssetCheckEvaluation:
    """The `ward_freshness` evaluation of one dataset (WARN), for the sensor or the check."""
    names = {ward.code: ward.name_ja for ward in load_wards()}
    lines = [_late_line(ward, names, result.evaluated_at) for ward in result.late]
    summary = (
        f"{len(result.overdue)} wards overdue, {len(result.never_heard)} never heard from"
        if result.late
        else f"every one of {result.wards_checked} wards sent this dataset on time"
    )
    return dg.AssetCheckEvaluation(
        asset_key=raw_asset_key(result.table),
        check_name=CHECK_NAME,
        passed=not result.late,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "wards_checked": result.wards_checked,
            "overdue": len(result.overdue),
            "never_heard": len(result.never_heard),
            "overdue_wards": dg.MetadataValue.json(result.overdue),
            "never_heard_wards": dg.MetadataValue.json(result.never_heard),
            "late_wards": dg.MetadataValue.md("\n".join(lines) or "none"),
            "evaluated_at": result.evaluated_at.isoformat(timespec="seconds"),
        },
        description=summary,
    )


def build_ward_freshness_check(
    contract: DatasetContract, clock: Callable[[], datetime] = utc_now
) -> dg.AssetChecksDefinition:
    """The `ward_freshness` check of one landing-zone dataset's raw asset."""

    @dg.asset_check(
        asset=raw_asset_key(contract.table),
        name=CHECK_NAME,
        description=CHECK_DESCRIPTION,
    )
    def ward_freshness_check(landing: LandingZoneResource) -> dg.AssetCheckResult:
        [result] = evaluate_wards(landing.ledger(), clock(), [contract.table])
        evaluation = ward_freshness_evaluation(result)
        return dg.AssetCheckResult(
            passed=evaluation.passed,
            severity=evaluation.severity,
            metadata=evaluation.metadata,
            description=evaluation.description,
        )

    return ward_freshness_check


ward_freshness_checks = [build_ward_freshness_check(c) for c in FILE_CONTRACTS.values()]


def signature(result: WardFreshness) -> Signature:
    """What the cursor keeps of a dataset's evaluation: its overdue and never-heard wards."""
    return {"overdue": result.overdue, "never_heard": result.never_heard}


def read_cursor(text: str | None) -> dict[str, Signature]:
    """The late wards per dataset at the last evaluation; an empty or unreadable cursor: none."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def build_freshness_sensor(
    minimum_interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
    clock: Callable[[], datetime] = utc_now,
) -> dg.SensorDefinition:
    """The freshness sensor, evaluating every `minimum_interval_seconds` at `clock()`."""

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Evaluates the ward_freshness check of each landing-zone dataset from the landing "
            "ledger; records a result when the set of late wards changes."
        ),
    )
    def freshness_sensor(
        context: dg.SensorEvaluationContext, landing: LandingZoneResource
    ) -> dg.SensorResult:
        cursor = read_cursor(context.cursor)
        events = []
        for result in evaluate_wards(landing.ledger(), clock()):
            if cursor.get(result.table) != signature(result):
                cursor[result.table] = signature(result)
                events.append(ward_freshness_evaluation(result))
                context.log.info(f"{result.table}: {events[-1].description}")
        dumped = json.dumps(cursor, sort_keys=True)
        if not events:
            return dg.SensorResult(skip_reason="no change in late wards", cursor=dumped)
        return dg.SensorResult(asset_events=events, cursor=dumped)

    return freshness_sensor


freshness_sensor: dg.SensorDefinition = build_freshness_sensor()
