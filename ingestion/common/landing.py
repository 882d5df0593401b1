"""The landing zone: `landing/<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv`."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
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


def list_exports(landing: Path, system: str, dataset: str) -> list[Path]:
    """List the exports of one dataset, oldest reference date first, then by name."""
    folder = landing / system
    if not folder.is_dir():
        return []
    paths = [p for p in folder.glob("*.csv") if _dataset_of(p.name) == dataset]
    return sorted(paths, key=lambda p: (p.name.rsplit("_", 1)[1], p.name))


def _dataset_of(file_name: str) -> str | None:
    match = _FILE_NAME.match(file_name)
    return match.group(2) if match else None


def list_unrecognised(landing: Path, system: str) -> list[Path]:
    """List the files of a system's folder that no export name matches (never loaded)."""
    folder = landing / system
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.endswith(".done") and not _FILE_NAME.match(p.name)
    )
