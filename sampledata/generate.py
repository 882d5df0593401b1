"""Generate sample exports of every source system, and the truth behind them.

    dxkpi-generate --out data --wards all --staff 1000-5000 --years 2023,2024,2025 --seed 7

writes `<out>/landing/<system>/<ward>_<dataset>_<YYYYMMDD>.csv` as sources.md describes them
(CP932 and UTF-16/UTF-8 with BOM, title rows, 和暦 in several spellings, full-width digits,
fiscal-year appointees re-appointed every April, group proposals, late completions, dirty
rows), `<out>/catalogue/packages.json` for the local CKAN server, and `<out>/truth/`: what is
true per ward and fiscal year, computed from the simulation, never from the files:
`kpi_values.csv` (every indicator, empty = null), `kpi_inputs.csv`, `open_data.csv` and
`dirty_rows.csv`. `--as-of YYYY-MM-DD` stops the story on a day of the last fiscal year.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

from ingestion.common.dates import fiscal_year_bounds, fiscal_year_of
from ingestion.common.reference import load_wards
from sampledata.catalogue import active_public_counts, generate_catalogue, write_catalogue
from sampledata.exports import (
    MAX_DIRTY_SHARE_PER_FILE,
    ExportWriter,
    GeneratorConfig,
    bad_date,
    department_code,
)
from sampledata.render import (
    maybe_full_width,
    spell_amount,
    spell_date,
    spell_fiscal_year,
)
from sampledata.schedule import Schedule, closing_day, mid_year_day
from sampledata.simulate import simulate_ward
from sampledata.truth import INDICATORS, OPEN_DATASETS, WardTruth, open_dataset_values, ward_values
from sampledata.truth_inputs import ward_inputs
from sampledata.world import DEPARTMENTS, GRADES, KANA, SURNAMES, Enrollment, WardWorld
from sampledata.write_dx_office import write_dx_office
from sampledata.write_hr import write_hr_registers
from sampledata.write_surveys import write_surveys

__all__ = ["MAX_DIRTY_SHARE_PER_FILE", "ExportWriter", "GeneratorConfig", "generate", "main"]

STAFF_HEADER = [
    "職員番号",
    "氏名",
    "氏名カナ",
    "所属コード",
    "所属名",
    "職層",
    "職名",
    "任用形態",
    "採用年月日",
    "退職年月日",
]
COURSE_HEADER = ["年度", "コースコード", "コース名", "研修区分", "必修区分", "形式", "時間数"]
SESSION_HEADER = ["実施番号", "コースコード", "実施日", "定員", "会場"]
ENROLLMENT_HEADER = [
    "受講番号",
    "職員番号",
    "コースコード",
    "実施番号",
    "申込日",
    "受講状況",
    "修了日",
]
PROPOSAL_HEADER = [
    "提案番号",
    "提出日",
    "提案者職員番号",
    "所属コード",
    "提案区分",
    "件名",
    "審査結果",
    "効果額",
]


def write_staff(writer: ExportWriter, world: WardWorld, schedule: Schedule) -> None:
    """One full roster snapshot per month."""
    rng = writer.rng
    for day in schedule.days(world.snapshot_dates()):
        rows = [
            [
                maybe_full_width(s.number, rng),
                s.name,
                s.kana,
                maybe_full_width(department_code(s.department), rng),
                DEPARTMENTS[s.department],
                GRADES[s.grade][0],
                GRADES[s.grade][1],
                s.employment,
                spell_date(s.hired_on_record(day), rng),
                spell_date(s.retirement_shown_on(day), rng),
            ]
            for s in world.staff
            if s.listed_on(day)
        ]

        def dirty(position: int) -> list[str]:
            return [
                f"9{position:05d}",
                f"{SURNAMES[0]}（誤入力）",
                KANA[0],
                "0100",
                "総務部総務課",
                "係員",
                "主事",
                "正規",
                bad_date(rng),
                "",
            ]

        writer.write("hr", "staff", day, STAFF_HEADER, rows, dirty)


def write_training(writer: ExportWriter, world: WardWorld, schedule: Schedule) -> None:
    """Per fiscal year: the plan on April 1, sessions and enrolments after the year closes,
    and a mid-year enrolment export on October 1 that the year-end one supersedes."""
    years = world.fiscal_years
    for day, batch in schedule.batches({y: [date(y, 4, 1)] for y in years}):
        write_courses(writer, world, day, batch)
    for day, batch in schedule.batches({y: [closing_day(y)] for y in years}):
        write_sessions(writer, world, day, batch)
    for day, batch in schedule.batches({y: [mid_year_day(y), closing_day(y)] for y in years}):
        write_enrollments(writer, world, day, batch)


def write_courses(
    writer: ExportWriter, world: WardWorld, day: date, fiscal_years: tuple[int, ...]
) -> None:
    rng = writer.rng
    course_rows = [
        [
            spell_fiscal_year(c.fiscal_year, rng),
            maybe_full_width(c.code, rng),
            c.name,
            c.category,
            "必修" if c.mandatory else "選択",
            c.delivery,
            maybe_full_width(f"{c.hours:g}", rng),
        ]
        for c in world.courses
        if c.fiscal_year in fiscal_years
    ]
    writer.write(
        "training",
        "course",
        day,
        COURSE_HEADER,
        course_rows,
        lambda n: ["来年度", f"ZZ{n:04d}", "未定", "デジタル基礎", "必修", "集合", "約2"],
    )


def write_sessions(
    writer: ExportWriter, world: WardWorld, day: date, fiscal_years: tuple[int, ...]
) -> None:
    rng = writer.rng
    session_rows = [
        [s.session_id, s.course.code, spell_date(s.held_on, rng), str(s.capacity), s.venue]
        for s in world.sessions
        if s.course.fiscal_year in fiscal_years and s.held_on <= day
    ]
    writer.write(
        "training",
        "session",
        day,
        SESSION_HEADER,
        session_rows,
        lambda n: [f"X{n:06d}", "TL0000", bad_date(rng), "未定", "未定"],
    )


def write_enrollments(
    writer: ExportWriter, world: WardWorld, day: date, fiscal_years: tuple[int, ...]
) -> None:
    rng = writer.rng
    enrollments = [e for e in world.enrollments if e.course.fiscal_year in fiscal_years]
    rows = [_enrollment_row(e, day, rng) for e in enrollments]
    present = [row for row in rows if row is not None]
    writer.write(
        "training",
        "enrollment",
        day,
        ENROLLMENT_HEADER,
        present,
        lambda n: _dirty_enrollment(n, enrollments, rng),
    )


def _enrollment_row(enrollment: Enrollment, day: date, rng: random.Random) -> list[str] | None:
    state = enrollment.state_on(day)
    if state is None:
        return None
    status, completed_on = state
    return [
        enrollment.enrollment_id,
        maybe_full_width(enrollment.staff.number, rng),
        enrollment.course.code,
        enrollment.session.session_id if enrollment.session else "",
        spell_date(enrollment.applied_on, rng),
        status,
        spell_date(completed_on, rng),
    ]


def _dirty_enrollment(
    position: int, enrollments: list[Enrollment], rng: random.Random
) -> list[str]:
    """A completion of a real member on a real course, with an impossible date: if a reader
    let it through, the completion rate would be wrong."""
    victim = rng.choice(enrollments)
    return [
        f"Z{position:07d}",
        victim.staff.number,
        victim.course.code,
        "",
        "",
        "修了",
        bad_date(rng),
    ]


def write_proposals(writer: ExportWriter, world: WardWorld, schedule: Schedule) -> None:
    """Per fiscal year: a mid-year export (reviews pending) and the year-end one."""
    years = world.fiscal_years
    for day, batch in schedule.batches({y: [mid_year_day(y), closing_day(y)] for y in years}):
        proposals = [p for p in world.proposals if fiscal_year_of(p.submitted_on) in batch]
        _write_proposal_export(writer, proposals, day)


def _write_proposal_export(writer: ExportWriter, proposals: list, export_day: date) -> None:
    rng = writer.rng
    rows = []
    for p in proposals:
        if p.submitted_on > export_day:
            continue
        pending = export_day - p.submitted_on < timedelta(days=60)
        separator = rng.choice(("・", ";"))
        rows.append(
            [
                maybe_full_width(p.proposal_id, rng),
                spell_date(p.submitted_on, rng),
                separator.join(maybe_full_width(s.number, rng) for s in p.proposers),
                department_code(p.department),
                p.category,
                p.subject,
                "審査中" if pending else p.result,
                "" if pending else spell_amount(p.effect_yen, rng),
            ]
        )
    writer.write(
        "proposals",
        "proposal",
        export_day,
        PROPOSAL_HEADER,
        rows,
        lambda n: [
            "",
            "令和元年4月30日",
            "001000",
            "0100",
            "その他",
            "【件名】誤入力",
            "不採用",
            "",
        ],
        encoding=writer.proposal_encoding,
    )


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _staff_count(config: GeneratorConfig, code: str) -> int:
    low, high = config.staff_range
    return random.Random(f"{config.seed}:{code}:size").randint(low, high)


def check_as_of(config: GeneratorConfig) -> Schedule:
    """The export schedule; an as-of date must fall in the last fiscal year.

    Raises:
        ValueError: it does not.
    """
    years = tuple(sorted(config.fiscal_years))
    if config.as_of is not None:
        start, end = fiscal_year_bounds(years[-1])
        if not start <= config.as_of <= end:
            raise ValueError(f"--as-of {config.as_of} is not in the last fiscal year ({years[-1]})")
    return Schedule(years, config.as_of)


def _generate_ward(
    config: GeneratorConfig, schedule: Schedule, index: int, code: str
) -> tuple[ExportWriter, list[dict[str, object]], list[dict[str, object]]]:
    """Simulate and export one ward; its KPI inputs and indicator values."""
    ward = simulate_ward(code, index, _staff_count(config, code), config.fiscal_years, config.seed)
    writer = ExportWriter(config, index, code)
    write_staff(writer, ward.world, schedule)
    write_training(writer, ward.world, schedule)
    write_proposals(writer, ward.world, schedule)
    write_hr_registers(writer, ward, schedule)
    write_dx_office(writer, ward, schedule)
    write_surveys(writer, ward, schedule)
    inputs = ward_inputs(ward.world, sorted(writer.written["hr/staff"]), schedule.last_day)
    by_year = {int(str(row["fiscal_year"])): row for row in inputs}
    values = ward_values(WardTruth(ward, by_year, writer.written))
    return writer, inputs, values


def generate(config: GeneratorConfig) -> dict[str, int]:
    """Generate every ward's exports, the catalogue and the truth; return file counts."""
    schedule = check_as_of(config)
    inputs: list[dict[str, object]] = []
    values: list[dict[str, object]] = []
    dirty: dict[str, int] = {}
    for index, code in enumerate(config.ward_codes):
        writer, ward_inputs_rows, ward_value_rows = _generate_ward(config, schedule, index, code)
        inputs += ward_inputs_rows
        values += ward_value_rows
        dirty |= writer.dirty_rows
    packages = generate_catalogue(config.ward_codes, config.seed)
    write_catalogue(packages, config.out / "catalogue" / "packages.json")
    open_data = active_public_counts(packages)
    values += open_dataset_values(packages, config.ward_codes, config.fiscal_years)
    order = {indicator: n for n, indicator in enumerate([*INDICATORS, OPEN_DATASETS])}
    values.sort(key=lambda r: (r["ward_code"], r["fiscal_year"], order[str(r["indicator_id"])]))
    truth = config.out / "truth"
    _write_csv(truth / "kpi_inputs.csv", inputs)
    _write_csv(truth / "kpi_values.csv", values)
    _write_csv(
        truth / "open_data.csv",
        [
            {"ward_code": c, "active_public_datasets": open_data.get(c, 0)}
            for c in config.ward_codes
        ],
    )
    _write_csv(
        truth / "dirty_rows.csv",
        [{"source_file": name, "dirty_rows": count} for name, count in sorted(dirty.items())],
    )
    return {"files": len(dirty), "dirty_rows": sum(dirty.values()), "wards": len(config.ward_codes)}


def parse_wards(text: str) -> list[str]:
    """`all`, a number N (the first N wards) or a comma-separated list of ward codes."""
    codes = [ward.code for ward in load_wards()]
    if text == "all":
        return codes
    if text.isdigit() and len(text) < 6:
        return codes[: int(text)]
    chosen = [code.strip() for code in text.split(",") if code.strip()]
    unknown = sorted(set(chosen) - set(codes))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown ward codes: {', '.join(unknown)}")
    return chosen


def parse_range(text: str) -> tuple[int, int]:
    """`3000` or `1000-5000`."""
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def parse_as_of(text: str) -> date | None:
    """`YYYY-MM-DD`, or empty for none."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_generator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose what to generate (shared by `dxkpi-generate` and the demo)."""
    parser.add_argument("--wards", type=parse_wards, default="all")
    parser.add_argument("--staff", type=parse_range, default="1000-5000", help="staff per ward")
    parser.add_argument("--years", default="2023,2024,2025", help="fiscal years (年度)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dirty", type=float, default=0.01, help="share of dirty rows")
    parser.add_argument(
        "--as-of",
        type=parse_as_of,
        default=None,
        help="stop the simulation on this day of the last fiscal year (YYYY-MM-DD)",
    )


def config_from_arguments(args: argparse.Namespace, out: Path) -> GeneratorConfig:
    """The generator's configuration from parsed options."""
    return GeneratorConfig(
        out=out,
        ward_codes=args.wards,
        staff_range=args.staff,
        fiscal_years=[int(year) for year in args.years.split(",")],
        seed=args.seed,
        dirty_share=args.dirty,
        as_of=getattr(args, "as_of", None),
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (`dxkpi-generate`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data"))
    add_generator_arguments(parser)
    args = parser.parse_args(argv)
    config = config_from_arguments(args, args.out)
    try:
        check_as_of(config)
    except ValueError as error:
        parser.error(str(error))
    summary = generate(config)
    print(
        f"wrote {summary['files']} exports for {summary['wards']} wards "
        f"({summary['dirty_rows']} dirty rows) under {config.out / 'landing'}"
    )


if __name__ == "__main__":
    main()
