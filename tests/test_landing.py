from __future__ import annotations

import csv
import os
from datetime import date
from pathlib import Path

import pytest

from expectations.suites import GRADES
from ingestion.common.landing import (
    is_complete,
    is_valid_ward_code,
    parse_landing_path,
    survey_landing_zone,
)
from ingestion.common.problems import ExportError
from ingestion.common.pseudonym import MissingKeyError, Pseudonymiser
from ingestion.common.reference import GRADE_LEVELS_CSV, WARDS_CSV, load_grade_names
from ingestion.registry import DATASETS_BY_SYSTEM

WARDS = {"131016", "131024", "131083"}


def test_every_ward_code_has_a_valid_check_digit() -> None:
    with WARDS_CSV.open(encoding="utf-8") as handle:
        codes = [row["ward_code"] for row in csv.DictReader(handle)]
    assert len(codes) == 23
    assert all(is_valid_ward_code(code) for code in codes)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("131017", id="wrong-check-digit"),
        pytest.param("13101", id="five-digits"),
        pytest.param("13101a", id="letter"),
    ],
)
def test_invalid_ward_codes(code: str) -> None:
    assert not is_valid_ward_code(code)


def test_parse_landing_path() -> None:
    export = parse_landing_path(Path("landing/hr/131083_staff_20250401.csv"))
    assert (export.system, export.ward_code, export.dataset) == ("hr", "131083", "staff")
    assert export.reference_date == date(2025, 4, 1)
    assert export.table == "hr_staff"
    assert export.name == "hr/131083_staff_20250401.csv"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("131084_staff_20250401.csv", "check digit", id="check-digit"),
        pytest.param("131083_staff_20250231.csv", "not a date", id="no-such-day"),
        pytest.param("staff_20250401.csv", "expected", id="no-ward"),
        pytest.param("131083_staff_20250401.xlsx", "expected", id="not-csv"),
    ],
)
def test_parse_landing_path_refuses_bad_names(name: str, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        parse_landing_path(Path("landing/hr") / name)


def test_survey_lists_a_dataset_by_reference_date_and_ignores_markers(tmp_path: Path) -> None:
    folder = tmp_path / "training"
    folder.mkdir()
    for name in (
        "131016_enrollment_20251001.csv",
        "131024_enrollment_20250401.csv",
        "131016_course_20250401.csv",
        "131016_enrollment_20251001.csv.done",
    ):
        (folder / name).write_text("x")
    survey = survey_landing_zone(tmp_path, DATASETS_BY_SYSTEM, WARDS, settle_seconds=0)
    found = [p.name for p in survey.exports_of("training", "enrollment")]
    assert found == ["131024_enrollment_20250401.csv", "131016_enrollment_20251001.csv"]
    assert survey.unrecognised == [] and survey.settling == []


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        pytest.param("hr/131016_staff_20250401 (1).csv", "expected", id="copy-suffix"),
        pytest.param("hr/staff.CSV", "expected", id="no-ward"),
        pytest.param("hr/131016_staff_20250401.xlsx", "extension .xlsx", id="extension"),
        pytest.param("hr/131016_salary_20250401.csv", "not an export of hr", id="dataset"),
        pytest.param("hr/131016_course_20250401.csv", "belongs in training/", id="wrong-folder"),
        pytest.param("hr/131017_staff_20250401.csv", "check digit", id="check-digit"),
        pytest.param("hr/131091_staff_20250401.csv", "not a configured ward", id="ward"),
        pytest.param("payroll/131016_staff_20250401.csv", "no source system", id="system"),
        pytest.param("131016_staff_20250401.csv", "not inside", id="root"),
    ],
)
def test_survey_says_why_a_file_is_not_recognised(
    tmp_path: Path, relative: str, reason: str
) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    survey = survey_landing_zone(tmp_path, DATASETS_BY_SYSTEM, WARDS, settle_seconds=0)
    assert survey.exports == []
    [stray] = survey.unrecognised
    assert stray.path == path and reason in stray.reason


def test_survey_judges_a_file_only_once_it_settled(tmp_path: Path) -> None:
    path = tmp_path / "hr" / "notes.txt"
    path.parent.mkdir()
    path.write_text("x")
    now = path.stat().st_mtime + 1
    survey = survey_landing_zone(tmp_path, DATASETS_BY_SYSTEM, WARDS, 30, now=now)
    assert survey.settling == [path] and survey.unrecognised == []


def test_is_complete_by_marker_or_settled_mtime(tmp_path: Path) -> None:
    path = tmp_path / "131016_staff_20250401.csv"
    path.write_text("x")
    now = path.stat().st_mtime + 5
    assert not is_complete(path, settle_seconds=30, now=now)
    assert is_complete(path, settle_seconds=3, now=now)
    path.with_name(path.name + ".done").write_text("")
    assert is_complete(path, settle_seconds=30, now=now)


def test_pseudonyms_are_keyed_and_scoped_per_ward() -> None:
    first, second = Pseudonymiser(b"key-number-one"), Pseudonymiser(b"key-number-two")
    assert first.pseudonym("131016", "001234") == first.pseudonym("131016", "００１２３４")
    assert first.pseudonym("131016", "001234") != second.pseudonym("131016", "001234")
    assert first.pseudonym("131016", "001234") != first.pseudonym("131024", "001234")
    assert "001234" not in first.pseudonym("131016", "001234")


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DXKPI_PSEUDONYM_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="DXKPI_PSEUDONYM_KEY"):
        Pseudonymiser.from_environment()
    assert os.environ.get("DXKPI_PSEUDONYM_KEY") is None


def test_grade_names_come_from_the_reference_seed_in_rank_order(tmp_path: Path) -> None:
    seed = tmp_path / "grade_levels.csv"
    seed.write_text(
        GRADE_LEVELS_CSV.read_text(encoding="utf-8") + "課長代理,4,true\n", encoding="utf-8"
    )
    grades = load_grade_names(seed)
    assert grades[0] == "係員" and grades[-1] == "部長級"
    assert "課長代理" in grades
    assert load_grade_names() == GRADES  # the HR suite's value set is the seed's
