"""The landing zone: `landing/<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv`."""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ingestion.common.problems import ExportError

# [0-9], not \d: \d also matches full-width digits, which are no part of a valid name.
_FILE_NAME = re.compile(r"^([0-9]{6})_([a-z_]+)_([0-9]{8})\.csv$")


def ward_code_check_digit(first_five: str) -> int:
    """Return the check digit of a 全国地方公共団体コード from its first five digits."""
    weighted = sum(
        weight * int(digit) for weight, digit in zip((6, 5, 4, 3, 2), first_five, strict=True)
    )
    return (11 - weighted % 11) % 10


def is_valid_ward_code(code: str) -> bool:
    """Tell whether `code` is six digits whose last one is the right check digit."""
    return bool(re.fullmatch(r"[0-9]{6}", code)) and ward_code_check_digit(code[:5]) == int(code[5])


@dataclass(frozen=True)
class LandingFile:
    """An export in the landing zone, named by ward, dataset and reference date (基準日)."""

    path: Path
    system: str
    ward_code: str
    dataset: str
    reference_date: date

    @property
    def table(self) -> str:
        """The raw table this export loads into, e.g. `hr_staff`."""
        return f"{self.system}_{self.dataset}"

    @property
    def name(self) -> str:
        """The path relative to the landing zone, as recorded on every raw row."""
        return f"{self.system}/{self.path.name}"


def parse_landing_path(path: Path) -> LandingFile:
    """Read ward, dataset and reference date from an export's path.

    Raises:
        ExportError: the name does not follow the convention, the ward code's check digit is
            wrong, or the date is not a calendar day.
    """
    match = _FILE_NAME.match(path.name)
    if not match:
        raise ExportError(f"{path.name}: expected <ward_code>_<dataset>_<YYYYMMDD>.csv")
    ward_code, dataset, stamp = match.groups()
    if not is_valid_ward_code(ward_code):
        raise ExportError(f"{path.name}: ward code {ward_code} has a wrong check digit")
    try:
        reference_date = datetime.strptime(stamp, "%Y%m%d").date()
    except ValueError:
        raise ExportError(f"{path.name}: {stamp} is not a date") from None
    return LandingFile(path, path.parent.name, ward_code, dataset, reference_date)


def table_of(path: str) -> str:
    """`hr/131016_staff_20250401.csv` -> `hr_staff`: the raw table of an export's path
    (relative to the landing zone), for a path already classified as an export."""
    system, name = path.split("/", 1)
    return f"{system}_{name.split('_', 1)[1].rsplit('_', 1)[0]}"


def is_complete(path: Path, settle_seconds: float, now: float | None = None) -> bool:
    """Tell whether an export has been fully written.

    A copy over SMB/SFTP may still be in progress when a file is first seen: the file is
    complete when a sibling `<name>.done` marker exists, or when it has not been modified for
    `settle_seconds`.
    """
    if path.with_name(path.name + ".done").exists():
        return True
    current = time.time() if now is None else now
    return current - path.stat().st_mtime >= settle_seconds


@dataclass(frozen=True)
class Unrecognised:
    """A landing file that no contract reads, and why: it is reported, never loaded."""

    path: Path
    reason: str


@dataclass
class LandingSurvey:
    """The landing zone at one moment: complete exports, files not recognised, files settling."""

    exports: list[LandingFile] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    settling: list[Path] = field(default_factory=list)

    def exports_of(self, system: str, dataset: str) -> list[Path]:
        """The complete exports of one dataset, oldest reference date first, then by name."""
        found = [e for e in self.exports if (e.system, e.dataset) == (system, dataset)]
        return [e.path for e in sorted(found, key=lambda e: (e.reference_date, e.path.name))]


# Loose enough to say what is wrong with a name that is nearly right.
_LOOSE_NAME = re.compile(r"^([^_]+)_(.+)_([^_.]+)\.([^.]+)$")


def classify(
    path: Path, datasets: Mapping[str, Collection[str]], ward_codes: Collection[str]
) -> LandingFile | Unrecognised:
    """Tell which export a file of `<landing>/<system>/` is, or why it is none.

    Args:
        path: The file, inside its system folder.
        datasets: The datasets each source system exports, by system folder.
        ward_codes: The configured wards; a valid code outside them is not recognised.
    """
    system = path.parent.name
    if system not in datasets:
        known = ", ".join(sorted(datasets))
        return Unrecognised(path, f"folder {system}/ is no source system ({known})")
    loose = _LOOSE_NAME.match(path.name)
    if loose and loose.group(4) != "csv":
        return Unrecognised(path, f"extension .{loose.group(4)}: exports are .csv files")
    if loose and loose.group(2) not in datasets[system]:
        return Unrecognised(path, _dataset_reason(system, loose.group(2), datasets))
    try:
        export = parse_landing_path(path)
    except ExportError as error:
        return Unrecognised(path, str(error))
    if export.ward_code not in ward_codes:
        return Unrecognised(
            path, f"ward code {export.ward_code} is not a configured ward (the municipality list)"
        )
    return export


def _dataset_reason(system: str, dataset: str, datasets: Mapping[str, Collection[str]]) -> str:
    owners = [other for other, names in datasets.items() if dataset in names]
    if owners:
        return f"dataset {dataset} belongs in {owners[0]}/, not {system}/"
    return f"dataset {dataset} is not an export of {system} ({', '.join(sorted(datasets[system]))})"


def survey_landing_zone(
    landing: Path,
    datasets: Mapping[str, Collection[str]],
    ward_codes: Collection[str],
    settle_seconds: float,
    now: float | None = None,
) -> LandingSurvey:
    """Sort every file of the landing zone into complete exports, unrecognised and settling.

    `.done` markers are not files of their own. A file is judged only once complete (see
    `is_complete`), so a copy in progress is never reported as wrong.
    """
    survey = LandingSurvey()
    if not landing.is_dir():
        return survey
    for entry in sorted(landing.iterdir()):
        if entry.is_file():
            _sort_file(survey, entry, settle_seconds, now, None)
        elif entry.is_dir():
            for path in sorted(entry.iterdir()):
                if path.is_file():
                    _sort_file(survey, path, settle_seconds, now, (datasets, ward_codes))
    return survey


def _sort_file(
    survey: LandingSurvey,
    path: Path,
    settle_seconds: float,
    now: float | None,
    rules: tuple[Mapping[str, Collection[str]], Collection[str]] | None,
) -> None:
    if path.name.endswith(".done"):
        return
    try:
        complete = is_complete(path, settle_seconds, now)
    except FileNotFoundError:
        return  # moved away while we looked
    if not complete:
        survey.settling.append(path)
    elif rules is None:
        survey.unrecognised.append(Unrecognised(path, "not inside a source-system folder"))
    else:
        found = classify(path, *rules)
        if isinstance(found, Unrecognised):
            survey.unrecognised.append(found)
        else:
            survey.exports.append(found)
