"""A simulated ward: its staff over time, training plan, enrolments and proposals.

The generator first builds this world, then writes it out as the source systems would export
it, and separately states what is true in it (the truth the warehouse is tested against).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from ingestion.common.dates import fiscal_year_bounds, fiscal_year_of

GRADES = (
    ("係員", "主事", 0.38),
    ("主任", "主任主事", 0.22),
    ("係長級", "係長", 0.2),
    ("課長補佐級", "課長補佐", 0.08),
    ("課長級", "課長", 0.08),
    ("部長級", "部長", 0.04),
)
EMPLOYMENT = (
    ("正規", 0.68),
    ("再任用", 0.05),
    ("任期付", 0.03),
    ("特定任期付", 0.01),
    ("会計年度任用(フルタイム)", 0.07),
    ("会計年度任用(パートタイム)", 0.16),
)
FISCAL_YEAR_APPOINTEE = ("会計年度任用(フルタイム)", "会計年度任用(パートタイム)")
DEPARTMENTS = (
    "総務部総務課",
    "総務部人事課",
    "企画部企画課",
    "企画部DX推進課",
    "財政部財政課",
    "区民部戸籍住民課",
    "区民部税務課",
    "福祉部福祉課",
    "福祉部介護保険課",
    "子ども家庭部子育て支援課",
    "健康部保健予防課",
    "環境清掃部環境課",
    "都市整備部都市計画課",
    "都市整備部道路課",
    "教育委員会学務課",
    "選挙管理委員会事務局",
)
SURNAMES = (
    "佐藤",
    "鈴木",
    "髙橋",
    "田中",
    "伊藤",
    "渡邊",
    "山本",
    "中村",
    "小林",
    "加藤",
    "山﨑",
    "吉田",
    "斎藤",
    "松本",
)
# Names and free text never reach the warehouse. Every free-text cell the generator writes
# (自由記述, 事業名, 件名) holds a surname of SURNAMES or one of these markers.
FREE_TEXT_MARKERS = ("【自由記述】", "【事業名】", "【件名】")
GIVEN_NAMES = ("太郎", "花子", "翔太", "美咲", "健一", "陽菜", "大輔", "結衣", "誠", "愛")
KANA = ("サトウ", "スズキ", "タカハシ", "ﾀﾅｶ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ")
# Strings found only in cells that must never reach the warehouse: every 氏名 holds a surname,
# every 氏名カナ a reading of KANA, every free-text cell a surname or a marker. A scan of the
# warehouse for these finds any leak.
PERSONAL_TEXT_PROBES = SURNAMES + KANA + FREE_TEXT_MARKERS
CATEGORIES = {
    "DB": "デジタル基礎",
    "TL": "ツール活用",
    "DX": "DX推進リーダー育成",
    "MG": "管理職向け",
    "OT": "その他",
}


@dataclass
class Staff:
    """A member of staff, with the day service ends if it does (退職年月日)."""

    number: str
    name: str
    kana: str
    department: int
    grade: int
    employment: str
    first_hired: date
    leave_date: date | None = None
    # The day a planned leaving became known to HR (listed ahead in snapshots).
    leave_known_from: date | None = None

    def hired_on_record(self, day: date) -> date:
        """The 採用年月日 HR shows on `day`: fiscal-year appointees are re-appointed each April."""
        if self.employment in FISCAL_YEAR_APPOINTEE:
            last_day = day if self.leave_date is None else min(day, self.leave_date)
            return max(self.first_hired, date(fiscal_year_of(last_day), 4, 1))
        return self.first_hired

    def listed_on(self, day: date) -> bool:
        """HR lists staff who joined by `day` and left no more than a month before it."""
        recently_left = self.leave_date is None or self.leave_date >= day - timedelta(days=31)
        return self.first_hired <= day and recently_left

    def in_service_on(self, day: date) -> bool:
        """In service: hired by `day` and no retirement date on or before it."""
        return self.first_hired <= day and (self.leave_date is None or self.leave_date > day)

    def retirement_shown_on(self, day: date) -> date | None:
        """The 退職年月日 HR shows on `day` (a planned leaving shows ahead of time)."""
        if self.leave_date is None or self.leave_known_from is None:
            return None
        return self.leave_date if day >= self.leave_known_from else None


def surname_of(staff: Staff) -> str:
    """The surname a member of staff's name starts with (one of SURNAMES)."""
    return next(name for name in SURNAMES if staff.name.startswith(name))


def grade_title(staff: Staff) -> str:
    """The title a member of staff is called by (係長, 課長...)."""
    return GRADES[staff.grade][1]


@dataclass(frozen=True)
class Course:
    code: str
    fiscal_year: int
    category: str
    name: str
    mandatory: bool
    delivery: str
    hours: float


@dataclass(frozen=True)
class Session:
    session_id: str
    course: Course
    held_on: date
    capacity: int
    venue: str


@dataclass
class Enrollment:
    """An enrolment in its final state, with its state at a mid-year export."""

    enrollment_id: str
    staff: Staff
    course: Course
    session: Session | None
    applied_on: date
    status: str
    completed_on: date | None

    def state_on(self, day: date) -> tuple[str, date | None] | None:
        """Status and completion date as exported on `day`, None if not yet applied."""
        if self.applied_on > day:
            return None
        if self.completed_on is not None and self.completed_on > day:
            return ("受講中", None)
        return (self.status, self.completed_on)


@dataclass(frozen=True)
class Proposal:
    proposal_id: str
    submitted_on: date
    proposers: tuple[Staff, ...]
    department: int
    category: str
    subject: str
    result: str
    effect_yen: int | None


@dataclass
class WardWorld:
    """Everything that happened in one ward over the simulated fiscal years."""

    code: str
    fiscal_years: list[int]
    staff: list[Staff] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    enrollments: list[Enrollment] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)

    def snapshot_dates(self) -> list[date]:
        """Monthly roster snapshots: the 1st of every month of every fiscal year."""
        dates = []
        for fiscal_year in self.fiscal_years:
            for month in range(12):
                year, month_number = fiscal_year + (month + 3) // 12, (month + 3) % 12 + 1
                dates.append(date(year, month_number, 1))
        return dates


def _pick_weighted(rng: random.Random, choices: tuple[tuple, ...]) -> tuple:
    return rng.choices(choices, weights=[c[-1] for c in choices])[0]


def random_day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max((end - start).days, 0)))


class WorldBuilder:
    """Simulates one ward, deterministically from (seed, ward code)."""

    def __init__(self, code: str, staff_count: int, fiscal_years: list[int], seed: int) -> None:
        self.rng = random.Random(f"{seed}:{code}")
        self.world = WardWorld(code, sorted(fiscal_years))
        self.staff_count = staff_count
        self._next_number = 1000
        self._sequence = 0

    def build(self) -> WardWorld:
        """Simulate staff, training and proposals over every fiscal year."""
        first_start, _ = fiscal_year_bounds(self.world.fiscal_years[0])
        for _ in range(self.staff_count):
            self._hire(random_day(self.rng, date(1985, 4, 1), first_start - timedelta(days=1)))
        completion_rate = self.rng.uniform(0.82, 0.99)
        proposal_base = max(5, self.staff_count // self.rng.randint(15, 30))
        proposal_growth = self.rng.uniform(0.9, 1.5)
        for index, fiscal_year in enumerate(self.world.fiscal_years):
            self._staff_movements(fiscal_year)
            self._training_year(fiscal_year, completion_rate)
            self._proposals_year(fiscal_year, int(proposal_base * proposal_growth**index))
        return self.world

    def _next_id(self) -> int:
        self._sequence += 1
        return self._sequence

    def _hire(self, day: date) -> Staff:
        grade = self.rng.choices(range(len(GRADES)), weights=[g[2] for g in GRADES])[0]
        employment = _pick_weighted(self.rng, EMPLOYMENT)[0]
        self._next_number += self.rng.randint(1, 3)
        staff = Staff(
            number=f"{self._next_number:06d}",
            name=self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES),
            kana=self.rng.choice(KANA),
            department=self.rng.randrange(len(DEPARTMENTS)),
            grade=grade,
            employment=employment,
            first_hired=day,
        )
        self.world.staff.append(staff)
        return staff

    def _staff_movements(self, fiscal_year: int) -> None:
        """Departures during the year, March retirements known from January, April hires."""
        start, end = fiscal_year_bounds(fiscal_year)
        active = [s for s in self.world.staff if s.in_service_on(start)]
        for staff in active:
            roll = self.rng.random()
            if roll < 0.05:
                staff.leave_date = random_day(self.rng, start, end - timedelta(days=1))
                staff.leave_known_from = staff.leave_date
            elif roll < 0.08 or (staff.employment in FISCAL_YEAR_APPOINTEE and roll < 0.2):
                # Retirements and appointees not re-appointed leave on March 31, known ahead.
                staff.leave_date = end
                staff.leave_known_from = date(end.year, 1, 1)
        hires = int(len(active) * 0.07)
        for _ in range(hires):
            day = start if self.rng.random() < 0.8 else random_day(self.rng, start, end)
            self._hire(day)

    def _staff_in_year(self, fiscal_year: int) -> list[Staff]:
        start, end = fiscal_year_bounds(fiscal_year)
        return [
            s
            for s in self.world.staff
            if s.first_hired <= end and (s.leave_date is None or s.leave_date > start)
        ]

    def _plan_courses(self, fiscal_year: int) -> list[Course]:
        plan = {
            "DB": self.rng.randint(3, 7),
            "TL": self.rng.randint(3, 6),
            "DX": self.rng.randint(1, 3),
            "MG": self.rng.randint(1, 2),
            "OT": self.rng.randint(1, 2),
        }
        mandatory_basics = self.rng.randint(1, 3)
        courses = []
        for prefix, count in plan.items():
            for number in range(1, count + 1):
                mandatory = prefix == "DB" and number <= mandatory_basics
                delivery = "eラーニング" if prefix in ("DB", "OT") and number % 2 else "集合"
                courses.append(
                    Course(
                        code=f"{prefix}{fiscal_year % 100:02d}{number:02d}",
                        fiscal_year=fiscal_year,
                        category=CATEGORIES[prefix],
                        name=f"{CATEGORIES[prefix]}研修{number}",
                        mandatory=mandatory,
                        delivery=delivery,
                        hours=self.rng.choice((1.0, 1.5, 2.0, 3.0, 6.0)),
                    )
                )
        self.world.courses.extend(courses)
        return courses

    def _schedule_sessions(self, course: Course) -> list[Session]:
        if course.delivery == "eラーニング":
            return []
        start, end = fiscal_year_bounds(course.fiscal_year)
        count = (
            self.rng.randint(8, 16) if course.category == "ツール活用" else self.rng.randint(1, 4)
        )
        sessions = []
        for _ in range(count):
            # Now and then a session of this year's plan slips into April of the next year.
            late = self.rng.random() < 0.04
            held_on = (
                random_day(self.rng, end + timedelta(days=1), end + timedelta(days=25))
                if late
                else random_day(self.rng, start + timedelta(days=20), end)
            )
            session = Session(
                session_id=f"S{self._next_id():06d}",
                course=course,
                held_on=held_on,
                capacity=self.rng.choice((20, 30, 40, 60)),
                venue=f"本庁舎{self.rng.randint(2, 9)}階会議室",
            )
            sessions.append(session)
        self.world.sessions.extend(sessions)
        return sessions

    def _enrol(
        self,
        staff: Staff,
        course: Course,
        session: Session | None,
        completes: bool,
        completion_window: tuple[date, date],
    ) -> Enrollment:
        window_start, window_end = completion_window
        window_start = max(window_start, staff.first_hired)
        if staff.leave_date is not None:
            window_end = min(window_end, staff.leave_date)
        if window_start > window_end:
            completes = False
        if completes:
            completed_on = (
                session.held_on if session else random_day(self.rng, window_start, window_end)
            )
            status = "修了"
        else:
            completed_on = None
            status = self.rng.choice(("未修了", "欠席", "取消", "受講中", "申込"))
        applied_from = max(date(course.fiscal_year, 4, 1), staff.first_hired)
        applied_on = random_day(
            self.rng, applied_from, completed_on or applied_from + timedelta(days=60)
        )
        enrollment = Enrollment(
            f"E{self._next_id():07d}", staff, course, session, applied_on, status, completed_on
        )
        self.world.enrollments.append(enrollment)
        return enrollment

    def _training_year(self, fiscal_year: int, completion_rate: float) -> None:
        start, end = fiscal_year_bounds(fiscal_year)
        courses = self._plan_courses(fiscal_year)
        staff = self._staff_in_year(fiscal_year)
        year_window = (start + timedelta(days=14), end)
        for course in courses:
            sessions = self._schedule_sessions(course)
            if course.mandatory:
                self._mandatory_enrolments(course, staff, completion_rate, year_window)
            elif course.category == "DX推進リーダー育成":
                continue
            elif sessions:
                for session in sessions:
                    takers = self.rng.sample(staff, min(len(staff), int(session.capacity * 0.7)))
                    for member in takers:
                        window = (session.held_on, session.held_on)
                        self._enrol(member, course, session, self.rng.random() < 0.9, window)
            else:
                for member in self.rng.sample(staff, len(staff) // 5):
                    self._enrol(member, course, None, self.rng.random() < 0.8, year_window)
        self._dx_programme(
            fiscal_year, [c for c in courses if c.category == "DX推進リーダー育成"], staff
        )

    def _mandatory_enrolments(
        self,
        course: Course,
        staff: list[Staff],
        completion_rate: float,
        window: tuple[date, date],
    ) -> None:
        _, end = fiscal_year_bounds(course.fiscal_year)
        for member in staff:
            if self.rng.random() > 0.97:
                continue
            if self.rng.random() < 0.03:
                # Completed, but only in April of the next year: does not count for this one.
                late = (end + timedelta(days=1), end + timedelta(days=20))
                self._enrol(member, course, None, True, late)
                continue
            first = self._enrol(member, course, None, self.rng.random() < completion_rate, window)
            if first.status == "欠席" and self.rng.random() < 0.5:
                self._enrol(member, course, None, True, window)

    def _dx_programme(self, fiscal_year: int, courses: list[Course], staff: list[Staff]) -> None:
        start, end = fiscal_year_bounds(fiscal_year)
        candidates = [s for s in staff if GRADES[s.grade][0] != "係員"]
        cohort = self.rng.sample(candidates, min(len(candidates), max(2, len(staff) // 60)))
        for member in cohort:
            for course in courses:
                late = self.rng.random() < 0.05
                window = (
                    (end + timedelta(days=1), end + timedelta(days=15))
                    if late
                    else (date(fiscal_year, 9, 1), end)
                )
                self._enrol(member, course, None, self.rng.random() < 0.75, window)

    def _proposals_year(self, fiscal_year: int, count: int) -> None:
        start, end = fiscal_year_bounds(fiscal_year)
        staff = self._staff_in_year(fiscal_year)
        count = max(1, int(count * self.rng.uniform(0.85, 1.15)))
        for number in range(1, count + 1):
            group = 1 if self.rng.random() < 0.8 else self.rng.randint(2, 4)
            proposers = tuple(self.rng.sample(staff, min(group, len(staff))))
            submitted_on = random_day(self.rng, start, end)
            result = (
                "審査中"
                if submitted_on > end - timedelta(days=20)
                else self.rng.choice(("採用", "一部採用", "不採用", "不採用"))
            )
            effect = self.rng.choice((None, 0, 120_000, 350_000, 1_200_000, 4_800_000))
            lead = proposers[0]
            self.world.proposals.append(
                Proposal(
                    proposal_id=f"P{fiscal_year}-{number:04d}",
                    submitted_on=submitted_on,
                    proposers=proposers,
                    department=lead.department,
                    category=self.rng.choice(("業務改善", "DX", "経費削減", "その他")),
                    subject=f"{DEPARTMENTS[lead.department]}の申請様式の電子化（{lead.name}ほか）",
                    result=result,
                    effect_yen=effect if result in ("採用", "一部採用") else None,
                )
            )
