"""The value of every indicator per ward and fiscal year (truth/kpi_values.csv), computed from
the simulation by the definitions of semantics.md, never from the files.

What the warehouse holds of a register is every record of its exports, in the version of the
last export listing it; the registers here are exported whole, so that is each record's state
on the dataset's last export day. Records dated after that day were never exported.
A count is null when one of its sources never spoke for the year (no export dated on or after
the year's first day); a rate is null then too, and when its denominator is 0.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from ingestion.common.dates import fiscal_year_bounds
from sampledata.bpr import AFTER, BEFORE, Measurement
from sampledata.catalogue import TIMESTAMP_FORMAT, is_active_public, ward_code_of
from sampledata.hr_registers import CAREER_PATH, CIO_ROLE, NEW, RENEWAL
from sampledata.migration import MIGRATED, SYSTEMS
from sampledata.projects import CANCELLED, COMPLETED, ProjectState
from sampledata.simulate import SimulatedWard
from sampledata.truth_inputs import population

Value = float | int | None
RETENTION_WINDOW = timedelta(days=31)
STAFF = "hr/staff"
SKILL = "hr/skill_assessment"
CERTIFICATION = "hr/dx_leader_certification"
SPECIALIST = "hr/external_specialist"
EXCHANGE = "hr/personnel_exchange"
REGULATION = "hr/hr_regulation"
PROJECT = "dx_office/dx_project"
BPR = "dx_office/bpr_measurement"
MIGRATION = "dx_office/system_migration"
STAFF_SURVEY = "surveys/staff_survey"
PROCEDURE_SURVEY = "surveys/procedure_survey"


def rate(numerator: float, denominator: float) -> float | None:
    return 100 * numerator / denominator if denominator else None


class WardTruth:
    """The indicators of one ward, given what its exports were and when."""

    def __init__(
        self,
        ward: SimulatedWard,
        inputs: dict[int, dict[str, Any]],
        written: dict[str, list[date]],
    ) -> None:
        self.ward = ward
        self.inputs = inputs
        self.written = written
        self._certifications: dict[str, list] = {}
        for certification in ward.certifications:
            self._certifications.setdefault(certification.staff.number, []).append(certification)

    # -- what was exported ------------------------------------------------------------------

    def spoken(self, dataset: str, fiscal_year: int) -> bool:
        start, _ = fiscal_year_bounds(fiscal_year)
        return any(day >= start for day in self.written.get(dataset, []))

    def last_export(self, dataset: str) -> date:
        return max(self.written[dataset])

    def population(self, fiscal_year: int) -> list:
        return population(self.ward.world, fiscal_year, sorted(self.written[STAFF]))

    def project_states(self) -> list[tuple[Any, ProjectState]]:
        day = self.last_export(PROJECT)
        states = [(p, p.state_on(day)) for p in self.ward.projects]
        return [(p, state) for p, state in states if state is not None]

    def certified(self, staff_number: str, day: date) -> bool:
        """Whether the member held a certification valid on `day`, as the register tells."""
        seen_on = self.last_export(CERTIFICATION)
        return any(
            c.listed_on(seen_on) and c.valid_on(day, seen_on)
            for c in self._certifications.get(staff_number, [])
        )

    def contracts(self) -> list:
        day = self.last_export(SPECIALIST)
        return [c for c in self.ward.specialists if c.listed_on(day)]

    # -- measure 1 --------------------------------------------------------------------------

    def staff_satisfaction(self, fiscal_year: int) -> Value:
        start, end = fiscal_year_bounds(fiscal_year)
        day = self.last_export(STAFF_SURVEY)
        scores = [
            r.satisfaction
            for r in self.ward.staff_survey.responses
            if start <= r.answered_on <= min(end, day) and r.satisfaction is not None
        ]
        return rate(sum(1 for s in scores if s >= 4), len(scores))

    def task_time_reduction(self, fiscal_year: int) -> Value:
        day = self.last_export(BPR)
        measurements = [m for m in self.ward.measurements if m.measured_on <= day]
        before_total = after_total = 0.0
        for before, after in _paired_tasks(measurements, fiscal_year):
            before_total += before.minutes * before.cases
            after_total += after.minutes * after.cases
        return 100 * (1 - after_total / before_total) if before_total else None

    # -- measure 2 --------------------------------------------------------------------------

    def dept_led_projects(self, fiscal_year: int) -> Value:
        start, end = fiscal_year_bounds(fiscal_year)
        return sum(
            1
            for p, state in self.project_states()
            if state.status != CANCELLED
            and p.started_on <= end
            and (state.ended_on is None or state.ended_on >= start)
        )

    def procedure_satisfaction(self, fiscal_year: int) -> Value:
        start, end = fiscal_year_bounds(fiscal_year)
        # The survey tool exports at midnight: the last export holds answers up to the day before.
        day = self.last_export(PROCEDURE_SURVEY)
        scores = [
            r.satisfaction
            for r in self.ward.procedure_survey
            if start <= r.answered_at.date() <= end
            and r.answered_at.date() < day
            and r.satisfaction is not None
        ]
        return rate(sum(1 for s in scores if s >= 4), len(scores))

    def certified_leader_ratio(self, fiscal_year: int) -> Value:
        _, end = fiscal_year_bounds(fiscal_year)
        members = self.population(fiscal_year)
        holders = sum(1 for s in members if self.certified(s.number, end))
        return rate(holders, sum(1 for s in members if s.grade >= 2))

    def completed_in(self, fiscal_year: int) -> list[tuple[Any, ProjectState]]:
        start, end = fiscal_year_bounds(fiscal_year)
        return [
            (p, state)
            for p, state in self.project_states()
            if state.status == COMPLETED and state.ended_on and start <= state.ended_on <= end
        ]

    def leader_savings(self, fiscal_year: int) -> Value:
        return sum(
            state.savings_yen or 0
            for p, state in self.completed_in(fiscal_year)
            if p.leader is not None and self.certified(p.leader.number, state.ended_on)
        )

    def skill_registration(self, fiscal_year: int) -> Value:
        start, end = fiscal_year_bounds(fiscal_year)
        last = min(end, self.last_export(SKILL))
        assessed = {s.staff.number for s in self.ward.skills if start <= s.assessed_on <= last}
        members = self.population(fiscal_year)
        return rate(sum(1 for s in members if s.number in assessed), len(members))

    # -- measure 3 --------------------------------------------------------------------------

    def specialist_retention(self, fiscal_year: int) -> Value:
        start, end = fiscal_year_bounds(fiscal_year)
        contracts = self.contracts()
        ending = [c for c in contracts if c.term_end and start <= c.term_end <= end]
        renewed = [
            c
            for c in ending
            if any(
                o.contract_type == RENEWAL
                and o.staff_number == c.staff_number
                and c.term_end < o.term_start <= c.term_end + RETENTION_WINDOW
                for o in contracts
            )
        ]
        return rate(len(renewed), len(ending))

    def system_migration(self, fiscal_year: int) -> Value:
        _, end = fiscal_year_bounds(fiscal_year)
        day = self.last_export(MIGRATION)
        states = [m.state_on(day) for m in self.ward.migrations]
        migrated = sum(1 for status, on in states if status == MIGRATED and on and on <= end)
        return 100 * migrated / len(SYSTEMS)

    def cio_advisors(self, fiscal_year: int) -> Value:
        _, end = fiscal_year_bounds(fiscal_year)
        return sum(
            1
            for c in self.contracts()
            if c.role == CIO_ROLE
            and c.term_start <= end
            and (c.term_end is None or c.term_end >= end)
        )

    def career_path(self, fiscal_year: int) -> Value:
        _, end = fiscal_year_bounds(fiscal_year)
        day = self.last_export(REGULATION)
        in_force = [
            r
            for r in self.ward.regulations
            if r.listed_on(day)
            and r.kind == CAREER_PATH
            and r.effective_on <= end
            and (r.repeal_shown_on(day) is None or r.repeal_shown_on(day) > end)
        ]
        return 1 if in_force else 0

    def advice_improvements(self, fiscal_year: int) -> Value:
        return sum(1 for p, _ in self.completed_in(fiscal_year) if p.external_advice)

    def specialist_hires(self, fiscal_year: int) -> Value:
        start, end = fiscal_year_bounds(fiscal_year)
        return sum(
            1 for c in self.contracts() if c.contract_type == NEW and start <= c.term_start <= end
        )

    def private_exchanges(self, fiscal_year: int) -> Value:
        start, end = fiscal_year_bounds(fiscal_year)
        day = self.last_export(EXCHANGE)
        return sum(
            1
            for e in self.ward.exchanges
            if e.listed_on(day)
            and e.counterpart_type == "民間企業"
            and start <= e.started_on <= end
        )

    # -- the first indicators, from the KPI inputs as the end-to-end test reads them ----------

    def basic_training_completion(self, fiscal_year: int) -> Value:
        row = self.inputs[fiscal_year]
        population_count, mandatory = int(row["population"]), int(row["mandatory_basic_courses"])
        completed = int(row["completed_all_mandatory"])
        return 100 * completed / population_count if population_count and mandatory else None

    def proposal_growth(self, fiscal_year: int) -> Value:
        previous = self.inputs.get(fiscal_year - 1)
        previous_count = int(previous["proposals"]) if previous else 0
        count = int(self.inputs[fiscal_year]["proposals"])
        return 100 * (count / previous_count - 1) if previous_count and count else None

    def basic_courses(self, fiscal_year: int) -> Value:
        return int(self.inputs[fiscal_year]["basic_courses"])

    def tool_sessions(self, fiscal_year: int) -> Value:
        return int(self.inputs[fiscal_year]["tool_sessions"])

    def graduates(self, fiscal_year: int) -> Value:
        return int(self.inputs[fiscal_year]["dx_graduates"])


def _paired_tasks(
    measurements: list[Measurement], fiscal_year: int
) -> list[tuple[Measurement, Measurement]]:
    """(before, after) per task: its latest after-measurement dated in the year, and the
    latest before-measurement dated strictly before that one (tasks without are left out)."""
    start, end = fiscal_year_bounds(fiscal_year)
    pairs = []
    for code in sorted({m.task_code for m in measurements}):
        afters = [
            m
            for m in measurements
            if m.task_code == code and m.kind == AFTER and start <= m.measured_on <= end
        ]
        if not afters:
            continue
        after = max(afters, key=lambda m: m.measured_on)
        befores = [
            m
            for m in measurements
            if m.task_code == code and m.kind == BEFORE and m.measured_on < after.measured_on
        ]
        if befores:
            pairs.append((max(befores, key=lambda m: m.measured_on), after))
    return pairs


# indicator id -> (how it is computed, the datasets that must have spoken), in the order of
# indicators.yaml.
INDICATORS: dict[str, tuple[Callable[[WardTruth, int], Value], tuple[str, ...]]] = {
    "m1_kgi_staff_digital_satisfaction": (WardTruth.staff_satisfaction, (STAFF_SURVEY,)),
    "m1_kgi_routine_task_time_reduction": (WardTruth.task_time_reduction, (BPR,)),
    "m1_ksi_basic_training_completion": (WardTruth.basic_training_completion, ()),
    "m1_kpi_proposal_growth": (WardTruth.proposal_growth, ()),
    "m1_kpi_basic_course_count": (WardTruth.basic_courses, ()),
    "m1_kpi_tool_training_sessions": (WardTruth.tool_sessions, ()),
    "m2_kgi_dept_led_dx_projects": (WardTruth.dept_led_projects, (PROJECT,)),
    "m2_kgi_online_procedure_satisfaction": (WardTruth.procedure_satisfaction, (PROCEDURE_SURVEY,)),
    "m2_ksi_certified_dx_leader_ratio": (
        WardTruth.certified_leader_ratio,
        (CERTIFICATION, STAFF),
    ),
    "m2_kpi_dx_leader_cost_savings": (WardTruth.leader_savings, (PROJECT, CERTIFICATION)),
    "m2_kpi_dx_leader_program_graduates": (WardTruth.graduates, ()),
    "m2_kpi_skill_map_registration": (WardTruth.skill_registration, (SKILL, STAFF)),
    "m3_kgi_external_specialist_retention": (WardTruth.specialist_retention, (SPECIALIST,)),
    "m3_kgi_standard_system_migration": (WardTruth.system_migration, (MIGRATION,)),
    "m3_ksi_cio_advisor_count": (WardTruth.cio_advisors, (SPECIALIST,)),
    "m3_ksi_digital_career_path": (WardTruth.career_path, (REGULATION,)),
    "m3_kpi_external_advice_improvements": (WardTruth.advice_improvements, (PROJECT,)),
    "m3_kpi_external_specialist_hires": (WardTruth.specialist_hires, (SPECIALIST,)),
    "m3_kpi_private_sector_exchanges": (WardTruth.private_exchanges, (EXCHANGE,)),
}
OPEN_DATASETS = "ctx_open_datasets"


def ward_values(truth: WardTruth) -> list[dict[str, object]]:
    """One row per generated fiscal year and indicator (the open-data count aside)."""
    rows = []
    for fiscal_year in truth.ward.world.fiscal_years:
        for indicator_id, (compute, sources) in INDICATORS.items():
            spoken = all(truth.spoken(source, fiscal_year) for source in sources)
            value = compute(truth, fiscal_year) if spoken else None
            rows.append(_row(truth.ward.code, fiscal_year, indicator_id, value))
    return rows


def open_dataset_values(
    packages: list[dict[str, Any]], ward_codes: list[str], fiscal_years: list[int]
) -> list[dict[str, object]]:
    """ctx_open_datasets per generated year, as reconstructed from today's catalogue: the
    active public packages created (naive UTC) before the year's end in JST."""
    rows = []
    for code in ward_codes:
        created = [
            datetime.strptime(p["metadata_created"], TIMESTAMP_FORMAT)
            for p in packages
            if ward_code_of(p) == code and is_active_public(p)
        ]
        for fiscal_year in fiscal_years:
            _, end = fiscal_year_bounds(fiscal_year)
            cutoff = datetime(end.year, end.month, end.day, 15)  # midnight JST, in UTC
            count = sum(1 for moment in created if moment < cutoff)
            rows.append(_row(code, fiscal_year, OPEN_DATASETS, count))
    return rows


def _row(code: str, fiscal_year: int, indicator_id: str, value: Value) -> dict[str, object]:
    return {
        "ward_code": code,
        "fiscal_year": fiscal_year,
        "indicator_id": indicator_id,
        "value": "" if value is None else value,
    }
