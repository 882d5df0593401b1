"""Generate sample exports of every source system, and the truth behind them.

    dxkpi-generate --out data --wards all --staff 1000-5000 --years 2023,2024,2025 --seed 7

writes `<out>/landing/<system>/<ward>_<dataset>_<YYYYMMDD>.csv` as sources.md describes them
(CP932 and UTF-16/UTF-8 with BOM, title rows, 和暦 in several spellings, full-width digits,
fiscal-year appointees re-appointed every April, group proposals, late completions, dirty
rows), `<out>/catalogue/packages.json` for the local CKAN server, and `<out>/truth/`: what is
true per ward and fiscal year, computed from the simulation, never from the files.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ingestion.common.dates import fiscal_year_bounds, fiscal_year_of
from ingestion.common.reference import load_wards
from sampledata.catalogue import active_public_counts, generate_catalogue, write_catalogue
from sampledata.render import (
    maybe_full_width,
    spell_amount,
    spell_date,
    spell_fiscal_year,
    write_export,
)
from sampledata.world import DEPARTMENTS, GRADES, Enrollment, WardWorld, WorldBuilder

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
# The most dirty rows one export gets (the quarantine refuses a file above 5%).
MAX_DIRTY_SHARE_PER_FILE = 0.04
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


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate."""

    out: Path
    ward_codes: list[str]
    staff_range: tuple[int, int]
    fiscal_years: list[int]
    seed: int
    dirty_share: float


class ExportWriter:
    """Writes one ward's exports, slipping in dirty rows and counting them."""

    def __init__(self, config: GeneratorConfig, ward_index: int, code: str) -> None:
        self.config = config
        self.code = code
        self.rng = random.Random(f"{config.seed}:{code}:export")
        # Proposal exports come from a newer tool: UTF-8 with BOM in some wards, UTF-16 in others.
        self.proposal_encoding = "utf-8-sig" if ward_index % 2 == 0 else "utf-16"
        self.dirty_rows: dict[str, int] = {}

    def write(
        self,
        system: str,
        dataset: str,
        reference_date: date,
        header: list[str],
        rows: list[list[str]],
        dirty_row: Callable[[int], list[str]],
        encoding: str = "cp932",
    ) -> None:
        """Write one export named `<ward>_<dataset>_<YYYYMMDD>.csv` into `landing/<system>/`."""
        name = f"{self.code}_{dataset}_{reference_date:%Y%m%d}.csv"
        mixed = self._with_dirty_rows(rows, dirty_row)
        title = None
        if self.rng.random() < 0.3:
            title = f"{dataset} 出力（{reference_date:%Y年%m月%d日}現在）"
        path = self.config.out / "landing" / system / name
        write_export(path, header, mixed, encoding, title)
        self.dirty_rows[f"{system}/{name}"] = len(mixed) - len(rows)

    def _with_dirty_rows(
        self, rows: list[list[str]], dirty_row: Callable[[int], list[str]]
    ) -> list[list[str]]:
        # A healthy export has a few slips, never so many that the quarantine's circuit
        # breaker (5% of a file's rows) refuses it: small files may get none.
        allowed = int(len(rows) * MAX_DIRTY_SHARE_PER_FILE)
        mixed: list[list[str]] = []
        slipped = 0
        for row in rows:
            mixed.append(row)
            if self.rng.random() < self.config.dirty_share and slipped < allowed:
                mixed.append(dirty_row(len(mixed)))
                slipped += 1
        return mixed


def _department_code(index: int) -> str:
    return f"{(index + 1) * 100:04d}"


def _bad_date(rng: random.Random) -> str:
    """A date cell no reader may accept: a day after its era ended, or no such day."""
    return rng.choice(
        ("平成31年5月1日", "H31.5.7", "令和6年2月30日", "2025/13/01", "令和元年4月1日", "不明")
    )


def write_staff(writer: ExportWriter, world: WardWorld) -> None:
    """One full roster snapshot per month."""
    rng = writer.rng
    for day in world.snapshot_dates():
        rows = [
            [
                maybe_full_width(s.number, rng),
                s.name,
                s.kana,
                maybe_full_width(_department_code(s.department), rng),
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
                "誤入力",
                "ゴニュウリョク",
                "0100",
                "総務部総務課",
                "係員",
                "主事",
                "正規",
                _bad_date(rng),
                "",
            ]

        writer.write("hr", "staff", day, STAFF_HEADER, rows, dirty)


def write_training(writer: ExportWriter, world: WardWorld) -> None:
    """Per fiscal year: the plan on April 1, sessions and enrolments after the year closes,
    and a mid-year enrolment export on October 1 that the year-end one supersedes."""
    rng = writer.rng
    for fiscal_year in world.fiscal_years:
        _, end = fiscal_year_bounds(fiscal_year)
        courses = [c for c in world.courses if c.fiscal_year == fiscal_year]
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
            for c in courses
        ]
        writer.write(
            "training",
            "course",
            date(fiscal_year, 4, 1),
            COURSE_HEADER,
            course_rows,
            lambda n: ["来年度", f"ZZ{n:04d}", "未定", "デジタル基礎", "必修", "集合", "約2"],
        )
        closing = end + timedelta(days=31)
        sessions = [s for s in world.sessions if s.course.fiscal_year == fiscal_year]
        session_rows = [
            [s.session_id, s.course.code, spell_date(s.held_on, rng), str(s.capacity), s.venue]
            for s in sessions
        ]
        writer.write(
            "training",
            "session",
            closing,
            SESSION_HEADER,
            session_rows,
            lambda n: [f"X{n:06d}", "TL0000", _bad_date(rng), "未定", "未定"],
        )
        enrollments = [e for e in world.enrollments if e.course.fiscal_year == fiscal_year]
        for export_day in (date(fiscal_year, 10, 1), closing):
            rows = [_enrollment_row(e, export_day, rng) for e in enrollments]
            present = [row for row in rows if row is not None]
            writer.write(
                "training",
                "enrollment",
                export_day,
                ENROLLMENT_HEADER,
                present,
                lambda n, e=enrollments: _dirty_enrollment(n, e, rng),
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
        _bad_date(rng),
    ]


def write_proposals(writer: ExportWriter, world: WardWorld) -> None:
    """Per fiscal year: a mid-year export (reviews pending) and the year-end one."""
    rng = writer.rng
    for fiscal_year in world.fiscal_years:
        _, end = fiscal_year_bounds(fiscal_year)
        proposals = [p for p in world.proposals if fiscal_year_of(p.submitted_on) == fiscal_year]
        for export_day in (date(fiscal_year, 10, 1), end + timedelta(days=31)):
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
                        _department_code(p.department),
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
                    "誤入力",
                    "不採用",
                    "",
                ],
                encoding=writer.proposal_encoding,
            )


def ward_truth(world: WardWorld) -> list[dict[str, object]]:
    """What is true per fiscal year in the simulated ward (the KPI inputs)."""
    completions: dict[tuple[str, str], list[date]] = defaultdict(list)
    graduates: dict[int, set[str]] = defaultdict(set)
    for e in world.enrollments:
        if e.status == "修了" and e.completed_on is not None:
            completions[(e.staff.number, e.course.code)].append(e.completed_on)
            if e.course.category == "DX推進リーダー育成":
                graduates[fiscal_year_of(e.completed_on)].add(e.staff.number)
    tool_sessions: dict[int, int] = defaultdict(int)
    for s in world.sessions:
        if s.course.category == "ツール活用":
            tool_sessions[fiscal_year_of(s.held_on)] += 1
    proposals: dict[int, int] = defaultdict(int)
    for p in world.proposals:
        proposals[fiscal_year_of(p.submitted_on)] += 1

    rows = []
    fiscal_years = set(world.fiscal_years) | set(tool_sessions) | set(graduates)
    for fiscal_year in sorted(fiscal_years):
        start, end = fiscal_year_bounds(fiscal_year)
        last_snapshot = max((d for d in world.snapshot_dates() if start <= d <= end), default=None)
        population = [s for s in world.staff if last_snapshot and s.in_service_on(last_snapshot)]
        courses = [c for c in world.courses if c.fiscal_year == fiscal_year]
        mandatory = [c for c in courses if c.mandatory and c.category == "デジタル基礎"]
        completed_all = [
            s
            for s in population
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
                "population": len(population),
                "kakaricho_plus": sum(1 for s in population if s.grade >= 2),
                "mandatory_basic_courses": len(mandatory),
                "completed_all_mandatory": len(completed_all),
                "basic_courses": sum(1 for c in courses if c.category == "デジタル基礎"),
                "tool_sessions": tool_sessions.get(fiscal_year, 0),
                "dx_graduates": len(graduates.get(fiscal_year, set())),
                "proposals": proposals.get(fiscal_year, 0),
            }
        )
    return rows


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _staff_count(config: GeneratorConfig, code: str) -> int:
    low, high = config.staff_range
    return random.Random(f"{config.seed}:{code}:size").randint(low, high)


def generate(config: GeneratorConfig) -> dict[str, int]:
    """Generate every ward's exports, the catalogue and the truth; return file counts."""
    truth: list[dict[str, object]] = []
    dirty: dict[str, int] = {}
    for index, code in enumerate(config.ward_codes):
        world = WorldBuilder(
            code, _staff_count(config, code), config.fiscal_years, config.seed
        ).build()
        writer = ExportWriter(config, index, code)
        write_staff(writer, world)
        write_training(writer, world)
        write_proposals(writer, world)
        truth += ward_truth(world)
        dirty |= writer.dirty_rows
    packages = generate_catalogue(config.ward_codes, config.seed)
    write_catalogue(packages, config.out / "catalogue" / "packages.json")
    open_data = active_public_counts(packages)
    _write_csv(config.out / "truth" / "kpi_inputs.csv", truth)
    _write_csv(
        config.out / "truth" / "open_data.csv",
        [
            {"ward_code": c, "active_public_datasets": open_data.get(c, 0)}
            for c in config.ward_codes
        ],
    )
    _write_csv(
        config.out / "truth" / "dirty_rows.csv",
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


def add_generator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose what to generate (shared by `dxkpi-generate` and the demo)."""
    parser.add_argument("--wards", type=parse_wards, default="all")
    parser.add_argument("--staff", type=parse_range, default="1000-5000", help="staff per ward")
    parser.add_argument("--years", default="2023,2024,2025", help="fiscal years (年度)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dirty", type=float, default=0.01, help="share of dirty rows")


def config_from_arguments(args: argparse.Namespace, out: Path) -> GeneratorConfig:
    """The generator's configuration from parsed options."""
    return GeneratorConfig(
        out=out,
        ward_codes=args.wards,
        staff_range=args.staff,
        fiscal_years=[int(year) for year in args.years.split(",")],
        seed=args.seed,
        dirty_share=args.dirty,
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (`dxkpi-generate`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data"))
    add_generator_arguments(parser)
    args = parser.parse_args(argv)
    config = config_from_arguments(args, args.out)
    summary = generate(config)
    print(
        f"wrote {summary['files']} exports for {summary['wards']} wards "
        f"({summary['dirty_rows']} dirty rows) under {config.out / 'landing'}"
    )


if __name__ == "__main__":
    main()
