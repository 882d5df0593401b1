"""The survey tools' exports (UTF-8 with a BOM)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from ingestion.common.dates import fiscal_year_of
from sampledata.exports import ExportWriter, bad_date
from sampledata.render import spell_date, wareki
from sampledata.schedule import Schedule, half_year_days
from sampledata.simulate import SimulatedWard
from sampledata.surveys import SURVEY_MARKER, ProcedureResponse, StaffResponse

STAFF_SURVEY_HEADER = [
    "回答ID",
    "回答日",
    "所属部コード",
    "職層区分",
    "デジタル業務環境満足度",
    "自由記述",
]
PROCEDURE_SURVEY_HEADER = ["回答ID", "手続コード", "手続名", "回答日時", "満足度"]
ENCODING = "utf-8-sig"
# The survey tool's results are exported two weeks after the survey closes.
EXPORT_DELAY = timedelta(days=14)


def write_surveys(writer: ExportWriter, ward: SimulatedWard, schedule: Schedule) -> None:
    """Both surveys' exports."""
    write_staff_survey(writer, ward, schedule)
    write_procedure_survey(writer, ward.procedure_survey, schedule)


def _score(score: int | None) -> str:
    return "" if score is None else str(score)


def _staff_row(response: StaffResponse, rng: random.Random) -> list[str]:
    return [
        response.response_id,
        spell_date(response.answered_on, rng),
        f"{response.department + 1:02d}",
        response.grade_group,
        _score(response.satisfaction),
        response.comment,
    ]


def write_staff_survey(writer: ExportWriter, ward: SimulatedWard, schedule: Schedule) -> None:
    """One export a year, after the survey closed, of that year's responses."""
    rng = writer.rng
    survey = ward.staff_survey
    regular = {year: [day + EXPORT_DELAY] for year, day in survey.closes_on.items()}
    for day, years in schedule.batches(regular):
        rows = [
            _staff_row(r, rng)
            for r in survey.responses
            if fiscal_year_of(r.answered_on) in years and r.answered_on <= day
        ]

        def dirty(position: int, day: date = day) -> list[str]:
            answer_id, answered = f"Z{position:06d}", spell_date(day, rng)
            comment = SURVEY_MARKER + "テスト回答"
            return rng.choice(
                (
                    [answer_id, answered, "01", "一般", "9", comment],
                    [answer_id, bad_date(rng), "01", "一般", "3", comment],
                    ["", answered, "01", "一般", "4", comment],
                )
            )

        writer.write("surveys", "staff_survey", day, STAFF_SURVEY_HEADER, rows, dirty, ENCODING)


def spell_moment(moment: datetime, rng: random.Random) -> str:
    """回答日時 as survey tools write it: 2025-06-03 14:22, 2025/6/3 9:05:00 or
    令和7年6月3日 14:22 (JST wall time)."""
    roll = rng.random()
    if roll < 0.5:
        return f"{moment:%Y-%m-%d %H:%M}"
    if roll < 0.9:
        return f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment:%M:%S}"
    return f"{wareki(moment.date(), 'kanji')} {moment:%H:%M}"


def _procedure_row(response: ProcedureResponse, rng: random.Random) -> list[str]:
    code, name = response.procedure
    return [
        response.response_id,
        code,
        name,
        spell_moment(response.answered_at, rng),
        _score(response.satisfaction),
    ]


def write_procedure_survey(
    writer: ExportWriter, responses: list[ProcedureResponse], schedule: Schedule
) -> None:
    """Every half year, the responses since the previous export."""
    rng = writer.rng
    days = [day for year in schedule.fiscal_years for day in half_year_days(year)]
    for day, first, last in schedule.windows(days):
        rows = [_procedure_row(r, rng) for r in responses if first <= r.answered_at.date() <= last]

        def dirty(position: int, day: date = first) -> list[str]:
            answer_id = f"Z{position:06d}"
            return rng.choice(
                (
                    [answer_id, "P001", "住民票の写しの交付請求", f"{day:%Y-%m-%d} 25:00", "4"],
                    [answer_id, "P002", "転出届", f"{day:%Y-%m-%d} 10:15", "9"],
                    [answer_id, "P003", "児童手当認定請求", f"{bad_date(rng)} 9:30", "3"],
                    ["", "P004", "保育所入所申込", f"{day:%Y-%m-%d} 11:00", "5"],
                )
            )

        writer.write(
            "surveys", "procedure_survey", day, PROCEDURE_SURVEY_HEADER, rows, dirty, ENCODING
        )
