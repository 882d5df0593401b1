"""`make bench`: the floor program against the generator's truth, and the harness's figures.

The pipeline itself is never run here (the end-to-end tests do that): the floor must compute
every indicator as the truth has it, and the harness must turn step events and stage times
into the table `make bench` prints.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ingestion.common.contract import Kind
from ingestion.common.dates import fiscal_year_of
from ingestion.hr.contract import STAFF
from orchestration.bench import cells, report
from orchestration.bench.floor import decode, find_header, read_column, run_floor
from orchestration.bench.floor_kpis import INDICATOR_IDS
from orchestration.bench.harness import (
    _arguments,
    compare,
    pipeline_stage,
    run_timeline,
    same_value,
    stages_of_runs,
    truth_values,
)
from orchestration.bench.report import BenchFigures, Comparison, RunFigures
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.generate import GeneratorConfig, generate

WARDS = ["131016", "131237"]  # the second never sends personnel exchanges (no data)
TODAY = datetime.now(UTC)


def _sample(data: Path, as_of: date | None) -> Path:
    generate(GeneratorConfig(data, WARDS, (30, 45), [2024, 2025], 5, 0.02, as_of))
    return data


@pytest.fixture(scope="module")
def closed_years(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sample(tmp_path_factory.mktemp("bench_closed"), None)


@pytest.fixture(scope="module")
def year_in_progress(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sample(tmp_path_factory.mktemp("bench_as_of"), date(2025, 11, 15))


def _mismatches(expected: dict, found: dict) -> dict:
    return {
        key: (value, found.get(key, "missing"))
        for key, value in expected.items()
        if key not in found or not same_value(value, found[key])
    }


def test_the_floor_computes_every_indicator_as_the_truth_has_it(closed_years: Path) -> None:
    # GIVEN a sample with dirty rows in its exports, WHEN the floor reads its landing zone
    result = run_floor(
        closed_years / "landing",
        closed_years / "floor.duckdb",
        catalogue_file=closed_years / "catalogue" / "packages.json",
        snapshot_date=(TODAY + timedelta(hours=9)).date(),
    )
    expected = truth_values(closed_years, TODAY)
    # THEN every value of the truth (19 indicators x 2 years, and the open datasets for the
    # generated years and today's snapshot) is the floor's
    assert len(expected) == len(WARDS) * (2 * 20 + 1)
    assert {indicator for _, _, indicator in expected} == set(INDICATOR_IDS)
    assert _mismatches(expected, result.values) == {}
    # and the values cover no-data cases (null) as well as numbers
    assert None in expected.values() and any(v for v in expected.values())


def test_the_floor_matches_the_truth_mid_year_through_the_catalogue_api(
    year_in_progress: Path,
) -> None:
    # GIVEN a sample cut on 2025-11-15 (FY2025 in progress), and the catalogue behind the
    # local CKAN server
    packages = read_catalogue(year_in_progress / "catalogue" / "packages.json")
    with CkanServer(packages) as server:
        # WHEN the floor snapshots the catalogue over HTTP
        result = run_floor(
            year_in_progress / "landing",
            year_in_progress / "floor.duckdb",
            ckan_url=server.base_url,
        )
    # THEN it matches the truth, and timed each dataset, the catalogue and the KPIs
    assert _mismatches(truth_values(year_in_progress, TODAY), result.values) == {}
    assert {"hr_staff", "opendata_package", "kpis"} <= set(result.seconds)
    assert result.rows["hr_staff"] > 0 and result.rows["opendata_package"] > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2025-04-01", date(2025, 4, 1), id="iso"),
        pytest.param("2025/4/1", date(2025, 4, 1), id="slashes"),
        pytest.param("２０２５/４/１", date(2025, 4, 1), id="full-width"),
        pytest.param("令和7年4月1日", date(2025, 4, 1), id="kanji"),
        pytest.param("令和元年5月1日", date(2019, 5, 1), id="first-year"),
        pytest.param("R7.4.1", date(2025, 4, 1), id="letter"),
        pytest.param("H31.4.30", date(2019, 4, 30), id="last-day-of-heisei"),
        pytest.param("", None, id="blank"),
        pytest.param("平成31年5月1日", cells.INVALID, id="after-its-era-ended"),
        pytest.param("令和元年4月1日", cells.INVALID, id="before-its-era-began"),
        pytest.param("令和6年2月30日", cells.INVALID, id="no-such-day"),
        pytest.param("不明", cells.INVALID, id="no-date"),
    ],
)
def test_dates_are_read_in_every_spelling(text: str, expected: object) -> None:
    found = cells.read_date(text)
    if expected is None:
        assert found == cells.BLANK_INT
    elif expected is cells.INVALID:
        assert found == cells.INVALID_INT
    else:
        assert found == (expected - date(1970, 1, 1)).days  # type: ignore[operator]


def test_staff_numbers_become_pseudonyms_per_ward_and_bad_ones_are_dropped() -> None:
    # GIVEN the same number twice (once full-width), in two wards, and a five-digit one
    pseudonyms = cells.Pseudonyms(b"a-test-key-for-the-bench")
    texts = np.array(["001001", "００１００１", "001001", "12345"], dtype=object)
    wards = np.array(["131016", "131016", "131024", "131016"], dtype=object)
    staff_id = next(c for c in STAFF.columns if c.kind is Kind.STAFF_ID)
    # WHEN the column is read
    read = read_column(staff_id, texts, wards, pseudonyms)
    # THEN one person has one pseudonym in a ward, another in another ward
    assert read.values[0] == read.values[1] != read.values[2]
    assert len(read.values[0]) == 32 and not read.values[0].isdigit()
    assert list(read.invalid) == [False, False, False, True]


def test_exports_are_decoded_and_their_header_found_under_a_title_row() -> None:
    text = "staff 出力（2025年04月01日現在）\r\n\r\n" + ",".join(c.header for c in STAFF.columns)
    for encoding in ("cp932", "utf-8-sig", "utf-16"):
        assert decode(text.encode(encoding)) == text
    offset, names = find_header(text + "\r\n001001,...", STAFF)  # type: ignore[misc]
    assert text[offset:].startswith("職員番号") and names[0] == "職員番号"


# -- the harness ---------------------------------------------------------------------------------


def test_steps_are_grouped_into_the_stages_of_the_table() -> None:
    assert pipeline_stage("raw__hr_staff") == "raw/hr_staff"
    assert pipeline_stage("raw__opendata_package") == report.CATALOGUE
    assert pipeline_stage("raw__hr_staff_ward_freshness") == report.CHECKS
    assert pipeline_stage("dxkpi_dbt_assets") == report.KPIS
    assert pipeline_stage("serving__kpi_marts") == report.PUBLICATION
    assert pipeline_stage("landing_zone") == "landing_zone"


def test_the_stages_of_a_process_add_up_to_its_wall_time() -> None:
    # GIVEN a process started at 100 s that made two runs and exited at 190 s
    first = run_timeline(
        [
            (110.0, "RUN_START", None),
            (111.0, "STEP_START", "raw__hr_staff"),
            (131.0, "STEP_SUCCESS", "raw__hr_staff"),
            (131.5, "STEP_START", "raw__hr_staff_ward_freshness"),
            (132.0, "STEP_SUCCESS", "raw__hr_staff_ward_freshness"),
            (133.0, "RUN_SUCCESS", None),
        ]
    )
    second = run_timeline(
        [
            (140.0, "RUN_START", None),
            (140.0, "STEP_START", "dxkpi_dbt_assets"),
            (170.0, "STEP_SUCCESS", "dxkpi_dbt_assets"),
            (171.0, "STEP_START", "serving__kpi_marts"),
            (181.0, "STEP_FAILURE", "serving__kpi_marts"),
            (182.0, "RUN_FAILURE", None),
        ]
    )
    # WHEN its stages are worked out
    stages = stages_of_runs([first, second], 100.0, 190.0)
    # THEN start-up is process start to the first run, and nothing is lost or counted twice
    assert stages[report.START_UP] == 10.0
    assert stages["raw/hr_staff"] == 20.0 and stages[report.KPIS] == 30.0
    assert stages[report.PUBLICATION] == 10.0 and stages[report.CHECKS] == 0.5
    assert stages[report.IN_RUNS] == pytest.approx(23.0 + 42.0 - 60.5)
    assert stages[report.BETWEEN_RUNS] == pytest.approx(7.0)
    assert stages[report.SHUT_DOWN] == 8.0
    assert sum(stages.values()) == pytest.approx(90.0)
    assert stages_of_runs([], 100.0, 103.0) == {report.START_UP: 3.0}


def test_values_are_compared_with_the_end_to_end_tolerance() -> None:
    expected = {
        ("131016", 2024, "a"): 50.0,
        ("131016", 2024, "b"): None,
        ("131016", 2025, "c"): 1.0,
    }
    found = {("131016", 2024, "a"): 50.0000000001, ("131016", 2024, "b"): 0.0}
    result = compare("x vs y", expected, found)
    assert result.compared == 3
    assert result.mismatches == [
        "131016/FY2024/b: None vs 0.0",
        "131016/FY2025/c: 1.0 vs missing",
    ]


def test_truth_adds_todays_catalogue_snapshot(closed_years: Path) -> None:
    values = truth_values(closed_years, TODAY)
    today_fy = fiscal_year_of((TODAY + timedelta(hours=9)).date())
    assert all((ward, today_fy, "ctx_open_datasets") in values for ward in WARDS)


def _figures() -> BenchFigures:
    floor = RunFigures(
        "floor",
        10.0,
        812.4,
        {report.START_UP: 0.5, "raw/hr_staff": 6.0, report.CATALOGUE: 0.5, report.KPIS: 3.0},
    )
    cold = RunFigures(
        "pipeline cold",
        60.0,
        1900.0,
        {
            report.START_UP: 8.0,
            "raw/hr_staff": 24.0,
            report.CATALOGUE: 1.0,
            report.KPIS: 20.0,
            report.PUBLICATION: 5.0,
            report.IN_RUNS: 1.0,
            report.BETWEEN_RUNS: 0.5,
            report.SHUT_DOWN: 0.5,
        },
    )
    noop = RunFigures("no-op run", 9.0, 700.0, {report.START_UP: 8.0, "raw/hr_staff": 0.01})
    new = RunFigures("one-new-file run", 30.0, 900.0, {report.START_UP: 8.0, report.KPIS: 20.0})
    again = RunFigures("floor, every file", 10.5, 820.0, {})
    return BenchFigures(
        {"cpus": 2, "cpu_model": "AMD EPYC", "ram_gib": 23.4, "python": "3.11.7"},
        {"wards": 3, "files": 185, "staff": "1000-5000", "years": "2024,2025", "seed": 7},
        floor,
        cold,
        noop,
        new,
        again,
        [Comparison("pipeline cold vs floor", 120), Comparison("floor vs truth", 2, ["a: 1 vs 2"])],
    )


def test_the_report_shows_floor_pipeline_and_ratio_per_stage() -> None:
    text = report.render(_figures())
    lines = text.splitlines()
    header = next(line for line in lines if line.strip().startswith("stage"))
    assert [cell.strip() for cell in header.split("|")] == [
        "stage",
        "floor s",
        "pipeline s",
        "ratio",
    ]
    staff = next(line for line in lines if line.strip().startswith("raw/hr_staff"))
    assert [c.strip() for c in staff.split("|")] == ["raw/hr_staff", "6.00", "24.00", "4.0x"]
    publication = next(line for line in lines if line.strip().startswith(report.PUBLICATION))
    assert publication.split("|")[1].strip() == "-" and publication.endswith("-")
    total = next(line for line in lines if line.strip().startswith("total (wall)"))
    assert [c.strip() for c in total.split("|")] == ["total (wall)", "10.00", "60.00", "6.0x"]
    # start-up first, shut-down last among the stages
    stage_rows = lines[lines.index(header) + 2 : lines.index(total)]
    assert stage_rows[0].strip().startswith(report.START_UP)
    assert stage_rows[-1].strip().startswith(report.SHUT_DOWN)


def test_the_report_lists_the_incremental_runs_memory_values_and_machine() -> None:
    text = report.render(_figures())
    assert "no-op run: 9.00 s (exit 0)" in text
    assert "one-new-file run: 30.00 s (exit 0)" in text
    assert "(stages under 0.05 s)" in text  # the no-op's tiny steps, summed
    assert "floor on every file again (it has no incremental mode): 10.50 s" in text
    assert "pipeline cold" in text and "1900 MB" in text and "812 MB" in text
    assert "pipeline cold vs floor: 120 values compared, equal" in text
    assert "floor vs truth: 2 values compared, 1 differ" in text and "a: 1 vs 2" in text
    assert "machine: 2 CPUs (AMD EPYC), 23.4 GiB RAM, Python 3.11.7" in text


def test_the_figures_are_plain_json() -> None:
    figures = _figures().as_json()
    assert figures["cold"]["stages"]["raw/hr_staff"] == 24.0
    assert figures["comparisons"][1]["mismatches"] == ["a: 1 vs 2"]
    assert report.ratio(None, 1.0) == "-" and report.ratio(3.0, 0.0) == "-"


def test_a_relative_work_folder_is_made_absolute_for_dagster_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dagster refuses a relative DAGSTER_HOME, and the runs put theirs under --work.
    monkeypatch.chdir(tmp_path)
    assert _arguments(["--work", "data/bench"]).work == tmp_path / "data" / "bench"
