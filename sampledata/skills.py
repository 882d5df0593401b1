"""The skill map and the DX-leader certifications of a simulated ward's staff."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ingestion.common.dates import fiscal_year_bounds
from sampledata.world import Staff, WardWorld, random_day

SKILL_ITEMS = tuple(f"S{number:02d}" for number in range(1, 23))
# Self-assessed levels lean to the lower ones.
LEVELS = (1, 1, 2, 2, 2, 3, 3, 4)
DX_PROGRAMME = "DX推進リーダー育成"


@dataclass(frozen=True, slots=True)
class SkillAssessment:
    """One sitting of the skill-map self-assessment: several items rated on one day."""

    staff: Staff
    assessed_on: date
    levels: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Certification:
    """A DX-leader certification, with the day it lapses if it does (失効年月日)."""

    staff: Staff
    number: str
    certified_on: date
    lapsed_on: date | None = None

    def listed_on(self, day: date) -> bool:
        """The register lists a certification from the day it is granted."""
        return self.certified_on <= day

    def lapse_shown_on(self, day: date) -> date | None:
        """The 失効年月日 the register shows on `day`: a lapse once it has happened."""
        return self.lapsed_on if self.lapsed_on is not None and self.lapsed_on <= day else None

    def valid_on(self, day: date, seen_on: date) -> bool:
        """Valid on `day` as the register of `seen_on` tells."""
        lapsed_on = self.lapse_shown_on(seen_on)
        return self.certified_on <= day and (lapsed_on is None or lapsed_on > day)


def simulate_skills(world: WardWorld, share: float, rng: random.Random) -> list[SkillAssessment]:
    """Each year, a share of the staff in service rate a few of the 22 items on one day."""
    sittings = []
    for fiscal_year in world.fiscal_years:
        start, end = fiscal_year_bounds(fiscal_year)
        for staff in world.staff:
            first = max(start, staff.first_hired)
            last = end if staff.leave_date is None else min(end, staff.leave_date - timedelta(1))
            if first > last or rng.random() >= share:
                continue
            items = sorted(rng.sample(SKILL_ITEMS, rng.randint(2, 6)))
            levels = tuple((item, rng.choice(LEVELS)) for item in items)
            sittings.append(SkillAssessment(staff, random_day(rng, first, last), levels))
    return sittings


def graduations(world: WardWorld) -> list[tuple[Staff, date]]:
    """Who completed the DX-leader programme, and when (the cohort's last completion)."""
    graduated: dict[tuple[str, int], tuple[Staff, date]] = {}
    for e in world.enrollments:
        if e.course.category != DX_PROGRAMME or e.status != "修了" or e.completed_on is None:
            continue
        key = (e.staff.number, e.course.fiscal_year)
        _, day = graduated.get(key, (e.staff, e.completed_on))
        graduated[key] = (e.staff, max(day, e.completed_on))
    return sorted(graduated.values(), key=lambda item: (item[1], item[0].number))


class CertificationBuilder:
    """Certifies graduates some weeks after they graduate; some certifications lapse, and a
    few holders are certified again (a second number for the same person). The ward's first
    holder always lets the certification lapse and is certified again later; its second one
    is renewed under a new number while the first still runs (two valid at once)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.certifications: list[Certification] = []
        self._holders: set[str] = set()

    def build(self, world: WardWorld) -> list[Certification]:
        for staff, graduated_on in graduations(world):
            if staff.number in self._holders or self.rng.random() > 0.8:
                continue
            certified_on = graduated_on + timedelta(days=self.rng.randint(20, 120))
            if staff.leave_date is not None and staff.leave_date <= certified_on:
                continue
            self._holders.add(staff.number)
            self._certify(staff, certified_on, self._story(len(self._holders)))
        return sorted(self.certifications, key=lambda c: (c.certified_on, c.number))

    def _story(self, holder: int) -> str:
        if holder <= 2:
            return ("lapses_then_again", "renewed_early")[holder - 1]
        roll = self.rng.random()
        if roll < 0.1:
            return "lapses_then_again"
        if roll < 0.2:
            return "lapses"
        return "renewed_early" if roll > 0.93 else "holds"

    def _number(self, day: date) -> str:
        return f"DXL{day.year}-{len(self.certifications) + 1:04d}"

    def _add(self, staff: Staff, certified_on: date, lapsed_on: date | None = None) -> None:
        number = self._number(certified_on)
        self.certifications.append(Certification(staff, number, certified_on, lapsed_on))

    def _certify(self, staff: Staff, certified_on: date, story: str) -> None:
        rng = self.rng
        if story == "holds":
            self._add(staff, certified_on)
        elif story in ("lapses", "lapses_then_again"):
            lapsed_on = certified_on + timedelta(days=rng.randint(120, 400))
            self._add(staff, certified_on, lapsed_on)
            if story == "lapses_then_again":
                # Certified again after a gap with no valid certification.
                self._add(staff, lapsed_on + timedelta(days=rng.randint(20, 120)))
        else:
            # Renewed under a new number while the first one still ran for a while.
            again = certified_on + timedelta(days=rng.randint(150, 300))
            self._add(staff, certified_on, again + timedelta(days=rng.randint(10, 90)))
            self._add(staff, again)
