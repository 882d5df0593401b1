"""BPR measurements of routine tasks: processing time per case before and after an improvement."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ingestion.common.dates import fiscal_year_bounds
from sampledata.world import random_day

BEFORE, AFTER = "改善前", "改善後"
# Task names reach the warehouse: names of work, never of people.
TASKS = (
    "住民票の写し交付",
    "印鑑登録証明書交付",
    "転入届受付",
    "児童手当認定請求の審査",
    "保育所入所申込の審査",
    "介護保険要介護認定申請受付",
    "国民健康保険資格取得届",
    "軽自動車税減免申請",
    "粗大ごみ収集申込受付",
    "道路占用許可申請",
    "職員の旅費精算",
    "物品購入の起案",
    "住民税申告書の入力",
    "各種証明書の郵送請求対応",
)


@dataclass(frozen=True)
class Measurement:
    task_code: str
    task_name: str
    kind: str
    measured_on: date
    minutes: float
    cases: int


class TaskHistory:
    """One task's measurements: rounds of before-measurements, an improvement measured after
    (once or twice), then a new baseline for the next round, until the horizon."""

    def __init__(self, rng: random.Random, code: str, name: str, horizon: date) -> None:
        self.rng, self.code, self.name, self.horizon = rng, code, name, horizon
        self.minutes = round(rng.uniform(5, 60), 1)
        self.cases = rng.randint(500, 200_000)
        self.measurements: list[Measurement] = []

    def measure(self, kind: str, day: date) -> None:
        if day > self.horizon:
            return
        minutes = max(0.5, round(self.minutes * self.rng.uniform(0.95, 1.05), 1))
        cases = int(self.cases * self.rng.uniform(0.9, 1.1))
        self.measurements.append(Measurement(self.code, self.name, kind, day, minutes, cases))

    def improve(self) -> None:
        self.minutes *= self.rng.uniform(0.5, 0.9)

    def rounds(self, day: date, after_first: bool = False) -> None:
        """Measure rounds from `day`; `after_first`: the first round's baseline was lost."""
        rng = self.rng
        while day <= self.horizon:
            if not after_first:
                for _ in range(rng.randint(1, 3)):
                    self.measure(BEFORE, day)
                    day += timedelta(days=rng.randint(20, 90))
                day += timedelta(days=rng.randint(60, 300))
            after_first = False
            self.improve()
            for _ in range(rng.choice((1, 1, 2))):
                self.measure(AFTER, day)
                day += timedelta(days=rng.randint(20, 120))

    def scripted(self, first: int) -> None:
        """Two baselines, an improvement measured in the first year, then a new baseline a
        few weeks after it in the same year (to be ignored when pairing that improvement),
        the next improvement a year later, and rounds on from there."""
        rng = self.rng
        day = date(first - 1, 9, 1) + timedelta(days=rng.randint(0, 30))
        self.measure(BEFORE, day)
        self.measure(BEFORE, day + timedelta(days=rng.randint(30, 90)))
        self.improve()
        after = date(first, 6, 1) + timedelta(days=rng.randint(0, 30))
        self.measure(AFTER, after)
        self.measure(BEFORE, after + timedelta(days=rng.randint(20, 60)))
        self.improve()
        self.measure(AFTER, date(first + 1, 6, 1) + timedelta(days=rng.randint(0, 30)))
        self.rounds(date(first + 1, 10, 1) + timedelta(days=rng.randint(0, 60)))


def simulate_bpr(rng: random.Random, fiscal_years: list[int]) -> list[Measurement]:
    """Measurements of a handful of the ward's routine tasks, from the year before the first."""
    first, last = fiscal_years[0], fiscal_years[-1]
    horizon = fiscal_year_bounds(last)[1]
    chosen = rng.sample(range(len(TASKS)), rng.randint(6, 12))
    measurements: list[Measurement] = []
    for position, index in enumerate(chosen):
        history = TaskHistory(rng, f"G{index + 1:03d}", TASKS[index], horizon)
        if position == 0:
            history.scripted(first)
        else:
            start = random_day(rng, date(first - 1, 4, 1), date(last, 9, 30))
            history.rounds(start, after_first=position == 1 and rng.random() < 0.5)
        measurements += history.measurements
    return measurements
