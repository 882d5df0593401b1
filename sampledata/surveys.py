"""The staff survey (anonymous, once a year) and the online-procedure user survey."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ingestion.common.dates import fiscal_year_bounds
from sampledata.world import FREE_TEXT_MARKERS, SURNAMES, WardWorld, random_day

SURVEY_MARKER = FREE_TEXT_MARKERS[0]
COMMENTS = (
    "RPAで残業が減った",
    "研修をもっと増やしてほしい",
    "端末の動作が遅い",
    "チャットツールで連絡が早くなった",
    "紙の決裁がまだ多い",
)
NAMED_COMMENTS = (
    "{}さんに教わって生成AIを使えるようになった",
    "{}係長のおかげで申請が電子化できた",
)
# Procedure names reach the warehouse: names of procedures, never of people.
PROCEDURES = (
    ("P001", "住民票の写しの交付請求"),
    ("P002", "転出届"),
    ("P003", "児童手当認定請求"),
    ("P004", "保育所入所申込"),
    ("P005", "粗大ごみ収集申込"),
    ("P006", "図書館利用登録"),
    ("P007", "税証明書の交付請求"),
    ("P008", "介護保険負担割合証の再交付申請"),
)
SURVEY_DAYS = 21


@dataclass(frozen=True, slots=True)
class StaffResponse:
    response_id: str
    answered_on: date
    department: int
    grade_group: str
    satisfaction: int | None
    comment: str


@dataclass
class StaffSurvey:
    """The responses, and the day each year's survey closed."""

    responses: list[StaffResponse] = field(default_factory=list)
    closes_on: dict[int, date] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProcedureResponse:
    response_id: str
    procedure: tuple[str, str]
    answered_at: datetime
    satisfaction: int | None


def _score(rng: random.Random, mood: float, blank_share: float) -> int | None:
    if rng.random() < blank_share:
        return None
    return min(5, max(1, round(rng.gauss(mood, 1.0))))


def _grade_group(grade: int) -> str:
    return "一般" if grade <= 1 else "係長級" if grade == 2 else "管理職"


def _comment(rng: random.Random) -> str:
    """Mostly no free text; otherwise marked, and now and then naming a colleague."""
    roll = rng.random()
    if roll < 0.6:
        return ""
    if roll < 0.7:
        return SURVEY_MARKER + rng.choice(NAMED_COMMENTS).format(rng.choice(SURNAMES))
    return SURVEY_MARKER + rng.choice(COMMENTS)


def simulate_staff_survey(world: WardWorld, rng: random.Random) -> StaffSurvey:
    """Once a year for three weeks, 30-60% of the staff in service answer."""
    survey = StaffSurvey()
    for index, fiscal_year in enumerate(world.fiscal_years):
        opens = random_day(rng, date(fiscal_year, 9, 1), date(fiscal_year + 1, 1, 15))
        closes = opens + timedelta(days=SURVEY_DAYS - 1)
        survey.closes_on[fiscal_year] = closes
        share, mood = rng.uniform(0.3, 0.6), rng.uniform(2.8, 3.6) + 0.2 * index
        for staff in world.staff:
            if not staff.in_service_on(opens) or rng.random() >= share:
                continue
            survey.responses.append(
                StaffResponse(
                    response_id=f"{fiscal_year}-{len(survey.responses) + 1:06d}",
                    answered_on=random_day(rng, opens, closes),
                    department=staff.department,
                    grade_group=_grade_group(staff.grade),
                    satisfaction=_score(rng, mood, 0.06),
                    comment=_comment(rng),
                )
            )
    return survey


def simulate_procedure_survey(
    fiscal_years: list[int], rng: random.Random
) -> list[ProcedureResponse]:
    """Residents answer all year round, at any hour; a few just before and after midnight at
    the turn of the fiscal year."""
    responses: list[ProcedureResponse] = []
    mood = rng.uniform(3.0, 3.8)
    for fiscal_year in fiscal_years:
        start, end = fiscal_year_bounds(fiscal_year)
        moments = [
            datetime.combine(
                random_day(rng, start, end), time(rng.randrange(24), rng.randrange(60))
            )
            for _ in range(rng.randint(200, 1200))
        ]
        moments += [
            datetime.combine(start, time(0, rng.randrange(10), rng.randrange(60))),
            datetime.combine(end, time(23, 50 + rng.randrange(10), rng.randrange(60))),
        ]
        for moment in sorted(moments):
            responses.append(
                ProcedureResponse(
                    response_id=f"W{len(responses) + 1:07d}",
                    procedure=rng.choice(PROCEDURES),
                    answered_at=moment,
                    satisfaction=_score(rng, mood, 0.1),
                )
            )
    return responses
