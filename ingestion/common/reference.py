"""Reference data kept once, as dbt seeds, and read by Python too: wards and grades."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
WARDS_CSV = SEEDS_DIR / "wards.csv"
GRADE_LEVELS_CSV = SEEDS_DIR / "grade_levels.csv"


@dataclass(frozen=True)
class Ward:
    """A ward (特別区) with its 全国地方公共団体コード and CKAN organisation."""

    code: str
    name_ja: str
    name_en: str
    ckan_organization: str


def load_wards(path: Path = WARDS_CSV) -> list[Ward]:
    """Read the ward list, in code order."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    wards = [
        Ward(r["ward_code"], r["ward_name_ja"], r["ward_name_en"], r["ckan_organization"])
        for r in rows
    ]
    return sorted(wards, key=lambda ward: ward.code)


def load_grade_names(path: Path = GRADE_LEVELS_CSV) -> tuple[str, ...]:
    """The 職層 (grade) names the warehouse knows, lowest first.

    Wards name grades differently: a new name is added to the seed with its rank and whether
    it counts as 係長級 or above, and both the HR suite and the marts accept it.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["grade_rank"]))
    return tuple(row["grade"] for row in rows)
