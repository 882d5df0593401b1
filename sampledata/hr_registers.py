"""HR's smaller registers: external-specialist contracts, personnel exchanges, regulations."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ingestion.common.dates import fiscal_year_bounds
from sampledata import profile as p
from sampledata.world import Staff, WardWorld

SPECIALIST_ROLES = ("DX推進マネージャー", "データサイエンティスト", "情報セキュリティアドバイザー")
CIO_ROLE = "CIO補佐官"
NEW, RENEWAL = "新規", "更新"
# A contract is signed, a regulation promulgated, an exchange agreed this long before it starts.
LEAD_TIME = timedelta(days=30)
# Organisations only: the counterpart's name reaches the warehouse.
COUNTERPARTS = {
    "民間企業": (
        "株式会社東京デジタルソリューションズ",
        "日本情報システム株式会社",
        "株式会社みらいクラウド",
        "関東電算サービス株式会社",
        "株式会社データ活用研究所",
    ),
    "国": ("デジタル庁", "総務省", "内閣官房"),
    "他自治体": ("東京都", "横浜市", "さいたま市", "千葉県"),
    "その他": ("地方公共団体情報システム機構", "一般財団法人全国地域情報化推進協会"),
}
COUNTERPART_WEIGHTS = (5, 2, 2, 1)
CAREER_PATH = "デジタル専門職キャリアパス"
CAREER_PATH_NAME = "デジタル専門職の任用及び育成に関する規程"
BASE_REGULATIONS = (
    ("勤務条件", "職員の勤務時間、休日及び休暇に関する規程", date(1986, 4, 1)),
    ("研修", "職員研修規程", date(2008, 4, 1)),
    ("人事評価", "職員の人事評価実施規程", date(2016, 4, 1)),
    ("任用", "会計年度任用職員の任用等に関する規程", date(2020, 4, 1)),
    ("勤務条件", "テレワーク実施要綱", date(2021, 10, 1)),
)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month, last)
        except ValueError:
            continue
    raise AssertionError(day)


@dataclass(frozen=True)
class SpecialistContract:
    contract_id: str
    staff_number: str
    role: str
    term_start: date
    term_end: date | None
    contract_type: str

    def listed_on(self, day: date) -> bool:
        """HR registers a contract when it is signed, a month before the term starts."""
        return self.term_start - LEAD_TIME <= day


class SpecialistBuilder:
    """Specialists on one-year terms, renewed (on time, a little late, or too late to count
    as retained) or not; new hires every year; a CIO advisor as the ward's profile says."""

    def __init__(self, rng: random.Random, fiscal_years: list[int], cio: str) -> None:
        self.rng = rng
        self.first, self.last = fiscal_years[0], fiscal_years[-1]
        self.horizon = fiscal_year_bounds(self.last)[1] + timedelta(days=90)
        self.cio = cio
        self.contracts: list[SpecialistContract] = []
        self._people = 0

    def build(self) -> list[SpecialistContract]:
        for _ in range(self.rng.randint(1, 3)):
            self._career(self._person(), date(self.first - 1, 4, 1))
        for fiscal_year in range(self.first, self.last + 1):
            for _ in range(self.rng.randint(0, 3)):
                month = self.rng.randint(4, 15)
                self._career(
                    self._person(), date(fiscal_year + month // 13, (month - 1) % 12 + 1, 1)
                )
        self._cio_advisor()
        return sorted(self.contracts, key=lambda c: (c.term_start, c.contract_id))

    def _person(self) -> str:
        self._people += 1
        return f"8{self._people:05d}"  # staff numbers never start with 8

    def _sign(self, number: str, role: str, start: date, end: date | None, kind: str) -> None:
        contract_id = f"K{start.year}-{len(self.contracts) + 1:03d}"
        self.contracts.append(SpecialistContract(contract_id, number, role, start, end, kind))

    def _career(self, number: str, start: date) -> None:
        role, kind = self.rng.choice(SPECIALIST_ROLES), NEW
        while start <= self.horizon:
            end = add_months(start, 6 if self.rng.random() < 0.1 else 12) - timedelta(days=1)
            self._sign(number, role, start, end, kind)
            gap = self._renewal_gap()
            if gap is None:
                return
            start, kind = end + timedelta(days=1 + gap), RENEWAL

    def _renewal_gap(self) -> int | None:
        """Days between a term's end and the renewal's first day, None: not renewed."""
        roll = self.rng.random()
        if roll < 0.2:
            return None
        if roll < 0.75:
            return 0
        return self.rng.randint(1, 19) if roll < 0.92 else self.rng.randint(40, 70)

    def _cio_advisor(self) -> None:
        number, start = self._person(), date(self.first - 1, 4, 1)
        if self.cio == p.CIO_OPEN_ENDED:
            self._sign(number, CIO_ROLE, date(self.first - 1, 10, 1), None, NEW)
            return
        if self.cio not in (p.CIO_YEARLY, p.CIO_ENDS_MID_YEAR):
            return
        # Leaves at the end of September of the last year, when the profile says so.
        leaves = date(self.last, 9, 30) if self.cio == p.CIO_ENDS_MID_YEAR else None
        kind = NEW
        while start <= self.horizon:
            end = add_months(start, 12) - timedelta(days=1)
            if leaves is not None and start <= leaves <= end:
                self._sign(number, CIO_ROLE, start, leaves, kind)
                return
            self._sign(number, CIO_ROLE, start, end, kind)
            start, kind = end + timedelta(days=1), RENEWAL


@dataclass(frozen=True)
class Exchange:
    exchange_id: str
    staff: Staff | None
    counterpart_type: str
    counterpart_name: str
    started_on: date
    ended_on: date

    def listed_on(self, day: date) -> bool:
        return self.started_on - LEAD_TIME <= day


def simulate_exchanges(world: WardWorld, rng: random.Random) -> list[Exchange]:
    """A few exchanges a year with companies, ministries and other governments."""
    exchanges = []
    kinds = list(COUNTERPARTS)
    for fiscal_year in world.fiscal_years:
        for number in range(1, rng.randint(0, 4) + len(world.staff) // 2500 + 1):
            kind = rng.choices(kinds, weights=COUNTERPART_WEIGHTS)[0]
            month = 4 if rng.random() < 0.6 else rng.randint(4, 15)
            started_on = date(fiscal_year + month // 13, (month - 1) % 12 + 1, 1)
            ended_on = add_months(started_on, rng.choice((12, 12, 24))) - timedelta(days=1)
            present = [s for s in world.staff if s.in_service_on(started_on)]
            member = rng.choice(present) if present and rng.random() < 0.9 else None
            name = rng.choice(COUNTERPARTS[kind])
            exchange_id = f"EX{fiscal_year}-{number:02d}"
            exchanges.append(Exchange(exchange_id, member, kind, name, started_on, ended_on))
    return exchanges


@dataclass(frozen=True)
class Regulation:
    regulation_id: str
    name: str
    kind: str
    effective_on: date
    repealed_on: date | None = None

    def listed_on(self, day: date) -> bool:
        """Listed from its promulgation, a month before it takes effect."""
        return self.effective_on - LEAD_TIME <= day

    def repeal_shown_on(self, day: date) -> date | None:
        """The 廃止日 shown on `day`: a repeal is known from its promulgation too."""
        if self.repealed_on is None or self.repealed_on - LEAD_TIME > day:
            return None
        return self.repealed_on


def simulate_regulations(
    rng: random.Random, fiscal_years: list[int], career_path: str
) -> list[Regulation]:
    """A few long-standing regulations, and the career-path one as the profile tells."""
    chosen = sorted(rng.sample(range(len(BASE_REGULATIONS)), rng.randint(2, 4)))
    regulations = []
    for kind, name, since in (BASE_REGULATIONS[i] for i in chosen):
        effective_on = since + timedelta(days=rng.randint(0, 700))
        regulations.append(Regulation(f"KT{len(regulations) + 1:03d}", name, kind, effective_on))
    for effective_on, repealed_on in _career_path_terms(rng, fiscal_years, career_path):
        regulation_id = f"KT{len(regulations) + 1:03d}"
        regulations.append(
            Regulation(regulation_id, CAREER_PATH_NAME, CAREER_PATH, effective_on, repealed_on)
        )
    return regulations


def _career_path_terms(
    rng: random.Random, fiscal_years: list[int], career_path: str
) -> list[tuple[date, date | None]]:
    first, last = fiscal_years[0], fiscal_years[-1]
    month = rng.choice((4, 10))
    if career_path == p.CAREER_PATH_BEFORE:
        return [(date(first - 1, month, 1), None)]
    if career_path == p.CAREER_PATH_ENACTED:
        return [(date(rng.choice(fiscal_years), month, 1), None)]
    if career_path == p.CAREER_PATH_REPLACED:
        revised = date(rng.choice(fiscal_years), month, 1)
        return [(date(first - 1, 4, 1), revised), (revised, None)]
    if career_path == p.CAREER_PATH_REPEALED:
        return [(date(first - 1, 4, 1), date(last, 10, 1))]
    return []
