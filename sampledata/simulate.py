"""One simulated ward: its staff, training and proposals (world.py) and the programme's other
records, each drawn from its own random stream so that one does not move another."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sampledata.bpr import Measurement, simulate_bpr
from sampledata.hr_registers import (
    Exchange,
    Regulation,
    SpecialistBuilder,
    SpecialistContract,
    simulate_exchanges,
    simulate_regulations,
)
from sampledata.migration import Migration, simulate_migrations
from sampledata.profile import EXCHANGES_EMPTY, WardProfile, ward_profile
from sampledata.projects import Project, ProjectBuilder
from sampledata.skills import (
    Certification,
    CertificationBuilder,
    SkillAssessment,
    simulate_skills,
)
from sampledata.surveys import (
    ProcedureResponse,
    StaffSurvey,
    simulate_procedure_survey,
    simulate_staff_survey,
)
from sampledata.world import WardWorld, WorldBuilder


@dataclass
class SimulatedWard:
    """Everything that happened in one ward over the simulated fiscal years."""

    world: WardWorld
    profile: WardProfile
    skills: list[SkillAssessment]
    certifications: list[Certification]
    specialists: list[SpecialistContract]
    exchanges: list[Exchange]
    regulations: list[Regulation]
    projects: list[Project]
    measurements: list[Measurement]
    migrations: list[Migration]
    staff_survey: StaffSurvey
    procedure_survey: list[ProcedureResponse]

    @property
    def code(self) -> str:
        return self.world.code


def simulate_ward(
    code: str, index: int, staff_count: int, fiscal_years: list[int], seed: int
) -> SimulatedWard:
    """Simulate the ward at `index` of the generated list, deterministically from the seed."""
    world = WorldBuilder(code, staff_count, fiscal_years, seed).build()
    profile = ward_profile(index, code, seed)

    def stream(name: str) -> random.Random:
        return random.Random(f"{seed}:{code}:{name}")

    years = world.fiscal_years
    certifications = CertificationBuilder(stream("certification")).build(world)
    exchanges = simulate_exchanges(world, stream("exchange"))
    return SimulatedWard(
        world=world,
        profile=profile,
        skills=simulate_skills(world, profile.skill_share, stream("skill")),
        certifications=certifications,
        specialists=SpecialistBuilder(stream("specialist"), years, profile.cio).build(),
        exchanges=[] if profile.exchanges == EXCHANGES_EMPTY else exchanges,
        regulations=simulate_regulations(stream("regulation"), years, profile.career_path),
        projects=ProjectBuilder(stream("project"), certifications).build(world),
        measurements=simulate_bpr(stream("bpr"), years),
        migrations=simulate_migrations(stream("migration")),
        staff_survey=simulate_staff_survey(world, stream("staff_survey")),
        procedure_survey=simulate_procedure_survey(years, stream("procedure_survey")),
    )
