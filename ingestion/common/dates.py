"""Dates as the source systems print them: ISO, slashes and 和暦 (Japanese era years).

The exports mix spellings, even within one file: 2025-04-01, 2025/4/1, 令和7年4月1日, R7.4.1,
令和元年5月1日 (元年 = the era's first year), with full-width digits at times. A date printed in
an era after that era had ended (平成31年5月1日, a day that was 令和元年) is reported as a
data-quality problem, never silently converted.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from ingestion.common.problems import ValueProblem


@dataclass(frozen=True)
class Era:
    """A Japanese era (元号) with the first day of its first year."""

    kanji: str
    letter: str
    start: date


ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 1, 25)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("令和", "R", date(2019, 5, 1)),
)
_ERA_BY_NAME = {era.kanji: era for era in ERAS} | {era.letter: era for era in ERAS}

_WESTERN = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_WAREKI_KANJI = re.compile(
    r"^(明治|大正|昭和|平成|令和)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$"
)
_WAREKI_LETTER = re.compile(r"^([MTSHR])\s*(元|\d{1,2})[./](\d{1,2})[./](\d{1,2})$", re.IGNORECASE)
_FISCAL_YEAR = re.compile(
    r"^(?:(\d{4})|(?:(明治|大正|昭和|平成|令和)|([MTSHR]))\s*(元|\d{1,2}))\s*(?:年度)?$"
)


def era_end(era: Era) -> date | None:
    """Return the last day of `era`, or None for the current era."""
    index = ERAS.index(era)
    if index + 1 == len(ERAS):
        return None
    return date.fromordinal(ERAS[index + 1].start.toordinal() - 1)


# Looked up for every 和暦 date read: computed once.
_ERA_END = {era.kanji: era_end(era) for era in ERAS}


def _era_year(token: str) -> int:
    return 1 if token == "元" else int(token)


def _build_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueProblem("invalid_date", f"not a calendar date ({error})") from None


def _wareki_to_date(era: Era, era_year: int, month: int, day: int) -> date:
    if era_year < 1:
        raise ValueProblem("invalid_date", "an era year must be 1 or more")
    result = _build_date(era.start.year + era_year - 1, month, day)
    if result < era.start:
        raise ValueProblem("date_before_era", f"a day before {era.kanji} began ({era.start})")
    end = _ERA_END[era.kanji]
    if end is not None and result > end:
        raise ValueProblem(
            "date_after_era_ended",
            f"printed in {era.kanji}, which had ended on {end}",
        )
    return result


def parse_date(text: str) -> date | None:
    """Parse a date in any spelling the source systems use.

    Args:
        text: The cell as exported. Blank means no date.

    Returns:
        The date, or None for a blank cell.

    Raises:
        ValueProblem: the text is not a date, is not a calendar day, or is printed in an era
            that had already ended (or not yet begun) on that day.
    """
    return _parse_date_once(text)


# The same dates come back in every export of a ward (hire dates in each monthly roster): each
# spelling is parsed once per process. About 200 bytes an entry; a refused one is not kept.
@functools.lru_cache(maxsize=131_072)
def _parse_date_once(text: str) -> date | None:
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    if match := _WESTERN.match(value) or _COMPACT.match(value):
        year, month, day = (int(part) for part in match.groups())
        return _build_date(year, month, day)
    if match := _WAREKI_KANJI.match(value) or _WAREKI_LETTER.match(value):
        name, year_token, month, day = match.groups()
        era = _ERA_BY_NAME[name.upper() if len(name) == 1 else name]
        return _wareki_to_date(era, _era_year(year_token), int(month), int(day))
    raise ValueProblem("unparseable_date", "not a date in a known spelling")


# A time after the date: 14:22 or 9:05:00 after a space or a T; 14時22分, 9時5分 or 14時 after a
# space or straight after a 和暦 date's 日.
_CLOCK_TIME = re.compile(r"^(.*?)[\sT]+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_KANJI_TIME = re.compile(r"^(.*?(?:日|\s))\s*(\d{1,2})時(?:(\d{1,2})分(?:(\d{1,2})秒)?)?$")


def parse_datetime(text: str) -> datetime | None:
    """Parse a date and time of day (回答日時) as survey tools write them: 2025-06-03 14:22,
    2025/6/3 9:05:00, 令和7年6月3日 14時22分 (or 14時22分 right after 日). A date alone is
    taken at midnight.

    Returns:
        The naive local (JST) date and time, or None for a blank cell.

    Raises:
        ValueProblem: the date part is not a date (see `parse_date`) or the time is not a time
            of day.
    """
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    match = _CLOCK_TIME.match(value) or _KANJI_TIME.match(value)
    day_text, clock = (match.group(1), match.groups()[1:]) if match else (value, None)
    day = parse_date(day_text)
    if day is None:
        raise ValueProblem("unparseable_date", "a time without a date")
    if clock is None:
        return datetime.combine(day, time(0))
    hour, minute, second = (int(part) if part else 0 for part in clock)
    try:
        return datetime.combine(day, time(hour, minute, second))
    except ValueError:
        raise ValueProblem("invalid_time", "not a time of day") from None


def fiscal_year_of(day: date) -> int:
    """Return the 年度 (fiscal year, April to March) that `day` falls in, as its starting year."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(fiscal_year: int) -> tuple[date, date]:
    """Return the first and last day of fiscal year `fiscal_year`."""
    return date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)


def parse_fiscal_year(text: str) -> int | None:
    """Parse a 年度 written as 2025, 令和7年度, 令和7, R7 or 令和元年度.

    Raises:
        ValueProblem: the text is not a fiscal year.
    """
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    match = _FISCAL_YEAR.match(value)
    if not match:
        raise ValueProblem("unparseable_fiscal_year", "not a fiscal year")
    western, kanji, letter, era_year = match.groups()
    if western:
        return int(western)
    era = _ERA_BY_NAME[kanji or letter.upper()]
    year_in_era = _era_year(era_year)
    fiscal_year = era.start.year + year_in_era - 1
    end = _ERA_END[era.kanji]
    if year_in_era < 1 or (end is not None and fiscal_year > end.year):
        raise ValueProblem("fiscal_year_outside_era", f"{era.kanji} has no year {year_in_era}")
    return fiscal_year
