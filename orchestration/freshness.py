"""How often each source is expected to send data, and which wards are late.

The cadences live in `orchestration/freshness.yaml`, which the operator edits (its comments say
how). This module reads and validates that file, turns a dataset's cadence into Dagster's
freshness policy for its raw asset (one asset per dataset: "the dataset was not updated within
the window") and tells, from the landing ledger's receipts, which wards are late with a
dataset (`ward_freshness`): that part is plain Python, evaluated by the freshness sensor and
the `ward_freshness` checks without touching the warehouse.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from ingestion.common.ledger import Receipt
from ingestion.common.reference import load_wards

FRESHNESS_FILE = Path(__file__).with_name("freshness.yaml")
NAMED_CADENCES = {
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    # The longest month and year: an export on the 1st of each month is never early.
    "monthly": timedelta(days=31),
    "quarterly": timedelta(days=92),
    "yearly": timedelta(days=366),
}
_UNITS = {"minute": "minutes", "hour": "hours", "day": "days", "week": "weeks"}
_DURATION = re.compile(r"^\s*([0-9]+)\s*(minute|hour|day|week)s?\s*$")
_DATASET_KEY = re.compile(r"^[a-z][a-z_]*/[a-z][a-z_]*$")
_SETTINGS = frozenset({"cadence", "warn", "grace"})
# Dagster refuses freshness windows shorter than a minute.
_SHORTEST = timedelta(minutes=1)


class FreshnessConfigError(ValueError):
    """The freshness file holds something it cannot use; the message names the file and key."""


@dataclass(frozen=True)
class Cadence:
    """How often a source sends a dataset, and how late it may be.

    Attributes:
        every: A new export is expected at least this often.
        grace: Past `every` by more than this, the source is overdue (Dagster FAIL).
        warn: Past `every` by more than this (shorter than `grace`), Dagster shows WARN.
    """

    every: timedelta
    grace: timedelta
    warn: timedelta | None = None

    @property
    def overdue_after(self) -> timedelta:
        """The age of the newest export beyond which the source is overdue."""
        return self.every + self.grace

    def policy(self) -> dg.FreshnessPolicy:
        """The Dagster freshness policy: WARN after `every + warn`, FAIL after `every + grace`."""
        warn = self.every + self.warn if self.warn is not None else None
        return dg.FreshnessPolicy.time_window(fail_window=self.overdue_after, warn_window=warn)

    def describe(self) -> str:
        """E.g. `every 31 days, 7 days grace`."""
        return f"every {_human(self.every)}, {_human(self.grace)} grace"


@dataclass(frozen=True)
class FreshnessConfig:
    """The cadences of one freshness file, by raw table (`hr_staff`, `opendata_package`...).

    Attributes:
        source: The file they were read from (named in errors).
        datasets: The cadence of each dataset.
        wards: Per-ward cadences that differ from their dataset's, by table then ward code.
    """

    source: Path
    datasets: Mapping[str, Cadence]
    wards: Mapping[str, Mapping[str, Cadence]] = field(default_factory=dict)

    def cadence(self, table: str, ward_code: str | None = None) -> Cadence:
        """The cadence of a dataset, for one ward if given (its override, or the dataset's)."""
        if table not in self.datasets:
            raise FreshnessConfigError(
                f"{self.source}: no cadence for the dataset of raw/{table}: add it under "
                "`datasets:` as `<system>/<dataset>`"
            )
        default = self.datasets[table]
        return self.wards.get(table, {}).get(ward_code or "", default)


# Reading the file --------------------------------------------------------------------------


def parse_duration(value: object, where: str) -> timedelta:
    """Read a length such as `7 days`, `12 hours`, `2 weeks` or `30 minutes`.

    Raises:
        FreshnessConfigError: not such a length, or zero.
    """
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or int(match.group(1)) == 0:
        raise FreshnessConfigError(
            f"{where}: {value!r} is not a length such as '7 days', '12 hours' or '2 weeks'"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_cadence(value: object, where: str) -> timedelta:
    """Read a cadence: a name (`daily`, `weekly`, `monthly`, `quarterly`, `yearly`) or a length."""
    if isinstance(value, str) and value.strip() in NAMED_CADENCES:
        return NAMED_CADENCES[value.strip()]
    try:
        return parse_duration(value, where)
    except FreshnessConfigError:
        names = ", ".join(NAMED_CADENCES)
        raise FreshnessConfigError(
            f"{where}: {value!r} is no cadence: use {names} or a length such as '10 days'"
        ) from None


def _mapping(value: object, where: str, allowed: Collection[str] | None = None) -> dict:
    if not isinstance(value, dict):
        raise FreshnessConfigError(f"{where}: expected a mapping, found {value!r}")
    unknown = sorted(str(key) for key in value if allowed is not None and key not in allowed)
    if unknown:
        raise FreshnessConfigError(
            f"{where}: unknown key {unknown[0]!r} (expected {', '.join(sorted(allowed or ()))})"
        )
    return value


def _cadence(entry: Mapping[str, Any], where: str, base: Cadence | None = None) -> Cadence:
    """A cadence from an entry's settings; those it leaves out come from `base`."""
    missing = [key for key in ("cadence", "grace") if key not in entry]
    if base is None and missing:
        raise FreshnessConfigError(f"{where}: `{missing[0]}` is missing")
    inherited = base or Cadence(timedelta(0), timedelta(0))
    every = inherited.every
    if "cadence" in entry:
        every = parse_cadence(entry["cadence"], f"{where}.cadence")
    grace = parse_duration(entry["grace"], f"{where}.grace") if "grace" in entry else None
    warn = parse_duration(entry["warn"], f"{where}.warn") if "warn" in entry else None
    return _valid(Cadence(every, grace or inherited.grace, warn or inherited.warn), where)


def _valid(cadence: Cadence, where: str) -> Cadence:
    if cadence.grace < _SHORTEST:
        raise FreshnessConfigError(f"{where}.grace: at least 1 minute")
    if cadence.warn is not None and cadence.warn >= cadence.grace:
        raise FreshnessConfigError(
            f"{where}.warn: {_human(cadence.warn)} must be shorter than grace "
            f"({_human(cadence.grace)})"
        )
    return cadence


def _ward_cadences(
    entry: Mapping[str, Any], base: Cadence, where: str, ward_codes: Collection[str]
) -> dict[str, Cadence]:
    """A dataset's per-ward overrides, keyed by ward code."""
    overrides: dict[str, Cadence] = {}
    for key, settings in _mapping(entry.get("wards") or {}, f"{where}.wards").items():
        code = str(key)
        if code not in ward_codes:
            raise FreshnessConfigError(
                f"{where}.wards.{code}: not a configured ward code (the municipality list); "
                'write codes quoted, e.g. "131016"'
            )
        here = f"{where}.wards.{code}"
        overrides[code] = _cadence(_mapping(settings, here, _SETTINGS), here, base)
    return overrides


def _table(key: object, source: Path) -> str:
    """`hr/staff` -> `hr_staff`, the raw table the dataset loads into."""
    if not isinstance(key, str) or not _DATASET_KEY.match(key):
        raise FreshnessConfigError(
            f"{source}: datasets.{key}: a dataset is named `<system>/<dataset>`, e.g. hr/staff"
        )
    return key.replace("/", "_", 1)


def parse_freshness(document: object, source: Path, ward_codes: Collection[str]) -> FreshnessConfig:
    """Validate the parsed freshness file and build its cadences.

    Raises:
        FreshnessConfigError: a missing, unknown or unreadable key, named with the file.
    """
    top = _mapping(document, str(source), {"datasets"})
    datasets: dict[str, Cadence] = {}
    wards: dict[str, dict[str, Cadence]] = {}
    for key, entry in _mapping(top.get("datasets"), f"{source}: datasets").items():
        table = _table(key, source)
        where = f"{source}: datasets.{key}"
        settings = _mapping(entry, where, _SETTINGS | {"wards"})
        datasets[table] = _cadence(settings, where)
        overrides = _ward_cadences(settings, datasets[table], where, ward_codes)
        if overrides:
            wards[table] = overrides
    return FreshnessConfig(source, datasets, wards)


def load_freshness(path: Path = FRESHNESS_FILE) -> FreshnessConfig:
    """Read and validate a freshness file.

    Raises:
        FreshnessConfigError: the file is missing, is not YAML, or holds a bad value.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FreshnessConfigError(f"{path}: cannot be read: {error}") from None
    return parse_freshness(document, path, {ward.code for ward in load_wards()})


@cache
def configured() -> FreshnessConfig:
    """The cadences of `orchestration/freshness.yaml`, read once per process."""
    return load_freshness()


def freshness_policy(table: str) -> dg.FreshnessPolicy:
    """The Dagster freshness policy of a raw asset, from its dataset's configured cadence."""
    return configured().cadence(table).policy()


def cadence(table: str, ward_code: str) -> Cadence:
    """The configured cadence of one ward's exports of a dataset."""
    return configured().cadence(table, ward_code)


# Wards that are late -----------------------------------------------------------------------


@dataclass(frozen=True)
class LateWard:
    """A ward whose newest export of a dataset is overdue, or that never sent one.

    Attributes:
        ward_code: The ward.
        cadence: The ward's cadence for the dataset.
        last: Its newest export received, None if none ever was.
    """

    ward_code: str
    cadence: Cadence
    last: Receipt | None


@dataclass(frozen=True)
class WardFreshness:
    """Which wards are late with one dataset at one moment.

    Attributes:
        table: The dataset's raw table.
        evaluated_at: The moment (UTC) ages were measured at.
        wards_checked: How many wards were looked at.
        late: The late wards, by ward code.
    """

    table: str
    evaluated_at: datetime
    wards_checked: int
    late: tuple[LateWard, ...]

    @property
    def overdue(self) -> list[str]:
        """Wards whose newest export is older than their cadence plus grace."""
        return [ward.ward_code for ward in self.late if ward.last is not None]

    @property
    def never_heard(self) -> list[str]:
        """Wards that never sent an export of the dataset."""
        return [ward.ward_code for ward in self.late if ward.last is None]


def utc_now() -> datetime:
    """The current moment, timezone-aware in UTC (the ledger's clock)."""
    return datetime.now(UTC)


def ward_freshness(
    table: str,
    receipts: Mapping[tuple[str, str], Receipt],
    ward_codes: Collection[str],
    config: FreshnessConfig,
    now: datetime,
) -> WardFreshness:
    """Tell which wards are late with a dataset.

    Args:
        table: The dataset's raw table, e.g. `hr_staff`.
        receipts: The newest export received per (table, ward), as `Ledger.latest_receipts`.
        ward_codes: The wards expected to send it.
        config: The cadences.
        now: The moment to measure ages at (timezone-aware).
    """
    late = []
    for code in sorted(ward_codes):
        ward_cadence = config.cadence(table, code)
        last = receipts.get((table, code))
        if last is None or now - last.first_seen > ward_cadence.overdue_after:
            late.append(LateWard(code, ward_cadence, last))
    return WardFreshness(table, now, len(ward_codes), tuple(late))


def _human(length: timedelta) -> str:
    """`7 days`, `1 day 12 hours`, `30 minutes`."""
    hours, seconds = divmod(int(length.total_seconds()) - length.days * 86400, 3600)
    parts = [(length.days, "day"), (hours, "hour"), (seconds // 60, "minute")]
    text = " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)
    return text or "0 minutes"
