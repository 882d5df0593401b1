"""The sample generator: deterministic, named and encoded as sources.md says."""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest

from ingestion.common.landing import parse_landing_path
from ingestion.common.text import decode_export
from sampledata.generate import (
    PROPOSAL_HEADER,
    STAFF_HEADER,
    GeneratorConfig,
    generate,
    parse_range,
    parse_wards,
)
from sampledata.world import FREE_TEXT_MARKERS, KANA, PERSONAL_TEXT_PROBES, SURNAMES

WARDS = ["131016", "131024"]
# The headers of sources.md's tables, as exported.
NEW_HEADERS = {
    ("hr", "skill_assessment"): ["職員番号", "評価年月日", "スキル項目コード", "レベル"],
    ("hr", "dx_leader_certification"): ["職員番号", "認定番号", "認定年月日", "失効年月日"],
    ("hr", "external_specialist"): [
        "契約番号",
        "職員番号",
        "職名",
        "任期開始日",
        "任期終了日",
        "契約区分",
    ],
    ("hr", "personnel_exchange"): [
        "交流番号",
        "職員番号",
        "交流先区分",
        "交流先名",
        "開始日",
        "終了日",
    ],
    ("hr", "hr_regulation"): ["規程番号", "規程名", "規程区分", "施行日", "廃止日"],
    ("dx_office", "dx_project"): [
        "事業番号",
        "事業名",
        "所管所属コード",
        "リーダー職員番号",
        "開始日",
        "終了日",
        "状態",
        "外部人材助言",
        "削減効果額(年額)",
    ],
    ("dx_office", "bpr_measurement"): [
        "業務コード",
        "業務名",
        "計測区分",
        "計測日",
        "処理時間(分/件)",
        "年間件数",
    ],
    ("dx_office", "system_migration"): ["業務番号", "業務名", "移行状態", "移行完了日"],
    ("surveys", "staff_survey"): [
        "回答ID",
        "回答日",
        "所属部コード",
        "職層区分",
        "デジタル業務環境満足度",
        "自由記述",
    ],
    ("surveys", "procedure_survey"): ["回答ID", "手続コード", "手続名", "回答日時", "満足度"],
}
# Columns never read into the warehouse, whose every cell names a person or is marked.
PERSONAL_COLUMNS = {
    "氏名": SURNAMES,
    "氏名カナ": KANA,
    "自由記述": SURNAMES + FREE_TEXT_MARKERS,
    "事業名": SURNAMES + FREE_TEXT_MARKERS,
    "件名": SURNAMES + FREE_TEXT_MARKERS,
}


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
    assert encodings["surveys"] == {"utf-8-sig"}
    # The project register comes as CP932 from one ward and UTF-16 from the other.
    assert encodings["dx_office"] == {"cp932", "utf-16"}
    staff = [p for p in exports if parse_landing_path(p).dataset == "staff"]
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


def _tables(out: Path) -> dict[tuple[str, str], list[tuple[Path, str, list[list[str]]]]]:
    """Every export by (system, dataset): its path, encoding and CSV records."""
    tables = defaultdict(list)
    for path in sorted((out / "landing").rglob("*.csv")):
        export = parse_landing_path(path)
        text, encoding = decode_export(path.read_bytes())
        records = list(csv.reader(io.StringIO(text, newline="")))
        tables[(export.system, export.dataset)].append((path, encoding, records))
    return tables


def _header_and_rows(records: list[list[str]], header: list[str]) -> list[dict[str, str]]:
    start = records.index(header)  # a title row and a blank line may come first
    return [dict(zip(header, r, strict=True)) for r in records[start + 1 :] if any(r)]


def test_every_new_dataset_is_exported_with_the_headers_of_sources_md(
    sample: tuple[Path, dict[str, str]],
) -> None:
    out, _ = sample
    tables = _tables(out)
    for (system, dataset), header in NEW_HEADERS.items():
        exports = tables[(system, dataset)]
        wards = {parse_landing_path(path).ward_code for path, _, _ in exports}
        assert wards == set(WARDS), (system, dataset)
        for path, encoding, records in exports:
            assert header in records[:3], path.name
            expected = {"hr": {"cp932"}, "surveys": {"utf-8-sig"}}.get(system, {"cp932", "utf-16"})
            assert encoding in expected, path.name


def test_registers_are_exported_after_each_year_closes(sample: tuple[Path, dict[str, str]]) -> None:
    out, _ = sample
    tables = _tables(out)
    for dataset in ("dx_leader_certification", "external_specialist", "hr_regulation"):
        days = sorted(
            parse_landing_path(p).reference_date.isoformat() for p, _, _ in tables[("hr", dataset)]
        )
        assert days == sorted(["2025-05-01", "2026-05-01"] * len(WARDS)), dataset
    migration = [p for p, _, _ in tables[("dx_office", "system_migration")]]
    assert len(migration) == len(WARDS) * 2 * 2  # on October 1 and at each close
    for path, _, records in tables[("dx_office", "system_migration")]:
        rows = _header_and_rows(records, NEW_HEADERS[("dx_office", "system_migration")])
        assert [unicodedata.normalize("NFKC", r["業務番号"]) for r in rows] == [
            f"{n:02d}" for n in range(1, 21)
        ], path.name


def test_names_and_free_text_cells_name_a_person_or_are_marked(
    sample: tuple[Path, dict[str, str]],
) -> None:
    out, _ = sample
    headers = {
        ("hr", "staff"): STAFF_HEADER,
        ("proposals", "proposal"): PROPOSAL_HEADER,
        ("dx_office", "dx_project"): NEW_HEADERS[("dx_office", "dx_project")],
        ("surveys", "staff_survey"): NEW_HEADERS[("surveys", "staff_survey")],
    }
    tables = _tables(out)
    checked: dict[str, int] = defaultdict(int)
    for table, header in headers.items():
        for _, _, records in tables[table]:
            for row in _header_and_rows(records, header):
                for column, probes in PERSONAL_COLUMNS.items():
                    cell = row.get(column, "")
                    if cell:
                        assert any(probe in cell for probe in probes), (table, column, cell)
                        checked[column] += 1
    assert set(checked) == set(PERSONAL_COLUMNS)


def test_text_the_warehouse_keeps_names_no_person(sample: tuple[Path, dict[str, str]]) -> None:
    out, _ = sample
    kept = {
        ("hr", "personnel_exchange"): ["交流先名", "交流先区分"],
        ("hr", "hr_regulation"): ["規程名", "規程区分"],
        ("hr", "external_specialist"): ["職名"],
        ("dx_office", "bpr_measurement"): ["業務名"],
        ("dx_office", "system_migration"): ["業務名"],
        ("surveys", "staff_survey"): ["職層区分"],
        ("surveys", "procedure_survey"): ["手続名"],
    }
    tables = _tables(out)
    for table, columns in kept.items():
        for _, _, records in tables[table]:
            for row in _header_and_rows(records, NEW_HEADERS[table]):
                for column in columns:
                    assert not [p for p in PERSONAL_TEXT_PROBES if p in row[column]], row[column]


def test_truth_has_every_indicator_per_ward_and_year(sample: tuple[Path, dict[str, str]]) -> None:
    out, _ = sample
    with (out / "truth" / "kpi_values.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["ward_code", "fiscal_year", "indicator_id", "value"]
    per_ward_year = defaultdict(list)
    for row in rows:
        per_ward_year[(row["ward_code"], row["fiscal_year"])].append(row["indicator_id"])
    assert set(per_ward_year) == {(w, y) for w in WARDS for y in ("2024", "2025")}
    for indicators in per_ward_year.values():
        assert len(indicators) == len(set(indicators)) == 20
        assert "ctx_open_datasets" in indicators
    # The second ward sends personnel-exchange exports with no row: zero, not null.
    exchanges = {
        r["ward_code"]: r["value"]
        for r in rows
        if r["indicator_id"] == "m3_kpi_private_sector_exchanges"
    }
    assert exchanges[WARDS[1]] == "0"


def test_dirty_rows_of_the_new_datasets_are_counted(sample: tuple[Path, dict[str, str]]) -> None:
    out, files = sample
    with (out / "truth" / "dirty_rows.csv").open(encoding="utf-8") as handle:
        dirty = {r["source_file"]: int(r["dirty_rows"]) for r in csv.DictReader(handle)}
    assert set(dirty) == {
        name.removeprefix("landing/") for name in files if name.startswith("landing/")
    }
    counted = defaultdict(int)
    for name, count in dirty.items():
        counted[parse_landing_path(out / "landing" / name).dataset] += count
    assert counted["skill_assessment"] > 0


def test_argument_parsers() -> None:
    assert parse_range("1000-5000") == (1000, 5000)
    assert parse_range("50") == (50, 50)
    assert parse_wards("2") == ["131016", "131024"]
    assert len(parse_wards("all")) == 23
