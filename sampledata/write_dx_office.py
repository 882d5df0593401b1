"""The DX office's registers: projects, BPR measurements, the core-system migration."""

from __future__ import annotations

import random
from datetime import date

from sampledata.bpr import Measurement
from sampledata.exports import ExportWriter, bad_date, department_code
from sampledata.projects import PROJECT_MARKER, Project
from sampledata.render import full_width, maybe_full_width, spell_amount, spell_date
from sampledata.schedule import Schedule, closing_day, mid_year_day
from sampledata.simulate import SimulatedWard

PROJECT_HEADER = [
    "事業番号",
    "事業名",
    "所管所属コード",
    "リーダー職員番号",
    "開始日",
    "終了日",
    "状態",
    "外部人材助言",
    "削減効果額(年額)",
]
BPR_HEADER = ["業務コード", "業務名", "計測区分", "計測日", "処理時間(分/件)", "年間件数"]
MIGRATION_HEADER = ["業務番号", "業務名", "移行状態", "移行完了日"]


def project_days(ward: SimulatedWard, schedule: Schedule) -> list[date]:
    """The project register, whole, on October 1 and after each year's close."""
    years = ward.world.fiscal_years
    return schedule.days([mid_year_day(y) for y in years] + [closing_day(y) for y in years])


def bpr_days(ward: SimulatedWard, schedule: Schedule) -> list[date]:
    """Every measurement so far, after each year's close."""
    return schedule.days(closing_day(year) for year in ward.world.fiscal_years)


def migration_days(ward: SimulatedWard, schedule: Schedule) -> list[date]:
    """A snapshot of the 20 systems mid-year (October 1) and after each year's close.

    Half-yearly rather than quarterly: every export file costs the pipeline a validation and
    a load of its own, and two snapshots a year already move the migration KGI."""
    days = []
    for year in ward.world.fiscal_years:
        days += [date(year, 10, 1), closing_day(year)]
    return schedule.days(days)


def write_dx_office(writer: ExportWriter, ward: SimulatedWard, schedule: Schedule) -> None:
    """Every DX-office register, each on its own calendar."""
    for day in project_days(ward, schedule):
        write_projects(writer, ward, day)
    for day in bpr_days(ward, schedule):
        write_measurements(writer, ward.measurements, day)
    for day in migration_days(ward, schedule):
        write_migrations(writer, ward, day)


def _amount(yen: int | None, rng: random.Random, encoding: str) -> str:
    """A yen amount; CP932 has no ¥ of its own (0x5C is a backslash): ￥ there."""
    text = spell_amount(yen, rng)
    return text.replace("¥", "￥") if encoding == "cp932" else text


def _project_row(
    project: Project, day: date, rng: random.Random, encoding: str
) -> list[str] | None:
    state = project.state_on(day)
    if state is None:
        return None
    leader = project.leader
    return [
        maybe_full_width(project.project_id, rng),
        project.name,
        department_code(project.department),
        maybe_full_width(leader.number, rng) if leader else "",
        spell_date(project.started_on, rng),
        spell_date(state.ended_on, rng),
        state.status,
        "有" if project.external_advice else "無",
        _amount(state.savings_yen, rng, encoding),
    ]


def write_projects(writer: ExportWriter, ward: SimulatedWard, day: date) -> None:
    """The project register on `day`: every project registered so far, as it stands."""
    rng = writer.rng
    encoding = ward.profile.project_encoding
    rows = [row for p in ward.projects if (row := _project_row(p, day, rng, encoding)) is not None]

    def dirty(position: int) -> list[str]:
        number, name = f"Z{position:06d}", f"{PROJECT_MARKER}誤登録"
        start = spell_date(day, rng)
        return rng.choice(
            (
                [number, name, "0100", "", start, "", "?", "無", ""],
                [number, name, "0100", "", start, "", "実施中", "不明", ""],
                [number, name, "0100", "", bad_date(rng), "", "企画", "無", ""],
                ["", name, "0100", "", start, "", "企画", "無", ""],
                [number, name, "0100", "", start, start, "完了", "無", "-500000"],
            )
        )

    writer.write(
        "dx_office",
        "dx_project",
        day,
        PROJECT_HEADER,
        rows,
        dirty,
        encoding=encoding,
    )


def _cases(cases: int, rng: random.Random) -> str:
    text = f"{cases:,}" if rng.random() < 0.3 else str(cases)
    return full_width(text).replace(",", "，") if rng.random() < 0.05 else text


def write_measurements(writer: ExportWriter, measurements: list[Measurement], day: date) -> None:
    """Every BPR measurement taken by `day`."""
    rng = writer.rng
    rows = [
        [
            maybe_full_width(m.task_code, rng),
            m.task_name,
            m.kind,
            spell_date(m.measured_on, rng),
            maybe_full_width(f"{m.minutes:g}", rng),
            _cases(m.cases, rng),
        ]
        for m in measurements
        if m.measured_on <= day
    ]

    def dirty(position: int) -> list[str]:
        code, measured = f"Z{position:05d}", spell_date(day, rng)
        return rng.choice(
            (
                [code, "窓口受付", "改善中", measured, "12.5", "1200"],
                [code, "窓口受付", "改善前", measured, "約10", "1200"],
                ["", "窓口受付", "改善後", measured, "8.0", "1200"],
                [code, "窓口受付", "改善前", bad_date(rng), "12.5", "1200"],
            )
        )

    writer.write("dx_office", "bpr_measurement", day, BPR_HEADER, rows, dirty)


def write_migrations(writer: ExportWriter, ward: SimulatedWard, day: date) -> None:
    """A full snapshot of the 20 systems' migration on `day`."""
    rng = writer.rng
    rows = []
    for migration in ward.migrations:
        status, migrated_on = migration.state_on(day)
        code = maybe_full_width(migration.code, rng)
        rows.append([code, migration.name, status, spell_date(migrated_on, rng)])
    writer.write(
        "dx_office",
        "system_migration",
        day,
        MIGRATION_HEADER,
        rows,
        lambda n: [f"Z{n:02d}", "住民基本台帳", "完了済", ""],
    )
