"""The municipalities the warehouse serves (reference data shared with dbt as a seed)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

WARDS_CSV = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "wards.csv"


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
