"""The DX office's project register: projects led by staff, certified DX leaders or not."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ingestion.common.dates import fiscal_year_bounds, fiscal_year_of
from sampledata.skills import Certification
from sampledata.world import (
    DEPARTMENTS,
    FREE_TEXT_MARKERS,
    Staff,
    WardWorld,
    grade_title,
    random_day,
    surname_of,
)

PLANNED, RUNNING, COMPLETED, CANCELLED = "企画", "実施中", "完了", "中止"
PROJECT_MARKER = FREE_TEXT_MARKERS[1]
THEMES = (
    "RPA導入",
    "電子申請の拡充",
    "AI-OCRによる入力業務の自動化",
    "ペーパーレス会議の推進",
    "チャットボットによる問合せ対応",
    "キャッシュレス決済の導入",
    "庁内データ連携基盤の構築",
    "窓口予約システムの導入",
    "ノーコードツールによる業務アプリ作成",
    "生成AIの試行導入",
)
SAVINGS = (None, 0, 300_000, 1_200_000, 2_400_000, 4_800_000, 12_000_000)


@dataclass(frozen=True)
class ProjectState:
    """A project as the register shows it on one day."""

    status: str
    ended_on: date | None
    savings_yen: int | None


@dataclass(frozen=True)
class Project:
    """A project, with its final outcome and the day it is reached (`closes_on`)."""

    project_id: str
    name: str
    department: int
    leader: Staff | None
    started_on: date
    planning_days: int
    outcome: str
    closes_on: date | None
    end_recorded: bool
    external_advice: bool
    savings_yen: int | None

    def state_on(self, day: date) -> ProjectState | None:
        """The register's row on `day`, None before the project is registered."""
        if day < self.started_on:
            return None
        if self.closes_on is not None and self.closes_on <= day:
            ended_on = self.closes_on if self.end_recorded else None
            savings = self.savings_yen if self.outcome == COMPLETED else None
            return ProjectState(self.outcome, ended_on, savings)
        planning = self.outcome == PLANNED or day < self.started_on + timedelta(self.planning_days)
        return ProjectState(PLANNED if planning else RUNNING, None, None)


class ProjectBuilder:
    """Projects started each year; many led by certified DX leaders (some by the same one),
    some by other staff; completed, cancelled, still running or never past planning.

    A few more put the savings rule to the test in every ward with certified leaders: the
    first two leaders each complete a project while certified (the second while holding two
    certifications at once: its savings count once), and the first completes another in the
    gap after its certification lapsed (its savings do not count).
    """

    def __init__(self, rng: random.Random, certifications: list[Certification]) -> None:
        self.rng = rng
        self.certifications = certifications
        self.projects: list[Project] = []

    def build(self, world: WardWorld) -> list[Project]:
        for fiscal_year in world.fiscal_years:
            start, end = fiscal_year_bounds(fiscal_year)
            staff = [s for s in world.staff if s.in_service_on(start) and s.grade >= 1]
            count = max(3, int(len(staff) * self.rng.uniform(0.006, 0.015)))
            for number in range(1, count + 1):
                started_on = random_day(self.rng, start, end)
                leader = self._leader(staff, started_on)
                self.projects.append(self._project(fiscal_year, number, leader, started_on))
        self._showcase(fiscal_year_bounds(world.fiscal_years[-1])[1])
        return self.projects

    def _showcase(self, horizon: date) -> None:
        holders: dict[str, list[Certification]] = {}
        for certification in sorted(self.certifications, key=lambda c: c.certified_on):
            holders.setdefault(certification.staff.number, []).append(certification)
        for certifications in list(holders.values())[:2]:
            first = certifications[0]
            completed_on = first.certified_on + timedelta(days=self.rng.randint(20, 60))
            if (
                len(certifications) > 1
                and first.lapsed_on
                and first.lapsed_on > (certifications[1].certified_on)
            ):
                completed_on = certifications[1].certified_on + timedelta(days=3)
            self._completed(first.staff, completed_on, horizon)
            if (
                len(certifications) > 1
                and first.lapsed_on
                and first.lapsed_on < (certifications[1].certified_on)
            ):
                self._completed(first.staff, first.lapsed_on + timedelta(days=5), horizon)

    def _completed(self, leader: Staff, completed_on: date, horizon: date) -> None:
        """A project of the leader's, completed on `completed_on` if that is not too late."""
        if completed_on > horizon:
            return
        started_on = completed_on - timedelta(days=self.rng.randint(90, 240))
        self.projects.append(
            Project(
                project_id=f"DX{fiscal_year_of(started_on) % 100:02d}-{901 + len(self.projects)}",
                name=f"{surname_of(leader)}{grade_title(leader)}による{self.rng.choice(THEMES)}",
                department=leader.department,
                leader=leader,
                started_on=started_on,
                planning_days=self.rng.randint(0, 30),
                outcome=COMPLETED,
                closes_on=completed_on,
                end_recorded=True,
                external_advice=self.rng.random() < 0.5,
                savings_yen=self.rng.choice(SAVINGS[2:]),
            )
        )

    def _leader(self, staff: list[Staff], day: date) -> Staff | None:
        roll = self.rng.random()
        certified = [
            c.staff
            for c in self.certifications
            if c.valid_on(day, day) and c.staff.in_service_on(day)
        ]
        if certified and roll < 0.6:
            return self.rng.choice(certified)
        return self.rng.choice(staff) if staff and roll < 0.97 else None

    def _project(
        self, fiscal_year: int, number: int, leader: Staff | None, started_on: date
    ) -> Project:
        rng = self.rng
        outcome = rng.choices((COMPLETED, CANCELLED, RUNNING, PLANNED), (55, 10, 25, 10))[0]
        closes_on = None
        if outcome in (COMPLETED, CANCELLED):
            closes_on = started_on + timedelta(days=rng.randint(30, 420))
        department = leader.department if leader else rng.randrange(len(DEPARTMENTS))
        theme = rng.choice(THEMES)
        if leader is not None and rng.random() < 0.3:
            name = f"{surname_of(leader)}{grade_title(leader)}による{theme}"
        else:
            name = f"{PROJECT_MARKER}{DEPARTMENTS[department]}の{theme}"
        return Project(
            project_id=f"DX{fiscal_year % 100:02d}-{number:03d}",
            name=name,
            department=department,
            leader=leader,
            started_on=started_on,
            planning_days=rng.randint(0, 45),
            outcome=outcome,
            closes_on=closes_on,
            end_recorded=outcome == COMPLETED or rng.random() < 0.8,
            external_advice=rng.random() < 0.3,
            savings_yen=rng.choice(SAVINGS) if outcome == COMPLETED else None,
        )
