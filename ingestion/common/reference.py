"""Reference data kept once, as dbt seeds, and read by Python too: wards and grades.

The ward list is the municipality list (the dbt seed `wards`): Tokyo's 23 special wards by
default, another list when `DXKPI_MUNICIPALITIES_DIR` names a folder holding its `wards.csv`.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT / "dbt_project" / "seeds"
GRADE_LEVELS_CSV = SEEDS_DIR / "grade_levels.csv"

# dbt_project.yml reads the same variable for the seed path of `wards`: keep the two in step.
MUNICIPALITIES_VARIABLE = "DXKPI_MUNICIPALITIES_DIR"
DEFAULT_MUNICIPALITIES_DIR = REPO_ROOT / "dbt_project" / "municipalities"
MUNICIPALITIES_FILE = "wards.csv"
# The committed 23-ward list, whatever the variable says.
WARDS_CSV = DEFAULT_MUNICIPALITIES_DIR / MUNICIPALITIES_FILE
MUNICIPALITIES_HEADER = ("ward_code", "ward_name_ja", "ward_name_en", "ckan_organization")


class MunicipalitiesError(ValueError):
    """The municipality folder cannot serve as the seed `wards`."""


@dataclass(frozen=True)
class Ward:
    """A ward (特別区) or other municipality with its 全国地方公共団体コード and CKAN
    organisation."""

    code: str
    name_ja: str
    name_en: str
    ckan_organization: str


def municipalities_dir() -> Path:
    """The folder of the municipality list: `DXKPI_MUNICIPALITIES_DIR`, else the 23 wards.

    The folder is given relative to the repository and must lie inside it (a symbolic link
    may lead elsewhere): dbt writes each seed's SQL to `target/run/` under the seed's own path,
    which for an absolute path is the CSV itself (dbt-core issues 7373 and 10886), and for a
    path far outside the repository a stray file beside the project.

    Raises:
        MunicipalitiesError: the variable is absolute or leaves the repository.
    """
    text = os.environ.get(MUNICIPALITIES_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MUNICIPALITIES_DIR
    root = REPO_ROOT
    if Path(text).is_absolute():
        raise MunicipalitiesError(
            f"{MUNICIPALITIES_VARIABLE}={text}: give the folder relative to the repository"
        )
    folder = Path(os.path.normpath(root / text))
    if folder == root or not folder.is_relative_to(root):
        raise MunicipalitiesError(
            f"{MUNICIPALITIES_VARIABLE}={text}: the folder must be inside the repository"
        )
    return folder


def municipalities_csv() -> Path:
    """The municipality list in force, checked to be the only CSV of its folder.

    Raises:
        MunicipalitiesError: the folder is refused (see `municipalities_dir`), has no
            `wards.csv`, or holds other CSV files (dbt would load each as a seed).
    """
    folder = municipalities_dir()
    found = sorted(path.relative_to(folder) for path in folder.rglob("*.csv"))
    if found != [Path(MUNICIPALITIES_FILE)]:
        listed = ", ".join(str(path) for path in found) or "no CSV"
        raise MunicipalitiesError(
            f"{folder} must hold {MUNICIPALITIES_FILE} and no other CSV, not: {listed}"
        )
    return folder / MUNICIPALITIES_FILE


def load_wards(path: Path | None = None) -> list[Ward]:
    """Read the municipality list in force (or the file at `path`), in code order."""
    with (path or municipalities_csv()).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    wards = [
        Ward(r["ward_code"], r["ward_name_ja"], r["ward_name_en"], r["ckan_organization"])
        for r in rows
    ]
    return sorted(wards, key=lambda ward: ward.code)


def write_wards(wards: list[Ward], folder: Path) -> Path:
    """Write a municipality list as `<folder>/wards.csv`, with the seed's header."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MUNICIPALITIES_FILE
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MUNICIPALITIES_HEADER)
        writer.writerows(
            (ward.code, ward.name_ja, ward.name_en, ward.ckan_organization) for ward in wards
        )
    return path


def load_grade_names(path: Path = GRADE_LEVELS_CSV) -> tuple[str, ...]:
    """The 職層 (grade) names the warehouse knows, lowest first.

    Wards name grades differently: a new name is added to the seed with its rank and whether
    it counts as 係長級 or above, and both the HR suite and the marts accept it.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["grade_rank"]))
    return tuple(row["grade"] for row in rows)
