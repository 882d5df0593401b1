"""Writing one ward's exports: the configuration, dirty rows and the record of what was sent."""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sampledata.render import write_export

# The most dirty rows one export gets (the quarantine refuses a file above 5%).
MAX_DIRTY_SHARE_PER_FILE = 0.04
# Exports that always hold rows: with nothing to list (an as-of export early in a year), the
# system sends nothing. The registers and surveys do send a header alone ("nothing").
NEVER_EMPTY = {"staff", "course", "session", "enrollment", "proposal", "skill_assessment"}


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate.

    Attributes:
        as_of: Cut the simulation on this day of the last fiscal year: no export dated
            after it, one more export of every dataset dated on it, and the truth of that day.
            None: everything up to the exports that follow the last fiscal year's close.
    """

    out: Path
    ward_codes: list[str]
    staff_range: tuple[int, int]
    fiscal_years: list[int]
    seed: int
    dirty_share: float
    as_of: date | None = None


class ExportWriter:
    """Writes one ward's exports, slipping in dirty rows and counting them."""

    def __init__(self, config: GeneratorConfig, ward_index: int, code: str) -> None:
        self.config = config
        self.code = code
        self.rng = random.Random(f"{config.seed}:{code}:export")
        # Proposal exports come from a newer tool: UTF-8 with BOM in some wards, UTF-16 in others.
        self.proposal_encoding = "utf-8-sig" if ward_index % 2 == 0 else "utf-16"
        self.dirty_rows: dict[str, int] = {}
        # The reference dates of the exports written, by dataset (`system/dataset`).
        self.written: dict[str, list[date]] = defaultdict(list)

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
        if not rows and dataset in NEVER_EMPTY:
            return
        name = f"{self.code}_{dataset}_{reference_date:%Y%m%d}.csv"
        mixed = self._with_dirty_rows(rows, dirty_row)
        title = None
        if self.rng.random() < 0.3:
            title = f"{dataset} 出力（{reference_date:%Y年%m月%d日}現在）"
        path = self.config.out / "landing" / system / name
        write_export(path, header, mixed, encoding, title)
        self.dirty_rows[f"{system}/{name}"] = len(mixed) - len(rows)
        self.written[f"{system}/{dataset}"].append(reference_date)

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


@functools.cache
def department_code(index: int) -> str:
    """The 所属コード of a department (0100, 0200...)."""
    return f"{(index + 1) * 100:04d}"


def bad_date(rng: random.Random) -> str:
    """A date cell no reader may accept: a day after its era ended, or no such day."""
    return rng.choice(
        ("平成31年5月1日", "H31.5.7", "令和6年2月30日", "2025/13/01", "令和元年4月1日", "不明")
    )
