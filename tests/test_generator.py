"""The sample generator: deterministic, named and encoded as sources.md says."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from ingestion.common.landing import parse_landing_path
from ingestion.common.text import decode_export
from sampledata.generate import GeneratorConfig, generate, parse_range, parse_wards

WARDS = ["131016", "131024"]


def run(out: Path, seed: int = 5) -> dict[str, str]:
    generate(GeneratorConfig(out, WARDS, (20, 30), [2024, 2025], seed, dirty_share=0.02))
    return {
        str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("sample")
    return out, run(out)


def test_same_arguments_give_the_same_bytes(
    sample: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    assert run(tmp_path) == sample[1]


def test_another_seed_gives_other_data(sample: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    assert run(tmp_path, seed=6) != sample[1]


def test_exports_are_named_and_encoded_as_the_source_systems_do(
    sample: tuple[Path, dict[str, str]],
) -> None:
    out, files = sample
    exports = [out / name for name in files if name.startswith("landing/")]
    encodings: dict[str, set[str]] = {}
    for path in exports:
        export = parse_landing_path(path)
        assert export.ward_code in WARDS
        encodings.setdefault(export.system, set()).add(decode_export(path.read_bytes())[1])
    assert encodings["hr"] == {"cp932"} and encodings["training"] == {"cp932"}
    assert encodings["proposals"] == {"utf-8-sig", "utf-16"}
    staff = [p for p in exports if "_staff_" in p.name]
    assert len(staff) == len(WARDS) * 24  # monthly snapshots over two fiscal years


def test_exports_carry_the_real_difficulties(sample: tuple[Path, dict[str, str]]) -> None:
    out, files = sample
    text = "".join(
        decode_export((out / name).read_bytes())[0] for name in files if name.startswith("landing/")
    )
    for spelling in ("令和", "平成", "R6.", "年度", "会計年度任用", "\r\n", "・"):
        assert spelling in text, spelling
    assert any("０" <= ch <= "９" for ch in text)  # full-width digits


def test_truth_covers_every_ward_and_year(sample: tuple[Path, dict[str, str]]) -> None:
    out, _ = sample
    with (out / "truth" / "kpi_inputs.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["in_generated_years"] == "True"]
    assert {(r["ward_code"], r["fiscal_year"]) for r in rows} == {
        (w, y) for w in WARDS for y in ("2024", "2025")
    }
    assert all(0 < int(r["completed_all_mandatory"]) <= int(r["population"]) for r in rows)


def test_argument_parsers() -> None:
    assert parse_range("1000-5000") == (1000, 5000)
    assert parse_range("50") == (50, 50)
    assert parse_wards("2") == ["131016", "131024"]
    assert len(parse_wards("all")) == 23
