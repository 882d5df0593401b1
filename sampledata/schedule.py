"""When the source systems export, and the cut an as-of date makes.

Every export is taken at the end of its reference date (基準日): it shows what was true on
that day; only the procedure-survey tool exports at midnight, as its day starts. Without an
as-of date the simulation runs to the exports that follow the last fiscal year's close. With
one (a day of the last fiscal year), no export dated after it is written and every dataset
gets one more export dated on it, showing the state of that day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ingestion.common.dates import fiscal_year_bounds

# The year-end exports follow the close of the fiscal year by a month.
CLOSING_DELAY = timedelta(days=31)


def closing_day(fiscal_year: int) -> date:
    """The reference date of a fiscal year's year-end exports (May 1 of the next year)."""
    return fiscal_year_bounds(fiscal_year)[1] + CLOSING_DELAY


def mid_year_day(fiscal_year: int) -> date:
    """The reference date of a fiscal year's mid-year exports (October 1)."""
    return date(fiscal_year, 10, 1)


def half_year_days(fiscal_year: int) -> list[date]:
    """The first day after each half of a fiscal year (Oct 1, Apr 1)."""
    return [date(fiscal_year, 10, 1), date(fiscal_year + 1, 4, 1)]


@dataclass(frozen=True)
class Schedule:
    """The fiscal years simulated and the as-of cut, if any."""

    fiscal_years: tuple[int, ...]
    as_of: date | None = None

    @property
    def last_day(self) -> date:
        """The reference date of the last export of every dataset."""
        return self.as_of or closing_day(self.fiscal_years[-1])

    def keeps(self, day: date) -> bool:
        """Tell whether an export dated `day` is written."""
        return self.as_of is None or day <= self.as_of

    def days(self, regular: Iterable[date]) -> list[date]:
        """Export days of a dataset that shows its whole state on each day (a snapshot, or a
        register of every record so far): the regular days kept, and the as-of day."""
        kept = {day for day in regular if self.keeps(day)}
        if self.as_of is not None:
            kept.add(self.as_of)
        return sorted(kept)

    def batches(self, regular: dict[int, list[date]]) -> list[tuple[date, tuple[int, ...]]]:
        """Export days of a dataset exported by fiscal year, each with the years it holds.

        `regular` gives each fiscal year's export days, its last one holding the whole year.
        With an as-of date, the years whose last export is cut, and the last year, go into
        one export dated as of.
        """
        years_by_day: dict[date, set[int]] = defaultdict(set)
        for fiscal_year, days in regular.items():
            for day in days:
                if self.keeps(day):
                    years_by_day[day].add(fiscal_year)
            if self._open_on_as_of(fiscal_year, max(days)):
                years_by_day[self.as_of].add(fiscal_year)  # type: ignore[index]
        return [(day, tuple(sorted(years))) for day, years in sorted(years_by_day.items())]

    def windows(self, regular: Iterable[date]) -> list[tuple[date, date, date]]:
        """Delta exports taken at the start of their day (a tool exporting at midnight):
        (reference date, first day, last day) of the records each holds, from the previous
        export's day to the day before its own."""
        days = self.days(regular)
        start = fiscal_year_bounds(self.fiscal_years[0])[0]
        result = []
        for day in days:
            result.append((day, start, day - timedelta(days=1)))
            start = day
        return result

    def _open_on_as_of(self, fiscal_year: int, last_export: date) -> bool:
        if self.as_of is None or fiscal_year_bounds(fiscal_year)[0] > self.as_of:
            return False
        return last_export > self.as_of or fiscal_year == self.fiscal_years[-1]
