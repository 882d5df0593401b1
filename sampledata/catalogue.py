"""A deterministic sample of a CKAN open-data catalogue for the municipality list in force
(Tokyo's 23 special wards by default).

Each ward is a CKAN organisation named ``t<ward_code>`` (港区 = ``t131032``). The package dicts
have the shape CKAN 2.10 answers in ``package_show`` / ``package_search``. Besides the active
public datasets, every ward also gets a few private, deleted and draft packages: they are in the
catalogue but must not be counted as published datasets.

Only ``random.Random(seed)`` drives the choices, so the same arguments always give the same
catalogue (and the same JSON file).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ingestion.common.reference import WARDS_CSV, load_wards

# The ward list has one home, the wards seed of the dbt project: these are its 23 wards, and
# an organisation's title comes from the list in force (DXKPI_MUNICIPALITIES_DIR) when drawn.
WARD_NAMES: dict[str, str] = {ward.code: ward.name_ja for ward in load_wards(WARDS_CSV)}
TOKYO_WARD_CODES: list[str] = list(WARD_NAMES)
DEFAULT_PACKAGES_PER_WARD: tuple[int, int] = (98, 567)

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
CATALOGUE_START = datetime(2016, 4, 1)
CATALOGUE_END = datetime(2025, 12, 1)
SITE_URL = "https://catalog.example.tokyo"

TOPICS: list[str] = [
    "人口統計",
    "世帯数",
    "AED設置場所",
    "避難所一覧",
    "公衆トイレ",
    "保育施設一覧",
    "図書館一覧",
    "子育て支援施設",
    "指定緊急避難場所",
    "文化財一覧",
    "公園一覧",
    "介護サービス事業所",
    "医療機関一覧",
    "観光施設",
    "ごみ収集日",
    "地域・年齢別人口",
    "オープンデータ推奨データセット",
    "区議会会議録",
    "予算・決算",
    "イベント情報",
]
TAG_NAMES: list[str] = [
    "人口",
    "防災",
    "子育て",
    "観光",
    "環境",
    "施設",
    "統計",
    "財政",
    "健康",
    "交通",
    "福祉",
    "教育",
]
RESOURCE_FORMATS: dict[str, str] = {
    "CSV": "text/csv",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "PDF": "application/pdf",
    "JSON": "application/json",
    "ZIP": "application/zip",
}
HIDDEN_KIND_RANGES: dict[str, tuple[int, int]] = {
    "private": (1, 4),
    "deleted": (1, 3),
    "draft": (0, 2),
}
WARD_CODE_RE = re.compile(r"^\d{6}$")


def generate_catalogue(
    ward_codes: list[str],
    seed: int,
    packages_per_ward: tuple[int, int] = DEFAULT_PACKAGES_PER_WARD,
) -> list[dict[str, Any]]:
    """Generate the sample catalogue: CKAN package dicts for every ward.

    For each ward the number of active public packages is drawn uniformly in
    ``packages_per_ward``. With two or more wards, the ward with the highest draw is set to the
    upper bound and the one with the lowest draw to the lower bound, so the spread of the real
    catalogue (567 vs 98 datasets) is always reproduced. Each ward also gets a few private,
    deleted and draft packages, which do not count as published.

    Args:
        ward_codes: 6-digit ward codes (e.g. ``"131032"``), in the order to generate them.
        seed: Seed of the only random generator used.
        packages_per_ward: Inclusive (low, high) range of active public packages per ward.

    Returns:
        Package dicts, ward by ward, shaped like CKAN 2.10's ``package_show`` result.

    Raises:
        ValueError: On a malformed or repeated ward code, or an invalid range.
    """
    _check_ward_codes(ward_codes)
    low, high = _check_range(packages_per_ward)
    rng = random.Random(seed)
    active_counts = _draw_active_counts(rng, len(ward_codes), low, high)
    names = {ward.code: ward.name_ja for ward in load_wards()}
    packages: list[dict[str, Any]] = []
    for code, active in zip(ward_codes, active_counts, strict=True):
        packages.extend(_ward_packages(rng, code, names.get(code, code), active))
    return packages


def active_public_counts(packages: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Count the active public datasets per ward: the truth the KPI must reproduce.

    Every ward that owns at least one package (of any state) is a key, so a ward with only
    hidden packages shows 0.

    Args:
        packages: CKAN package dicts (as from ``generate_catalogue`` or ``read_catalogue``).

    Returns:
        Counts keyed by 6-digit ward code, sorted by code.
    """
    counts: dict[str, int] = {}
    for package in packages:
        code = ward_code_of(package)
        counts.setdefault(code, 0)
        if is_active_public(package):
            counts[code] += 1
    return dict(sorted(counts.items()))


def is_active_public(package: dict[str, Any]) -> bool:
    """Tell whether a package is published: state ``active`` and not private."""
    return package.get("state") == "active" and package.get("private") is False


def ward_code_of(package: dict[str, Any]) -> str:
    """Return the 6-digit ward code of a package's organisation (``t131032`` -> ``131032``)."""
    name = str((package.get("organization") or {}).get("name", ""))
    code = name.removeprefix("t")
    if not WARD_CODE_RE.match(code):
        raise ValueError(f"package {package.get('id')!r} has no ward organisation: {name!r}")
    return code


def write_catalogue(packages: list[dict[str, Any]], path: str | Path) -> Path:
    """Write packages as a UTF-8 JSON array, one package per line.

    Args:
        packages: CKAN package dicts.
        path: Target file; missing parent directories are created.

    Returns:
        The path written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join(json.dumps(p, ensure_ascii=False, sort_keys=True) for p in packages)
    target.write_text(f"[\n{lines}\n]\n" if packages else "[]\n", encoding="utf-8")
    return target


def read_catalogue(path: str | Path) -> list[dict[str, Any]]:
    """Read a catalogue written by ``write_catalogue``.

    Args:
        path: JSON file holding an array of package dicts.

    Returns:
        The package dicts.

    Raises:
        ValueError: When the file is not a JSON array of objects.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise ValueError(f"{path}: expected a JSON array of package objects")
    return data


def _check_ward_codes(ward_codes: list[str]) -> None:
    bad = [c for c in ward_codes if not isinstance(c, str) or not WARD_CODE_RE.match(c)]
    if bad:
        raise ValueError(f"ward codes must be 6-digit strings: {bad!r}")
    if len(set(ward_codes)) != len(ward_codes):
        raise ValueError("ward codes must not repeat")


def _check_range(packages_per_ward: tuple[int, int]) -> tuple[int, int]:
    low, high = packages_per_ward
    if not 0 <= low <= high:
        raise ValueError(f"packages_per_ward must satisfy 0 <= low <= high: {packages_per_ward}")
    return low, high


def _draw_active_counts(rng: random.Random, wards: int, low: int, high: int) -> list[int]:
    draws = [rng.randint(low, high) for _ in range(wards)]
    if wards >= 2:
        order = sorted(range(wards), key=lambda i: (draws[i], i))
        draws[order[0]] = low
        draws[order[-1]] = high
    return draws


def _ward_packages(rng: random.Random, code: str, name: str, active: int) -> list[dict[str, Any]]:
    organization = _organization(rng, code, name)
    kinds = ["public"] * active
    for kind, (low, high) in HIDDEN_KIND_RANGES.items():
        kinds.extend([kind] * rng.randint(low, high))
    rng.shuffle(kinds)
    return [_package(rng, organization, sequence, kind) for sequence, kind in enumerate(kinds, 1)]


def _organization(rng: random.Random, code: str, name: str) -> dict[str, Any]:
    return {
        "id": _uuid(rng),
        "name": f"t{code}",
        "title": name,
        "type": "organization",
        "description": f"{name}が公開するオープンデータ",
        "image_url": "",
        "created": _timestamp(CATALOGUE_START - timedelta(days=1)),
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
    }


def _package(
    rng: random.Random, organization: dict[str, Any], sequence: int, kind: str
) -> dict[str, Any]:
    package_id = _uuid(rng)
    name = f"{organization['name']}d{sequence:010d}"
    topic = rng.choice(TOPICS)
    created = _random_moment(rng, CATALOGUE_START, CATALOGUE_END)
    modified = _random_moment(rng, created, CATALOGUE_END)
    resources = _resources(rng, package_id, name, created, modified)
    tags = _tags(rng)
    return {
        "id": package_id,
        "name": name,
        "title": f"{organization['title']} {topic}",
        "notes": f"{organization['title']}の{topic}に関するデータです。",
        "type": "dataset",
        "state": "active" if kind in ("public", "private") else kind,
        "private": kind == "private",
        "owner_org": organization["id"],
        "organization": dict(organization),
        "metadata_created": _timestamp(created),
        "metadata_modified": _timestamp(modified),
        "license_id": "CC-BY-4.0",
        "license_title": "クリエイティブ・コモンズ 表示 4.0 国際",
        "isopen": True,
        "author": None,
        "maintainer": organization["title"],
        "url": "",
        "version": None,
        "num_resources": len(resources),
        "resources": resources,
        "num_tags": len(tags),
        "tags": tags,
        "groups": [],
        "extras": [],
    }


def _resources(
    rng: random.Random, package_id: str, name: str, created: datetime, modified: datetime
) -> list[dict[str, Any]]:
    resources = []
    for position in range(rng.randint(1, 4)):
        resource_id = _uuid(rng)
        fmt = rng.choice(list(RESOURCE_FORMATS))
        resources.append(
            {
                "id": resource_id,
                "package_id": package_id,
                "name": f"{name}-{position + 1}",
                "description": "",
                "format": fmt,
                "mimetype": RESOURCE_FORMATS[fmt],
                "url": f"{SITE_URL}/dataset/{name}/resource/{resource_id}/download/"
                f"data{position + 1}.{fmt.lower()}",
                "url_type": "upload",
                "size": rng.randint(1_000, 5_000_000),
                "position": position,
                "state": "active",
                "created": _timestamp(created),
                "last_modified": _timestamp(modified),
            }
        )
    return resources


def _tags(rng: random.Random) -> list[dict[str, Any]]:
    names = sorted(rng.sample(TAG_NAMES, rng.randint(1, 3)))
    return [
        {"id": _uuid(rng), "name": n, "display_name": n, "state": "active", "vocabulary_id": None}
        for n in names
    ]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _random_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = (end - start) // timedelta(microseconds=1)
    return start + timedelta(microseconds=rng.randint(0, span))


def _timestamp(moment: datetime) -> str:
    return moment.strftime(TIMESTAMP_FORMAT)
