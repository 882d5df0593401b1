"""The migration of the 20 standardised core business systems, due by 2026-03-31."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

NOT_STARTED, MIGRATING, MIGRATED = "未着手", "移行中", "移行完了"
DEADLINE = date(2026, 3, 31)
# Fixed by national law (sources.md), in this order: 業務番号 01..20.
SYSTEMS = (
    "住民基本台帳",
    "固定資産税",
    "個人住民税",
    "法人住民税",
    "軽自動車税",
    "国民健康保険",
    "国民年金",
    "介護保険",
    "障害者福祉",
    "後期高齢者医療",
    "児童手当",
    "子ども・子育て支援",
    "生活保護",
    "健康管理",
    "就学",
    "選挙人名簿管理",
    "印鑑登録",
    "戸籍",
    "戸籍附票",
    "児童扶養手当",
)


@dataclass(frozen=True)
class Migration:
    """One system's migration: under way from `started_on`, complete on `migrated_on`."""

    code: str
    name: str
    started_on: date
    migrated_on: date
    # Whether the register shows the planned completion day while the migration runs.
    shows_plan: bool

    def state_on(self, day: date) -> tuple[str, date | None]:
        """移行状態 and 移行完了日 on `day`."""
        if day < self.started_on:
            return NOT_STARTED, None
        if day < self.migrated_on:
            return MIGRATING, self.migrated_on if self.shows_plan else None
        return MIGRATED, self.migrated_on


def simulate_migrations(rng: random.Random) -> list[Migration]:
    """Most systems migrate before the deadline; a late ward misses it for several."""
    late_share = 0.35 if rng.random() < 0.3 else 0.03
    migrations = []
    for number, name in enumerate(SYSTEMS, 1):
        if rng.random() < late_share:
            migrated_on = DEADLINE + timedelta(days=rng.randint(1, 400))
        else:
            migrated_on = DEADLINE - timedelta(days=rng.randint(0, 1000))
        started_on = migrated_on - timedelta(days=rng.randint(90, 500))
        migrations.append(
            Migration(f"{number:02d}", name, started_on, migrated_on, rng.random() < 0.3)
        )
    return migrations
