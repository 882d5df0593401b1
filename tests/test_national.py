"""The municipality list beyond Tokyo's 23 wards, and the pieces of `make bench-national`.

DXKPI_MUNICIPALITIES_DIR must reach both readers of the list: `load_wards` (landing zone,
freshness, catalogue, generator) and dbt's seed `wards`. The national bench itself takes
minutes even on three municipalities; here its pieces run on a tiny preset.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from ingestion.common import reference
from ingestion.common.landing import is_valid_ward_code
from ingestion.common.reference import (
    MUNICIPALITIES_VARIABLE,
    WARDS_CSV,
    MunicipalitiesError,
    Ward,
    load_wards,
    municipalities_csv,
    write_wards,
)
from ingestion.opendata.ckan import CkanClient
from orchestration.bench import national
from orchestration.bench.harness import truth_values
from orchestration.bench.national import NationalFigures, render, value_comparisons
from orchestration.bench.report import RunFigures
from orchestration.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR
from sampledata.catalogue import generate_catalogue, read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.municipalities import PREFECTURES, main, synthetic_municipalities

SAPPORO = Ward("011002", "札幌市", "Sapporo", "t011002")
NAHA = Ward("472018", "那覇市", "Naha", "t472018")


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in repository root holding a two-municipality list under `lists/two`."""
    monkeypatch.setattr(reference, "REPO_ROOT", tmp_path)
    write_wards([NAHA, SAPPORO], tmp_path / "lists" / "two")
    return tmp_path


# -- the variable --------------------------------------------------------------------------------


def test_without_the_variable_the_list_is_tokyos_23_wards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MUNICIPALITIES_VARIABLE, raising=False)
    assert municipalities_csv() == WARDS_CSV
    assert len(load_wards()) == 23


def test_the_variable_names_the_list_load_wards_reads(
    repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MUNICIPALITIES_VARIABLE, "lists/two")
    assert load_wards() == [SAPPORO, NAHA]  # in code order


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("/srv/lists", id="absolute"),
        pytest.param("../lists", id="outside-the-repository"),
        pytest.param(".", id="the-repository-itself"),
        pytest.param("lists", id="other-csv-below"),
        pytest.param("lists/none", id="no-wards-csv"),
    ],
)
def test_a_folder_dbt_cannot_seed_from_is_refused(
    repository: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    (repository / "lists" / "none").mkdir()
    write_wards([SAPPORO], repository / "lists")  # lists/ then holds two wards.csv
    monkeypatch.setenv(MUNICIPALITIES_VARIABLE, value)
    with pytest.raises(MunicipalitiesError):
        load_wards()


def _copy_of_the_dbt_project(root: Path) -> Path:
    """The dbt project's configuration, seeds and macros under `root` (no models: quick)."""
    project = root / "dbt_project"
    project.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(DBT_PROJECT_DIR / name, project / name)
    for name in ("seeds", "municipalities", "macros"):
        shutil.copytree(DBT_PROJECT_DIR / name, project / name)
    return project


def _seed_wards(project: Path, warehouse: Path, folder: str | None) -> list[tuple[str, str]]:
    environment = {
        key: value for key, value in os.environ.items() if key != MUNICIPALITIES_VARIABLE
    }
    environment |= {"DXKPI_WAREHOUSE": str(warehouse), "DXKPI_DBT_TARGET": "local"}
    if folder is not None:
        environment[MUNICIPALITIES_VARIABLE] = folder
    command = [DBT_EXECUTABLE, "seed", "--select", "wards", "--no-use-colors"]
    command += ["--project-dir", str(project), "--profiles-dir", str(project)]
    result = subprocess.run(
        command, cwd=project, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select ward_code, ward_name_en from reference.wards order by ward_code"
        ).fetchall()


def test_dbt_seeds_wards_from_the_folder_the_variable_names(tmp_path: Path) -> None:
    # GIVEN the project's dbt configuration and a two-municipality list beside it
    project = _copy_of_the_dbt_project(tmp_path)
    listed = write_wards([SAPPORO, NAHA], tmp_path / "lists" / "two")
    before = listed.read_bytes()
    warehouse = tmp_path / "warehouse.duckdb"
    # WHEN the seed is built without the variable, then with it (same target/: partial parse)
    tokyo = _seed_wards(project, warehouse, None)
    two = _seed_wards(project, warehouse, "lists/two")
    # THEN the first is the 23 wards, the second the list, which dbt left as it was
    assert len(tokyo) == 23 and tokyo[0] == ("131016", "Chiyoda")
    assert two == [("011002", "Sapporo"), ("472018", "Naha")]
    assert listed.read_bytes() == before


# -- the preset ----------------------------------------------------------------------------------


def test_the_preset_has_valid_unique_codes_across_every_prefecture() -> None:
    wards = synthetic_municipalities(1741)
    codes = [ward.code for ward in wards]
    assert all(is_valid_ward_code(code) for code in codes)
    assert len(set(codes)) == len(codes) == 1741 and codes == sorted(codes)
    assert {code[:2] for code in codes} == {f"{n:02d}" for n in range(1, len(PREFECTURES) + 1)}
    assert len({ward.name_ja for ward in wards}) == 1741
    assert all(ward.ckan_organization == f"t{ward.code}" for ward in wards)


def test_the_preset_refuses_an_impossible_count() -> None:
    with pytest.raises(ValueError):
        synthetic_municipalities(0)


def test_the_preset_is_written_as_a_list_load_wards_reads(tmp_path: Path) -> None:
    main(["--count", "60", "--out", str(tmp_path)])
    assert load_wards(tmp_path / "wards.csv") == synthetic_municipalities(60)


def test_the_local_ckan_server_serves_every_municipality_of_the_list(
    repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 60 municipalities in force (more than a page of organisations with all fields)
    wards = synthetic_municipalities(60)
    write_wards(wards, repository / "lists" / "sixty")
    monkeypatch.setenv(MUNICIPALITIES_VARIABLE, "lists/sixty")
    # WHEN their catalogue is generated and served
    packages = generate_catalogue([ward.code for ward in wards], seed=3, packages_per_ward=(1, 2))
    with CkanServer(packages) as server:
        organisations = CkanClient(server.base_url).organization_list()
    # THEN every municipality is an organisation, titled with its name from the list
    assert sorted(organisations) == [ward.ckan_organization for ward in wards]
    titles = {p["organization"]["name"]: p["organization"]["title"] for p in packages}
    assert titles == {ward.ckan_organization: ward.name_ja for ward in wards}


# -- the national bench's pieces -----------------------------------------------------------------


def test_the_bench_work_folder_must_be_inside_the_repository(tmp_path: Path) -> None:
    for elsewhere in (tmp_path / "elsewhere", national.REPO_ROOT, national.REPO_ROOT / ".."):
        with pytest.raises(SystemExit):
            national.list_folder(elsewhere)
    assert national.list_folder(national.REPO_ROOT / "data" / "x") == "data/x/municipalities"


def test_the_bench_generates_a_preset_and_holds_one_roster_back(
    repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a tiny preset: 3 municipalities x FY2025 x 20-30 staff
    monkeypatch.setattr(national, "REPO_ROOT", repository)
    monkeypatch.delenv(MUNICIPALITIES_VARIABLE, raising=False)
    work = repository / "data" / "bench-national"
    args = argparse.Namespace(
        work=work, municipalities=3, staff=(20, 30), years="2025", seed=5, dirty=0.01
    )
    # WHEN the bench prepares it
    sample, held, seconds = national.prepare_sample(args)
    # THEN the list, every municipality's exports, catalogue and truth are there, one roster
    # of the last municipality aside, and this process's own list is as it was
    wards = load_wards(work / "municipalities" / "wards.csv")
    assert [ward.code for ward in wards] == [w.code for w in synthetic_municipalities(3)]
    assert sample["municipality_list"] == "data/bench-national/municipalities"
    assert held.parent == work / "held_back" and held.name.startswith(wards[-1].code)
    assert sample["files"] == len(list((work / "landing").glob("*/*.csv"))) + 1
    assert sample["staff_last_year"] > 0 and seconds >= 0
    organisations = {
        p["organization"]["title"] for p in read_catalogue(work / "catalogue" / "packages.json")
    }
    assert organisations == {ward.name_ja for ward in wards}
    assert {key[0] for key in truth_values(work)} == {ward.code for ward in wards}
    assert MUNICIPALITIES_VARIABLE not in os.environ


def test_the_cold_run_is_held_against_the_truth_without_the_held_back_municipality() -> None:
    truth = {("011002", 2025, "a"): 1.0, ("472018", 2025, "a"): 2.0}
    cold = {("011002", 2025, "a"): 1.0, ("472018", 2025, "a"): 1.5}
    cold_check, final_check = value_comparisons(truth, cold, dict(truth), "472018")
    assert (cold_check.compared, cold_check.mismatches) == (1, [])
    assert (final_check.compared, final_check.mismatches) == (2, [])


def test_landed_counts_files_and_rows_per_raw_table(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema ops")
        con.execute(
            "create table ops.file_loads as select * from (values "
            "('hr_staff', 10, 1), ('hr_staff', 20, 0), ('training_course', 5, 2)"
            ") as t(raw_table, rows_loaded, rows_rejected)"
        )
    assert national.landed(warehouse) == {
        "hr_staff": {"files": 2, "rows": 30, "rows_rejected": 1},
        "training_course": {"files": 1, "rows": 5, "rows_rejected": 2},
        "total": {"files": 3, "rows": 35, "rows_rejected": 3},
    }
    assert national.landed(tmp_path / "none.duckdb") == {}


def test_the_report_prints_time_peak_rss_and_the_verdict() -> None:
    figures = NationalFigures(
        machine={"cpus": 2, "cpu_model": "EPYC", "ram_gib": 23.5, "python": "3.11.7"},
        sample={
            "municipalities": 200,
            "municipality_list": "data/bench-national/municipalities",
            "years": "2021,2022,2023,2024,2025",
            "staff_per_municipality": "4000-6000",
            "staff_last_year": 1_000_123,
            "files": 20_000,
            "seed": 7,
            "dirty": 0.01,
            "held_back": "hr/472379_staff_20260301.csv",
        },
        generation_seconds=612.0,
        landed={"total": {"files": 20_200, "rows": 90_000_000, "rows_rejected": 1_000}},
        cold=RunFigures("pipeline cold", 3600.0, 2100.0, {"start-up": 9.0, "KPIs (dbt)": 900.0}),
        one_new_file=RunFigures("one-new-file run", 120.0, 900.0, {"KPIs (dbt)": 80.0}),
        comparisons=value_comparisons({("1", 1, "a"): 1.0}, {}, {("1", 1, "a"): 1.0}, "1"),
    )
    text = render(figures)
    for expected in (
        "200 municipalities",
        "1,000,123 in the last FY",
        "loaded 20,200 files, 90,000,000 rows",
        "generation (not part of the pipeline): 612.0 s",
        "pipeline cold: 3600.00 s (exit 0)",
        "KPIs (dbt)",
        "one-new-file run: 120.00 s",
        "2100 MB",
        "pipeline after one new file vs truth: 1 values compared, equal",
        "2 CPUs (EPYC)",
    ):
        assert expected in text
    assert national.failures(figures) == ["pipeline cold vs truth (all but 1)"]  # none compared
