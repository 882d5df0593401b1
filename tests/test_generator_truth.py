"""The generator's truth against its own exports.

The truth (truth/kpi_values.csv) is computed from the simulation. Here every indicator of the
new datasets is computed again, independently, from the files as the pipeline reads them (the
real readers and row rules, a later export's version of a key replacing an earlier one), by
the definitions of semantics.md: two routes that must meet. The dirty rows each file holds are
exactly the rows the readers and row rules reject.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from expectations.row_rules import rows_breaking_rules
from ingestion.common.dates import fiscal_year_bounds
from ingestion.common.landing import LandingFile, parse_landing_path
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.reader import read_export
from ingestion.registry import FILE_CONTRACTS
from sampledata.catalogue import read_catalogue
from sampledata.generate import GeneratorConfig, generate

WARDS = ["131016", "131032", "131237"]
YEARS = [2024, 2025]
PSEUDONYMS = Pseudonymiser(b"generator-test-key")
NEW_TABLES = {
    "hr_skill_assessment",
    "hr_dx_leader_certification",
    "hr_external_specialist",
    "hr_personnel_exchange",
    "hr_hr_regulation",
    "dx_office_dx_project",
    "dx_office_bpr_measurement",
    "dx_office_system_migration",
    "surveys_staff_survey",
    "surveys_procedure_survey",
}
KAKARICHO_PLUS = {"係長級", "課長補佐級", "課長級", "部長級"}
Row = dict[str, Any]


@dataclass
class Landed:
    """The exports of one sample as the pipeline would hold them."""

    rows: dict[str, list[Row]]  # raw table -> accepted rows of every export
    rejected: dict[str, int]  # source file -> rows rejected
    dates: dict[tuple[str, str], list[date]]  # (ward, table) -> reference dates

    def latest(self, table: str) -> list[Row]:
        """Each key in the version of the newest export holding it."""
        key = ["ward_code", *FILE_CONTRACTS[table].key]
        frame = pd.DataFrame(self.rows[table])
        if frame.empty:
            return []
        frame = frame.sort_values(["reference_date", "source_row"], ascending=False)
        return frame.drop_duplicates(key).to_dict("records")

    def spoken(self, ward: str, table: str, fiscal_year: int) -> bool:
        start, _ = fiscal_year_bounds(fiscal_year)
        return any(day >= start for day in self.dates.get((ward, table), []))


def _read(landing: LandingFile) -> tuple[list[Row], int]:
    table = landing.table
    read = read_export(landing, FILE_CONTRACTS[table], PSEUDONYMS, datetime(2026, 6, 1))
    rejected = {problem.source_row for problem in read.problems}
    broken: set[int] = set()
    for _, rows in rows_breaking_rules(table, read.frame):
        broken |= {int(row) for row in rows}
    kept = read.frame[~read.frame["source_row"].isin(list(broken))]
    return kept.to_dict("records"), len(rejected | broken)


def land(out: Path) -> Landed:
    landed = Landed(defaultdict(list), {}, defaultdict(list))
    for path in sorted((out / "landing").rglob("*.csv")):
        landing = parse_landing_path(path)
        rows, rejected = _read(landing)
        landed.rows[landing.table] += rows
        landed.rejected[landing.name] = rejected
        landed.dates[(landing.ward_code, landing.table)].append(landing.reference_date)
    return landed


def read_values(out: Path) -> dict[tuple[str, int, str], str]:
    with (out / "truth" / "kpi_values.csv").open(encoding="utf-8") as handle:
        return {
            (r["ward_code"], int(r["fiscal_year"]), r["indicator_id"]): r["value"]
            for r in csv.DictReader(handle)
        }


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Landed]:
    out = tmp_path_factory.mktemp("truth")
    generate(GeneratorConfig(out, WARDS, (40, 60), YEARS, seed=3, dirty_share=0.02))
    return out, land(out)


# -- the indicators, from the landed rows ----------------------------------------------------


def _day(value: Any) -> date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def _in(value: Any, fiscal_year: int) -> bool:
    start, end = fiscal_year_bounds(fiscal_year)
    day = _day(value)
    return day is not None and start <= day <= end


def _rate(numerator: float, denominator: float) -> float | None:
    return 100 * numerator / denominator if denominator else None


class FromFiles:
    """semantics.md's formulas over one ward's landed rows."""

    def __init__(self, landed: Landed, ward: str) -> None:
        self.landed, self.ward = landed, ward

    def rows(self, table: str) -> list[Row]:
        return [r for r in self.landed.latest(table) if r["ward_code"] == self.ward]

    def population(self, fiscal_year: int) -> list[Row]:
        start, end = fiscal_year_bounds(fiscal_year)
        staff = [r for r in self.landed.rows["hr_staff"] if r["ward_code"] == self.ward]
        last = max(
            _day(r["reference_date"]) for r in staff if _in(r["reference_date"], fiscal_year)
        )
        return [
            r
            for r in staff
            if _day(r["reference_date"]) == last
            and (_day(r["retirement_date"]) is None or _day(r["retirement_date"]) > last)
        ]

    def certified(self, staff_id: str, day: date) -> bool:
        return any(
            c["staff_id"] == staff_id
            and _day(c["certified_on"]) <= day
            and (_day(c["lapsed_on"]) is None or _day(c["lapsed_on"]) > day)
            for c in self.rows("hr_dx_leader_certification")
        )

    def staff_satisfaction(self, fy: int) -> float | None:
        scores = [
            r["satisfaction"]
            for r in self.rows("surveys_staff_survey")
            if _in(r["answered_on"], fy) and not pd.isna(r["satisfaction"])
        ]
        return _rate(sum(1 for s in scores if s >= 4), len(scores))

    def task_time_reduction(self, fy: int) -> float | None:
        rows = self.rows("dx_office_bpr_measurement")
        before_total = after_total = 0.0
        for code in {r["task_code"] for r in rows}:
            task = [r for r in rows if r["task_code"] == code]
            afters = [
                r for r in task if r["measurement_type"] == "改善後" and _in(r["measured_on"], fy)
            ]
            if not afters:
                continue
            after = max(afters, key=lambda r: r["measured_on"])
            befores = [
                r
                for r in task
                if r["measurement_type"] == "改善前" and r["measured_on"] < after["measured_on"]
            ]
            if befores:
                before = max(befores, key=lambda r: r["measured_on"])
                before_total += before["minutes_per_case"] * before["annual_cases"]
                after_total += after["minutes_per_case"] * after["annual_cases"]
        return 100 * (1 - after_total / before_total) if before_total else None

    def dept_led_projects(self, fy: int) -> int:
        start, end = fiscal_year_bounds(fy)
        return sum(
            1
            for r in self.rows("dx_office_dx_project")
            if r["project_status"] != "中止"
            and _day(r["started_on"]) <= end
            and (_day(r["ended_on"]) is None or _day(r["ended_on"]) >= start)
        )

    def procedure_satisfaction(self, fy: int) -> float | None:
        scores = [
            r["satisfaction"]
            for r in self.rows("surveys_procedure_survey")
            if _in(r["answered_at"], fy) and not pd.isna(r["satisfaction"])
        ]
        return _rate(sum(1 for s in scores if s >= 4), len(scores))

    def certified_leader_ratio(self, fy: int) -> float | None:
        _, end = fiscal_year_bounds(fy)
        members = self.population(fy)
        holders = {r["staff_id"] for r in members if self.certified(r["staff_id"], end)}
        return _rate(len(holders), sum(1 for r in members if r["grade"] in KAKARICHO_PLUS))

    def completed(self, fy: int) -> list[Row]:
        return [
            r
            for r in self.rows("dx_office_dx_project")
            if r["project_status"] == "完了" and _in(r["ended_on"], fy)
        ]

    def leader_savings(self, fy: int) -> int:
        return sum(
            0 if pd.isna(r["annual_savings_yen"]) else int(r["annual_savings_yen"])
            for r in self.completed(fy)
            if isinstance(r["leader_staff_id"], str)
            and self.certified(r["leader_staff_id"], _day(r["ended_on"]))
        )

    def skill_registration(self, fy: int) -> float | None:
        assessed = {
            r["staff_id"] for r in self.rows("hr_skill_assessment") if _in(r["assessed_on"], fy)
        }
        members = self.population(fy)
        return _rate(sum(1 for r in members if r["staff_id"] in assessed), len(members))

    def specialist_retention(self, fy: int) -> float | None:
        contracts = self.rows("hr_external_specialist")
        ending = [c for c in contracts if _in(c["term_end"], fy)]
        renewed = [
            c
            for c in ending
            if any(
                o["contract_type"] == "更新"
                and o["staff_id"] == c["staff_id"]
                and 0 < (_day(o["term_start"]) - _day(c["term_end"])).days <= 31
                for o in contracts
            )
        ]
        return _rate(len(renewed), len(ending))

    def system_migration(self, fy: int) -> float:
        _, end = fiscal_year_bounds(fy)
        rows = [
            r for r in self.landed.rows["dx_office_system_migration"] if r["ward_code"] == self.ward
        ]
        latest = max(r["reference_date"] for r in rows)
        return _rate(
            sum(
                1
                for r in rows
                if r["reference_date"] == latest
                and r["migration_status"] == "移行完了"
                and _day(r["migrated_on"]) <= end
            ),
            20,
        )

    def cio_advisors(self, fy: int) -> int:
        _, end = fiscal_year_bounds(fy)
        return sum(
            1
            for c in self.rows("hr_external_specialist")
            if c["role"] == "CIO補佐官"
            and _day(c["term_start"]) <= end
            and (_day(c["term_end"]) is None or _day(c["term_end"]) >= end)
        )

    def career_path(self, fy: int) -> int:
        _, end = fiscal_year_bounds(fy)
        return int(
            any(
                r["regulation_type"] == "デジタル専門職キャリアパス"
                and _day(r["effective_on"]) <= end
                and (_day(r["repealed_on"]) is None or _day(r["repealed_on"]) > end)
                for r in self.rows("hr_hr_regulation")
            )
        )

    def advice_improvements(self, fy: int) -> int:
        return sum(1 for r in self.completed(fy) if r["external_advice"] == "有")

    def specialist_hires(self, fy: int) -> int:
        return sum(
            1
            for c in self.rows("hr_external_specialist")
            if c["contract_type"] == "新規" and _in(c["term_start"], fy)
        )

    def private_exchanges(self, fy: int) -> int:
        return sum(
            1
            for r in self.rows("hr_personnel_exchange")
            if r["counterpart_type"] == "民間企業" and _in(r["started_on"], fy)
        )

    # -- the first indicators --------------------------------------------------------------

    def courses(self, category: str) -> list[Row]:
        return [r for r in self.rows("training_course") if r["category"] == category]

    def basic_training_completion(self, fy: int) -> float | None:
        mandatory = {
            r["course_code"]
            for r in self.courses("デジタル基礎")
            if r["fiscal_year"] == fy and r["requirement"] == "必修"
        }
        done = {
            (r["staff_id"], r["course_code"])
            for r in self.rows("training_enrollment")
            if r["status"] == "修了" and _in(r["completed_on"], fy)
        }
        members = self.population(fy)
        completed = sum(1 for m in members if all((m["staff_id"], c) in done for c in mandatory))
        return _rate(completed, len(members)) if mandatory else None

    def proposals(self, fy: int) -> int:
        return sum(1 for r in self.rows("proposals_proposal") if _in(r["submitted_on"], fy))

    def proposal_growth(self, fy: int) -> float | None:
        count, previous = self.proposals(fy), self.proposals(fy - 1)
        return 100 * (count / previous - 1) if previous and count else None

    def basic_courses(self, fy: int) -> int:
        return len(
            {r["course_code"] for r in self.courses("デジタル基礎") if r["fiscal_year"] == fy}
        )

    def tool_sessions(self, fy: int) -> int:
        codes = {r["course_code"] for r in self.courses("ツール活用")}
        return sum(
            1
            for r in self.rows("training_session")
            if r["course_code"] in codes and _in(r["session_date"], fy)
        )

    def graduates(self, fy: int) -> int:
        codes = {r["course_code"] for r in self.courses("DX推進リーダー育成")}
        return len(
            {
                r["staff_id"]
                for r in self.rows("training_enrollment")
                if r["course_code"] in codes
                and r["status"] == "修了"
                and _in(r["completed_on"], fy)
            }
        )


FIRST_INDICATORS: dict[str, Callable[[FromFiles, int], Any]] = {
    "m1_ksi_basic_training_completion": FromFiles.basic_training_completion,
    "m1_kpi_proposal_growth": FromFiles.proposal_growth,
    "m1_kpi_basic_course_count": FromFiles.basic_courses,
    "m1_kpi_tool_training_sessions": FromFiles.tool_sessions,
    "m2_kpi_dx_leader_program_graduates": FromFiles.graduates,
}
NEW_INDICATORS: dict[str, tuple[Callable[[FromFiles, int], Any], tuple[str, ...]]] = {
    "m1_kgi_staff_digital_satisfaction": (FromFiles.staff_satisfaction, ("surveys_staff_survey",)),
    "m1_kgi_routine_task_time_reduction": (
        FromFiles.task_time_reduction,
        ("dx_office_bpr_measurement",),
    ),
    "m2_kgi_dept_led_dx_projects": (FromFiles.dept_led_projects, ("dx_office_dx_project",)),
    "m2_kgi_online_procedure_satisfaction": (
        FromFiles.procedure_satisfaction,
        ("surveys_procedure_survey",),
    ),
    "m2_ksi_certified_dx_leader_ratio": (
        FromFiles.certified_leader_ratio,
        ("hr_dx_leader_certification",),
    ),
    "m2_kpi_dx_leader_cost_savings": (
        FromFiles.leader_savings,
        ("dx_office_dx_project", "hr_dx_leader_certification"),
    ),
    "m2_kpi_skill_map_registration": (FromFiles.skill_registration, ("hr_skill_assessment",)),
    "m3_kgi_external_specialist_retention": (
        FromFiles.specialist_retention,
        ("hr_external_specialist",),
    ),
    "m3_kgi_standard_system_migration": (
        FromFiles.system_migration,
        ("dx_office_system_migration",),
    ),
    "m3_ksi_cio_advisor_count": (FromFiles.cio_advisors, ("hr_external_specialist",)),
    "m3_ksi_digital_career_path": (FromFiles.career_path, ("hr_hr_regulation",)),
    "m3_kpi_external_advice_improvements": (
        FromFiles.advice_improvements,
        ("dx_office_dx_project",),
    ),
    "m3_kpi_external_specialist_hires": (FromFiles.specialist_hires, ("hr_external_specialist",)),
    "m3_kpi_private_sector_exchanges": (FromFiles.private_exchanges, ("hr_personnel_exchange",)),
}


def values_from_files(landed: Landed, wards: list[str], years: list[int]) -> dict:
    """Every indicator but the open-data count per ward and year, from the landed rows
    (None = null)."""
    values = {}
    for ward in wards:
        files = FromFiles(landed, ward)
        for year in years:
            for indicator, first in FIRST_INDICATORS.items():
                values[(ward, year, indicator)] = first(files, year)
            for indicator, (compute, tables) in NEW_INDICATORS.items():
                spoken = all(landed.spoken(ward, table, year) for table in tables)
                values[(ward, year, indicator)] = compute(files, year) if spoken else None
    return values


def mismatches(truth: dict[tuple[str, int, str], str], computed: dict) -> dict:
    """The keys where the truth's value and the computed one differ."""
    different = {}
    for key, value in computed.items():
        written = truth[key]
        same = (
            written == ""
            if value is None
            else written != "" and float(written) == pytest.approx(value)
        )
        if not same:
            different[key] = (written, value)
    return different


# -- tests -----------------------------------------------------------------------------------


def test_every_dirty_row_is_a_row_the_readers_or_row_rules_reject(
    sample: tuple[Path, Landed],
) -> None:
    out, landed = sample
    with (out / "truth" / "dirty_rows.csv").open(encoding="utf-8") as handle:
        dirty = {r["source_file"]: int(r["dirty_rows"]) for r in csv.DictReader(handle)}
    assert dirty == landed.rejected
    new_datasets_dirty = {
        parse_landing_path(out / "landing" / name).table for name, count in dirty.items() if count
    } & NEW_TABLES
    # The small registers (< 25 rows) get none; the larger new exports do.
    assert {"hr_skill_assessment", "surveys_staff_survey", "surveys_procedure_survey"} <= (
        new_datasets_dirty
    )


def test_the_truth_of_every_indicator_is_what_the_files_say(
    sample: tuple[Path, Landed],
) -> None:
    out, landed = sample
    computed = values_from_files(landed, WARDS, YEARS)
    assert len(computed) == len(WARDS) * len(YEARS) * 19
    assert mismatches(read_values(out), computed) == {}


def test_the_first_indicators_are_those_of_the_kpi_inputs(sample: tuple[Path, Landed]) -> None:
    # What tests/test_end_to_end.py's expected_values() computes from kpi_inputs.csv.
    out, _ = sample
    with (out / "truth" / "kpi_inputs.csv").open(encoding="utf-8") as handle:
        inputs = {(r["ward_code"], int(r["fiscal_year"])): r for r in csv.DictReader(handle)}
    expected: dict[tuple[str, int, str], float | None] = {}
    for (ward, year), row in inputs.items():
        if row["in_generated_years"] != "True":
            continue
        population, mandatory = int(row["population"]), int(row["mandatory_basic_courses"])
        completed = int(row["completed_all_mandatory"])
        expected[(ward, year, "m1_ksi_basic_training_completion")] = (
            100 * completed / population if population and mandatory else None
        )
        previous = inputs.get((ward, year - 1))
        previous_count = int(previous["proposals"]) if previous else 0
        count = int(row["proposals"])
        expected[(ward, year, "m1_kpi_proposal_growth")] = (
            100 * (count / previous_count - 1) if previous_count and count else None
        )
        expected[(ward, year, "m1_kpi_basic_course_count")] = int(row["basic_courses"])
        expected[(ward, year, "m1_kpi_tool_training_sessions")] = int(row["tool_sessions"])
        expected[(ward, year, "m2_kpi_dx_leader_program_graduates")] = int(row["dx_graduates"])
    assert len(expected) == len(WARDS) * len(YEARS) * 5
    assert mismatches(read_values(out), expected) == {}


def test_the_second_ward_spoke_nothing_and_the_third_never_spoke(
    sample: tuple[Path, Landed],
) -> None:
    out, landed = sample
    values = read_values(out)
    empty, absent = WARDS[1], WARDS[2]
    assert landed.dates[(empty, "hr_personnel_exchange")]
    assert not [r for r in landed.rows["hr_personnel_exchange"] if r["ward_code"] == empty]
    assert (absent, "hr_personnel_exchange") not in landed.dates
    for year in YEARS:
        assert values[(empty, year, "m3_kpi_private_sector_exchanges")] == "0"
        assert values[(absent, year, "m3_kpi_private_sector_exchanges")] == ""
    assert any(
        values[(WARDS[0], year, "m3_kpi_private_sector_exchanges")] not in ("", "0")
        for year in YEARS
    )


def test_the_pairing_edge_case_is_in_the_data(sample: tuple[Path, Landed]) -> None:
    # A task with a before-measurement dated after an after-measurement of the same year,
    # and an earlier before-measurement the after-measurement pairs with instead.
    _, landed = sample
    found = set()
    for row in landed.latest("dx_office_bpr_measurement"):
        if row["measurement_type"] != "改善後":
            continue
        task = [
            r
            for r in landed.latest("dx_office_bpr_measurement")
            if (r["ward_code"], r["task_code"]) == (row["ward_code"], row["task_code"])
            and r["measurement_type"] == "改善前"
        ]
        after = row["measured_on"]
        later = [
            r for r in task if r["measured_on"] > after and _fy(r["measured_on"]) == _fy(after)
        ]
        if later and any(r["measured_on"] < after for r in task):
            found.add(row["ward_code"])
    assert found == set(WARDS)


def _fy(value: Any) -> int:
    day = _day(value)
    assert day is not None
    return day.year if day.month >= 4 else day.year - 1


def test_the_traps_of_the_registers_are_in_the_data(sample: tuple[Path, Landed]) -> None:
    _, landed = sample
    certifications = landed.latest("hr_dx_leader_certification")
    per_person: dict[tuple[str, str], int] = defaultdict(int)
    for row in certifications:
        per_person[(row["ward_code"], row["staff_id"])] += 1
    assert any(not pd.isna(row["lapsed_on"]) for row in certifications)
    assert max(per_person.values()) >= 2  # certified again: two numbers, one person
    contracts = landed.latest("hr_external_specialist")
    assert {"新規", "更新"} <= {c["contract_type"] for c in contracts}
    assert any(pd.isna(c["term_end"]) or c["role"] == "CIO補佐官" for c in contracts)
    projects = landed.latest("dx_office_dx_project")
    assert {"企画", "実施中", "完了", "中止"} <= {p["project_status"] for p in projects}
    assert any(p["external_advice"] == "有" for p in projects)
    regulations = landed.latest("hr_hr_regulation")
    repealed = [
        r
        for r in regulations
        if r["regulation_type"] == "デジタル専門職キャリアパス" and not pd.isna(r["repealed_on"])
    ]
    assert repealed


def test_open_datasets_are_counted_as_the_catalogue_stood_at_each_year_end(
    sample: tuple[Path, Landed],
) -> None:
    # Reconstructed from today's catalogue: active public packages created before the year's
    # end in JST (15:00 UTC on March 31), metadata_created being naive UTC.
    out, _ = sample
    packages = read_catalogue(out / "catalogue" / "packages.json")
    values = read_values(out)
    for ward in WARDS:
        for year in YEARS:
            expected = sum(
                1
                for p in packages
                if p["organization"]["name"] == f"t{ward}"
                and p["state"] == "active"
                and not p["private"]
                and p["metadata_created"] < f"{year + 1}-03-31T15:00:00"
            )
            assert values[(ward, year, "ctx_open_datasets")] == str(expected)
