"""Freshness: the cadence file, the raw assets' Dagster policies, late wards, the sensor."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.loader import LoadingContextForTest
from dagster._core.test_utils import freeze_time
from dagster._daemon.freshness import FreshnessDaemon

import ingestion.common.ledger as ledger_module
from ingestion.common.ledger import FileVersion, Ledger
from ingestion.common.reference import load_wards
from ingestion.registry import FILE_CONTRACTS
from orchestration.definitions import defs
from orchestration.freshness import (
    FRESHNESS_FILE,
    Cadence,
    FreshnessConfig,
    FreshnessConfigError,
    freshness_policy,
    load_freshness,
    parse_freshness,
    ward_freshness,
)
from orchestration.resources import LandingZoneResource
from orchestration.sensors.freshness import (
    CHECK_NAME,
    build_freshness_sensor,
    build_ward_freshness_check,
    evaluate_wards,
    freshness_sensor,
    ward_freshness_checks,
)

LOADED_TABLES = [*FILE_CONTRACTS, "opendata_package"]
WARD_CODES = {ward.code for ward in load_wards()}
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
CHIYODA, CHUO, MINATO, SHINJUKU = "131016", "131024", "131032", "131041"
WEEKLY = Cadence(timedelta(days=7), timedelta(days=3), timedelta(days=1))
MONTHLY = Cadence(timedelta(days=31), timedelta(days=7), timedelta(days=2))


@pytest.fixture
def landing(tmp_path: Path) -> LandingZoneResource:
    return LandingZoneResource(
        path=str(tmp_path / "landing"), ledger_path=str(tmp_path / "ledger.sqlite")
    )


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def receive(ledger: Ledger, path: str, at: datetime, state: str = "loaded") -> None:
    """Record that `path` arrived at `at` (the ledger's clock) with outcome `state`."""
    with mock.patch.object(ledger_module, "_now", lambda: at.isoformat(timespec="milliseconds")):
        ledger.record(FileVersion(path, f"sha-{path}-{at:%Y%m%d%H%M}", 10), state)


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "freshness.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# The cadence file --------------------------------------------------------------------------


def test_the_freshness_file_gives_every_loaded_dataset_a_cadence() -> None:
    config = load_freshness(FRESHNESS_FILE)
    assert set(LOADED_TABLES) <= set(config.datasets)
    expected = {
        "hr_staff": 31,
        "training_course": 7,
        "training_session": 7,
        "training_enrollment": 7,
        "proposals_proposal": 31,
        "opendata_package": 1,
    }
    assert {table: config.cadence(table).every.days for table in expected} == expected
    # Listed for later, loaded by nothing yet: harmless.
    assert config.cadence("surveys_staff_survey").every == timedelta(days=366)


def test_a_dataset_without_a_cadence_is_named_with_the_file(tmp_path: Path) -> None:
    config = parse_freshness({"datasets": {}}, tmp_path / "f.yaml", WARD_CODES)
    with pytest.raises(FreshnessConfigError, match=r"f\.yaml: no cadence .*raw/hr_staff"):
        config.cadence("hr_staff")


GOOD = "    cadence: weekly\n    grace: 3 days\n"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            "    cadence: weekly\n    grace: 3 dayz\n",
            r"datasets\.training/course\.grace: '3 dayz' is not a length",
            id="bad-length",
        ),
        pytest.param(
            "    cadence: fortnightly\n    grace: 3 days\n",
            r"datasets\.training/course\.cadence: 'fortnightly' is no cadence",
            id="unknown-cadence",
        ),
        pytest.param(
            "    cadence: weekly\n",
            r"datasets\.training/course: `grace` is missing",
            id="missing-grace",
        ),
        pytest.param(
            "    cadence: weekly\n    grace: 0 days\n",
            r"datasets\.training/course\.grace: '0 days' is not a length",
            id="zero-grace",
        ),
        pytest.param(
            GOOD + "    warn: 3 days\n",
            r"datasets\.training/course\.warn: 3 days must be shorter than grace",
            id="warn-not-shorter-than-grace",
        ),
        pytest.param(
            GOOD + "    grase: 3 days\n",
            r"datasets\.training/course: unknown key 'grase'",
            id="unknown-key",
        ),
        pytest.param(
            GOOD + '    wards:\n      "999999": {cadence: monthly}\n',
            r"datasets\.training/course\.wards\.999999: not a configured ward code",
            id="unknown-ward",
        ),
        pytest.param(
            GOOD + '    wards:\n      "131016": {cadence: 1 moon}\n',
            r"datasets\.training/course\.wards\.131016\.cadence: '1 moon' is no cadence",
            id="bad-ward-cadence",
        ),
    ],
)
def test_a_bad_value_is_a_clear_error(tmp_path: Path, entry: str, message: str) -> None:
    path = write_yaml(tmp_path, "datasets:\n  training/course:\n" + entry)
    with pytest.raises(FreshnessConfigError, match=message) as error:
        load_freshness(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("datasets: [\n", "cannot be read", id="not-yaml"),
        pytest.param("- hr/staff\n", "expected a mapping", id="not-a-mapping"),
        pytest.param("cadences: {}\n", "unknown key 'cadences'", id="unknown-top-key"),
        pytest.param(
            "datasets:\n  hr.staff: {}\n", r"datasets\.hr\.staff: a dataset is named", id="bad-name"
        ),
    ],
)
def test_a_malformed_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write_yaml(tmp_path, text)
    with pytest.raises(FreshnessConfigError, match=message) as error:
        load_freshness(path)
    assert str(path) in str(error.value)


def test_a_ward_override_keeps_what_it_does_not_set(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        "datasets:\n  training/course:\n    cadence: weekly\n    warn: 1 day\n    grace: 3 days\n"
        '    wards:\n      "131016": {cadence: monthly}\n',
    )
    config = load_freshness(path)
    assert config.cadence("training_course", CHIYODA) == Cadence(
        timedelta(days=31), timedelta(days=3), timedelta(days=1)
    )
    assert config.cadence("training_course", CHUO) == WEEKLY


def test_a_cadence_becomes_a_time_window_policy() -> None:
    policy = MONTHLY.policy()
    assert policy == dg.FreshnessPolicy.time_window(
        fail_window=timedelta(days=38), warn_window=timedelta(days=33)
    )
    no_warn = Cadence(timedelta(days=1), timedelta(hours=12)).policy()
    assert no_warn == dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=36))


def test_raw_assets_carry_the_configured_policies() -> None:
    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    for table in LOADED_TABLES:
        spec = specs[dg.AssetKey(["raw", table])]
        assert spec.freshness_policy == freshness_policy(table), table
        assert spec.freshness_policy == load_freshness().cadence(table).policy()


# Receipts in the ledger --------------------------------------------------------------------


def test_latest_receipts_are_the_newest_usable_export_per_dataset_and_ward(tmp_path: Path) -> None:
    # GIVEN two rosters of one ward, a refused roster of another, and a training file
    ledger = Ledger(tmp_path / "ledger.sqlite")
    receive(ledger, f"hr/{CHIYODA}_staff_20250401.csv", NOW - timedelta(days=60))
    receive(ledger, f"hr/{CHIYODA}_staff_20250501.csv", NOW - timedelta(days=30))
    receive(ledger, f"hr/{CHUO}_staff_20250601.csv", NOW, state="rejected")
    receive(ledger, f"training/{CHUO}_course_20250401.csv", NOW, state="unchanged")
    # WHEN the latest receipts are asked for
    receipts = ledger.latest_receipts()
    # THEN each (dataset, ward) has its newest received export; the refused one is none
    assert set(receipts) == {("hr_staff", CHIYODA), ("training_course", CHUO)}
    newest = receipts[("hr_staff", CHIYODA)]
    assert newest.path == f"hr/{CHIYODA}_staff_20250501.csv"
    assert newest.first_seen == NOW - timedelta(days=30)


# Late wards --------------------------------------------------------------------------------


@pytest.fixture
def overridden(tmp_path: Path) -> FreshnessConfig:
    """Weekly training, except Chiyoda's, monthly."""
    path = write_yaml(
        tmp_path,
        "datasets:\n  training/session:\n    cadence: weekly\n    warn: 1 day\n    grace: 3 days\n"
        '    wards:\n      "131016": {cadence: monthly, warn: 2 days, grace: 7 days}\n',
    )
    return load_freshness(path)


def test_late_wards_are_overdue_or_never_heard_from(
    tmp_path: Path, overridden: FreshnessConfig
) -> None:
    # GIVEN training sessions: Chiyoda (monthly) 20 days ago, Chuo 2 days ago, Minato 11 days
    # ago (weekly + 3 days grace = 10), Shinjuku 9 days ago; every other ward never sent one
    ledger = Ledger(tmp_path / "ledger.sqlite")
    for ward, days in ((CHIYODA, 20), (CHUO, 2), (MINATO, 11), (SHINJUKU, 9)):
        path = f"training/{ward}_session_20250601.csv"
        receive(ledger, path, NOW - timedelta(days=days))
    # WHEN the wards are evaluated at NOW
    result = ward_freshness(
        "training_session", ledger.latest_receipts(), WARD_CODES, overridden, NOW
    )
    # THEN only Minato is overdue: Chiyoda's monthly cadence covers its 20 days
    assert result.overdue == [MINATO]
    assert set(result.never_heard) == WARD_CODES - {CHIYODA, CHUO, MINATO, SHINJUKU}
    assert result.wards_checked == 23
    # ... and a month later Chiyoda is overdue too (20 + 31 > 31 + 7)
    later = ward_freshness(
        "training_session",
        ledger.latest_receipts(),
        WARD_CODES,
        overridden,
        NOW + timedelta(days=31),
    )
    assert CHIYODA in later.overdue


def test_every_ward_on_time_passes(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    for code in WARD_CODES:
        receive(ledger, f"hr/{code}_staff_20250601.csv", NOW - timedelta(days=3))
    [result] = evaluate_wards(ledger, NOW, ["hr_staff"])
    assert not result.late


def test_the_check_lists_late_wards_as_a_warning(landing: LandingZoneResource) -> None:
    # GIVEN Chuo's roster 40 days old (monthly + 7 days grace = 38) and Chiyoda's fresh
    ledger = landing.ledger()
    receive(ledger, f"hr/{CHUO}_staff_20250501.csv", NOW - timedelta(days=40))
    receive(ledger, f"hr/{CHIYODA}_staff_20250601.csv", NOW - timedelta(days=1))
    # WHEN the check runs at NOW
    check = build_ward_freshness_check(FILE_CONTRACTS["hr_staff"], clock=lambda: NOW)
    result = check(landing=landing)
    # THEN it fails as a warning and names Chuo's file and age, not Chiyoda
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["overdue_wards"].value == [CHUO]
    assert len(result.metadata["never_heard_wards"].value) == 21
    listing = result.metadata["late_wards"].value
    assert f"- {CHUO} 中央区: newest `hr/{CHUO}_staff_20250501.csv`" in listing
    assert "40 days ago" in listing
    assert CHIYODA not in listing


def test_the_checks_and_sensor_load_with_the_code_location() -> None:
    extra = dg.Definitions(asset_checks=ward_freshness_checks, sensors=[freshness_sensor])
    merged = dg.Definitions.merge(defs, extra)
    dg.Definitions.validate_loadable(merged)
    graph = merged.resolve_asset_graph()
    checked = {key.asset_key for key in graph.asset_check_keys if key.name == CHECK_NAME}
    assert checked == {dg.AssetKey(["raw", table]) for table in FILE_CONTRACTS}


# The sensor --------------------------------------------------------------------------------


def tick(
    landing: LandingZoneResource, instance: dg.DagsterInstance, cursor: str | None, now: datetime
) -> dg.SensorResult:
    sensor = build_freshness_sensor(clock=lambda: now)
    context = dg.build_sensor_context(
        cursor=cursor, resources={"landing": landing}, instance=instance
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def evaluated(result: dg.SensorResult) -> dict[str, dg.AssetCheckEvaluation]:
    events = [e for e in result.asset_events or [] if isinstance(e, dg.AssetCheckEvaluation)]
    return {e.asset_key.path[-1]: e for e in events}


def test_the_sensor_reports_when_the_late_wards_change(
    landing: LandingZoneResource, instance: dg.DagsterInstance
) -> None:
    ledger = landing.ledger()
    receive(ledger, f"hr/{CHIYODA}_staff_20250601.csv", NOW - timedelta(days=1))
    # First tick: every dataset evaluated once
    first = tick(landing, instance, None, NOW)
    assert set(evaluated(first)) == set(FILE_CONTRACTS)
    assert CHIYODA not in evaluated(first)["hr_staff"].metadata["never_heard_wards"].value
    assert json.loads(first.cursor or "{}")["hr_staff"]["never_heard"]
    # Nothing changed: nothing recorded, five minutes later
    same = tick(landing, instance, first.cursor, NOW + timedelta(minutes=5))
    assert not evaluated(same)
    assert same.skip_reason
    # Chuo sends its roster: only hr_staff is evaluated again
    receive(ledger, f"hr/{CHUO}_staff_20250601.csv", NOW)
    changed = tick(landing, instance, same.cursor, NOW + timedelta(minutes=10))
    assert set(evaluated(changed)) == {"hr_staff"}
    assert CHUO not in evaluated(changed)["hr_staff"].metadata["never_heard_wards"].value
    # Six weeks on, both rosters are overdue: evaluated again, as overdue
    late = tick(landing, instance, changed.cursor, NOW + timedelta(days=42))
    assert evaluated(late)["hr_staff"].metadata["overdue_wards"].value == [CHIYODA, CHUO]


def test_the_sensor_runs_by_default_every_few_minutes() -> None:
    assert freshness_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert freshness_sensor.minimum_interval_seconds == 300
    assert freshness_sensor.required_resource_keys == {"landing"}


# Dagster's own evaluation of the policy ----------------------------------------------------


def test_dagster_evaluates_a_configured_policy_pass_warn_fail(
    instance: dg.DagsterInstance,
) -> None:
    """The freshness daemon's own evaluation on an ephemeral instance (Dagster internals:
    `FreshnessDaemon._evaluate_asset`, what `dagster dev` runs every 30 s)."""

    # GIVEN a tiny asset with the catalogue's policy (daily: WARN after 27 h, FAIL after 36 h)
    @dg.asset(freshness_policy=freshness_policy("opendata_package"))
    def tiny() -> int:
        return 1

    node = dg.Definitions(assets=[tiny]).resolve_asset_graph().get(tiny.key)

    def state_at(moment: datetime) -> FreshnessState:
        with freeze_time(moment):
            context = LoadingContextForTest(instance)
            asyncio.run(FreshnessDaemon()._evaluate_asset(context, node))  # noqa: SLF001
        return instance.get_freshness_state_records([tiny.key])[tiny.key].freshness_state

    now = datetime.now(UTC)
    assert state_at(now) == FreshnessState.UNKNOWN  # never materialised
    # WHEN it is materialised
    assert dg.materialize([tiny], instance=instance).success
    # THEN it passes now, warns a day and 4 hours later, fails after a day and a half
    assert state_at(datetime.now(UTC)) == FreshnessState.PASS
    assert state_at(now + timedelta(hours=28)) == FreshnessState.WARN
    assert state_at(now + timedelta(hours=37)) == FreshnessState.FAIL
    # ... and each change is an event a later alert sensor can read
    changes = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.FRESHNESS_STATE_CHANGE)
    )
    assert len(changes) == 4
