"""What is true per fiscal year of a simulated ward's staff, training and proposals: the
inputs of the first indicators (truth/kpi_inputs.csv) and the population of every rate."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from ingestion.common.dates import fiscal_year_bounds, fiscal_year_of
from sampledata.world import Staff, WardWorld


def latest_snapshot(fiscal_year: int, snapshot_days: list[date]) -> date | None:
    """The last roster snapshot dated inside the fiscal year."""
    start, end = fiscal_year_bounds(fiscal_year)
    return max((d for d in snapshot_days if start <= d <= end), default=None)


def population(world: WardWorld, fiscal_year: int, snapshot_days: list[date]) -> list[Staff]:
    """population(FY): staff in service on the year's last roster snapshot."""
    last = latest_snapshot(fiscal_year, snapshot_days)
    return [s for s in world.staff if last and s.in_service_on(last)]


def _completions(
    world: WardWorld, day: date
) -> tuple[dict[tuple[str, str], list[date]], dict[int, set[str]]]:
    """Completions as exported by `day`, and the DX-programme graduates per fiscal year."""
    completions: dict[tuple[str, str], list[date]] = defaultdict(list)
    graduates: dict[int, set[str]] = defaultdict(set)
    for e in world.enrollments:
        state = e.state_on(day)
        if state is None or state[0] != "修了" or state[1] is None:
            continue
        completions[(e.staff.number, e.course.code)].append(state[1])
        if e.course.category == "DX推進リーダー育成":
            graduates[fiscal_year_of(state[1])].add(e.staff.number)
    return completions, graduates


def ward_inputs(world: WardWorld, snapshot_days: list[date], day: date) -> list[dict[str, object]]:
    """What is true per fiscal year in the simulated ward as exported by `day` (the KPI
    inputs), given the roster snapshots written."""
    completions, graduates = _completions(world, day)
    tool_sessions: dict[int, int] = defaultdict(int)
    for s in world.sessions:
        if s.course.category == "ツール活用" and s.held_on <= day:
            tool_sessions[fiscal_year_of(s.held_on)] += 1
    proposals: dict[int, int] = defaultdict(int)
    for p in world.proposals:
        if p.submitted_on <= day:
            proposals[fiscal_year_of(p.submitted_on)] += 1

    rows = []
    fiscal_years = set(world.fiscal_years) | set(tool_sessions) | set(graduates)
    for fiscal_year in sorted(fiscal_years):
        start, end = fiscal_year_bounds(fiscal_year)
        members = population(world, fiscal_year, snapshot_days)
        courses = [c for c in world.courses if c.fiscal_year == fiscal_year]
        mandatory = [c for c in courses if c.mandatory and c.category == "デジタル基礎"]
        completed_all = [
            s
            for s in members
            if mandatory
            and all(
                any(start <= d <= end for d in completions[(s.number, c.code)]) for c in mandatory
            )
        ]
        rows.append(
            {
                "ward_code": world.code,
                "fiscal_year": fiscal_year,
                "in_generated_years": fiscal_year in world.fiscal_years,
                "population": len(members),
                "kakaricho_plus": sum(1 for s in members if s.grade >= 2),
                "mandatory_basic_courses": len(mandatory),
                "completed_all_mandatory": len(completed_all),
                "basic_courses": sum(1 for c in courses if c.category == "デジタル基礎"),
                "tool_sessions": tool_sessions.get(fiscal_year, 0),
                "dx_graduates": len(graduates.get(fiscal_year, set())),
                "proposals": proposals.get(fiscal_year, 0),
            }
        )
    return rows
