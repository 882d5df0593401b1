"""The HR system's exports of the skill map, certifications, specialists, exchanges and
regulations (CP932, like the rosters)."""

from __future__ import annotations

import random
from datetime import date

from ingestion.common.dates import fiscal_year_of
from sampledata.exports import ExportWriter, bad_date
from sampledata.profile import EXCHANGES_ABSENT
from sampledata.render import maybe_full_width, spell_date
from sampledata.schedule import Schedule, closing_day, mid_year_day
from sampledata.simulate import SimulatedWard
from sampledata.skills import SkillAssessment

SKILL_HEADER = ["職員番号", "評価年月日", "スキル項目コード", "レベル"]
CERTIFICATION_HEADER = ["職員番号", "認定番号", "認定年月日", "失効年月日"]
SPECIALIST_HEADER = ["契約番号", "職員番号", "職名", "任期開始日", "任期終了日", "契約区分"]
EXCHANGE_HEADER = ["交流番号", "職員番号", "交流先区分", "交流先名", "開始日", "終了日"]
REGULATION_HEADER = ["規程番号", "規程名", "規程区分", "施行日", "廃止日"]


def register_days(ward: SimulatedWard, schedule: Schedule) -> list[date]:
    """HR exports each register whole after every fiscal year's close."""
    return schedule.days(closing_day(year) for year in ward.world.fiscal_years)


def write_hr_registers(writer: ExportWriter, ward: SimulatedWard, schedule: Schedule) -> None:
    """The skill map by fiscal year; the registers whole (one ward never sends exchanges)."""
    write_skills(writer, ward, schedule)
    for day in register_days(ward, schedule):
        write_certifications(writer, ward, day)
        write_specialists(writer, ward, day)
        if ward.profile.exchanges != EXCHANGES_ABSENT:
            write_exchanges(writer, ward, day)
        write_regulations(writer, ward, day)


def write_skills(writer: ExportWriter, ward: SimulatedWard, schedule: Schedule) -> None:
    """Per fiscal year after it closes (and on October 1 in some wards): its assessments."""
    rng = writer.rng
    days = [mid_year_day, closing_day] if ward.profile.skill_mid_year else [closing_day]
    regular = {year: [when(year) for when in days] for year in ward.world.fiscal_years}
    by_year: dict[int, list[SkillAssessment]] = {year: [] for year in regular}
    for sitting in ward.skills:
        by_year[fiscal_year_of(sitting.assessed_on)].append(sitting)
    for day, years in schedule.batches(regular):
        sittings = [s for year in years for s in by_year[year] if s.assessed_on <= day]
        writer.write(
            "hr",
            "skill_assessment",
            day,
            SKILL_HEADER,
            _skill_rows(sittings, rng),
            lambda n, d=day: _dirty_skill(n, d, rng),
        )


def _skill_rows(sittings: list[SkillAssessment], rng: random.Random) -> list[list[str]]:
    """One row per item rated; the items of one sitting share its spelling of the day."""
    rows = []
    for sitting in sittings:
        number = maybe_full_width(sitting.staff.number, rng)
        assessed_on = spell_date(sitting.assessed_on, rng)
        rows += [[number, assessed_on, item, str(level)] for item, level in sitting.levels]
    return rows


def _dirty_skill(position: int, day: date, rng: random.Random) -> list[str]:
    """A level outside 1..4, a day that does not exist, or no staff number."""
    kind = rng.randrange(3)
    if kind == 0:
        return [f"9{position:05d}", spell_date(day, rng), "S07", rng.choice(("7", "0", "５"))]
    if kind == 1:
        return [f"9{position:05d}", bad_date(rng), "S01", "2"]
    return ["", spell_date(day, rng), "S03", "2"]


def write_certifications(writer: ExportWriter, ward: SimulatedWard, day: date) -> None:
    """Every certification granted by `day`, with the lapses that happened by then."""
    rng = writer.rng
    rows = [
        [
            maybe_full_width(c.staff.number, rng),
            maybe_full_width(c.number, rng),
            spell_date(c.certified_on, rng),
            spell_date(c.lapse_shown_on(day), rng),
        ]
        for c in ward.certifications
        if c.listed_on(day)
    ]

    def dirty(position: int) -> list[str]:
        number = f"Z{position:06d}"
        return rng.choice(
            (
                ["001001", number, bad_date(rng), ""],
                ["001001", "", spell_date(day, rng), ""],
                ["001001", number, "2025-04-01", "2024-04-01"],  # lapsed before granted
                ["12345", number, spell_date(day, rng), ""],  # five digits
            )
        )

    writer.write("hr", "dx_leader_certification", day, CERTIFICATION_HEADER, rows, dirty)


def write_specialists(writer: ExportWriter, ward: SimulatedWard, day: date) -> None:
    """Every contract signed by `day` (a month before its term starts)."""
    rng = writer.rng
    rows = [
        [
            c.contract_id,
            maybe_full_width(c.staff_number, rng),
            c.role,
            spell_date(c.term_start, rng),
            spell_date(c.term_end, rng),
            c.contract_type,
        ]
        for c in ward.specialists
        if c.listed_on(day)
    ]

    def dirty(position: int) -> list[str]:
        contract = f"Z{position:06d}"
        return rng.choice(
            (
                [contract, "800001", "CIO補佐官", "2025/4/1", "2026/3/31", "再契約"],
                [contract, "800001", "データサイエンティスト", "2025/4/1", "2024/3/31", "更新"],
                [contract, "", "DX推進マネージャー", "2025/4/1", "2026/3/31", "新規"],
            )
        )

    writer.write("hr", "external_specialist", day, SPECIALIST_HEADER, rows, dirty)


def write_exchanges(writer: ExportWriter, ward: SimulatedWard, day: date) -> None:
    """Every exchange agreed by `day`; none at all in a ward with none (a header alone)."""
    rng = writer.rng
    rows = [
        [
            e.exchange_id,
            maybe_full_width(e.staff.number, rng) if e.staff else "",
            e.counterpart_type,
            e.counterpart_name,
            spell_date(e.started_on, rng),
            spell_date(e.ended_on, rng),
        ]
        for e in ward.exchanges
        if e.listed_on(day)
    ]

    def dirty(position: int) -> list[str]:
        exchange = f"Z{position:06d}"
        return rng.choice(
            (
                [exchange, "", "民間", "株式会社みらいクラウド", "2025/4/1", "2026/3/31"],
                [exchange, "", "国", "総務省", bad_date(rng), ""],
            )
        )

    writer.write("hr", "personnel_exchange", day, EXCHANGE_HEADER, rows, dirty)


def write_regulations(writer: ExportWriter, ward: SimulatedWard, day: date) -> None:
    """Every regulation promulgated by `day`, with the repeals promulgated by then."""
    rng = writer.rng
    rows = [
        [
            r.regulation_id,
            r.name,
            r.kind,
            spell_date(r.effective_on, rng),
            spell_date(r.repeal_shown_on(day), rng),
        ]
        for r in ward.regulations
        if r.listed_on(day)
    ]

    def dirty(position: int) -> list[str]:
        regulation = f"Z{position:06d}"
        return rng.choice(
            (
                [regulation, "規程案", "", "2025/4/1", ""],
                [regulation, "規程案", "研修", bad_date(rng), ""],
            )
        )

    writer.write("hr", "hr_regulation", day, REGULATION_HEADER, rows, dirty)
