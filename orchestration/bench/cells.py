"""The floor's cell readers: one plain function per kind of cell, applied once per distinct
value of a column (exports repeat values a lot), never once per row.

Each reader turns the text of a cell into a value, `None` for a blank cell, or `INVALID` for
a cell no export may hold (a date after its era ended, a level written as 約10). The floor
drops a row with an invalid cell; it does not say why (that is the pipeline's quarantine).
Every reader remembers what it read: a value repeated across batches of rows is read once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from datetime import date, datetime

import numpy as np

# A cell that cannot be read: the row holding it is dropped.
INVALID = object()
# Dates and moments travel as int64 days / seconds since 1970-01-01; these two never occur.
BLANK_INT = np.iinfo(np.int64).min  # read back as NaT
INVALID_INT = BLANK_INT + 1

_EPOCH = date(1970, 1, 1).toordinal()
_EPOCH_MOMENT = datetime(1970, 1, 1)

# 元号 (era): its first day; an era ends the day before the next one starts.
_ERA_STARTS: dict[str, date] = {
    "明治": date(1868, 1, 25),
    "大正": date(1912, 7, 30),
    "昭和": date(1926, 12, 25),
    "平成": date(1989, 1, 8),
    "令和": date(2019, 5, 1),
}
_ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
_NEXT_ERA_START: dict[str, date | None] = dict(
    zip(_ERA_STARTS, [*list(_ERA_STARTS.values())[1:], None], strict=True)
)

_WESTERN = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_KANJI = re.compile(
    r"(明治|大正|昭和|平成|令和)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)
_LETTER = re.compile(r"([MTSHRmtshr])\s*(元|\d{1,2})[./](\d{1,2})[./](\d{1,2})")
_CLOCK = re.compile(r"(.*?)[\sT]+(\d{1,2}):(\d{2})(?::(\d{2}))?")
_KANJI_CLOCK = re.compile(r"(.*?(?:日|\s))\s*(\d{1,2})時(?:(\d{1,2})分(?:(\d{1,2})秒)?)?")
_FISCAL_YEAR = re.compile(
    r"(?:(\d{4})|(?:(明治|大正|昭和|平成|令和)|([MTSHR]))\s*(元|\d{1,2}))\s*(?:年度)?"
)
_INTEGER = re.compile(r"-?\d+")
_NUMBER_NOISE = re.compile(r"[,\s]")
_STAFF_LIST_SEPARATORS = re.compile(r"[・;]")


def nfkc(text: str) -> str:
    """NFKC and trim: １２３ -> 123, ideographic spaces gone."""
    return unicodedata.normalize("NFKC", text).strip()


@functools.cache
def read_code(text: str) -> str | None:
    """A code or category (NFKC-normalised), None when blank."""
    return nfkc(text) or None


@functools.cache
def read_text(text: str) -> str | None:
    """A name of a thing, trimmed only, None when blank."""
    return text.strip() or None


@functools.cache
def read_integer(text: str) -> int | None | object:
    """A whole number that may carry full-width digits, separators, ¥ or 円."""
    cleaned = _NUMBER_NOISE.sub("", nfkc(text)).removeprefix("¥").removeprefix("\\")
    cleaned = cleaned.removesuffix("円")
    if not cleaned:
        return None
    if not _INTEGER.fullmatch(cleaned) or abs(int(cleaned)) > np.iinfo(np.int64).max:
        return INVALID
    return int(cleaned)


@functools.cache
def read_decimal(text: str) -> float | None | object:
    """A decimal number (minutes, hours) that may carry full-width digits."""
    cleaned = _NUMBER_NOISE.sub("", nfkc(text))
    if not cleaned:
        return None
    try:
        return float(cleaned)
    except ValueError:
        return INVALID


def _era_day(era: str, year_token: str, month: int, day: int) -> date | None:
    """The day of a 和暦 date, None when it is no day of that era."""
    era_year = 1 if year_token == "元" else int(year_token)
    start, following = _ERA_STARTS[era], _NEXT_ERA_START[era]
    try:
        found = date(start.year + era_year - 1, month, day)
    except ValueError:
        return None
    if era_year < 1 or found < start or (following is not None and found >= following):
        return None
    return found


def _day_of(value: str) -> date | None | object:
    """The date of NFKC-normalised text: None when blank, INVALID when no date."""
    if not value:
        return None
    if match := _WESTERN.fullmatch(value) or _COMPACT.fullmatch(value):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            return INVALID
    if match := _KANJI.fullmatch(value) or _LETTER.fullmatch(value):
        name, year_token, month, day = match.groups()
        era = _ERA_LETTERS.get(name.upper(), name)
        found = _era_day(era, year_token, int(month), int(day))
        return INVALID if found is None else found
    return INVALID


@functools.cache
def read_date(text: str) -> int:
    """A date in any spelling (ISO, slashes, 和暦) as days since 1970-01-01, or a sentinel."""
    found = _day_of(nfkc(text))
    if found is None:
        return BLANK_INT
    if found is INVALID:
        return INVALID_INT
    return found.toordinal() - _EPOCH  # type: ignore[union-attr]


@functools.cache
def read_moment(text: str) -> int:
    """A date and time of day (回答日時) as seconds since 1970-01-01, or a sentinel."""
    value = nfkc(text)
    if not value:
        return BLANK_INT
    match = _CLOCK.fullmatch(value) or _KANJI_CLOCK.fullmatch(value)
    day_text, clock = (match.group(1), match.groups()[1:]) if match else (value, None)
    day = _day_of(day_text.strip())
    if day is None or day is INVALID:
        return INVALID_INT
    hour, minute, second = (int(part) if part else 0 for part in (clock or (0, 0, 0)))
    if hour > 23 or minute > 59 or second > 59:
        return INVALID_INT
    moment = datetime(day.year, day.month, day.day, hour, minute, second)  # type: ignore[union-attr]
    return int((moment - _EPOCH_MOMENT).total_seconds())


@functools.cache
def read_fiscal_year(text: str) -> int | None | object:
    """A 年度 written as 2025, 令和7年度, 令和7 or R7."""
    value = nfkc(text)
    if not value:
        return None
    match = _FISCAL_YEAR.fullmatch(value)
    if not match:
        return INVALID
    western, kanji, letter, era_year = match.groups()
    if western:
        return int(western)
    era = kanji or _ERA_LETTERS[letter.upper()]
    year_in_era = 1 if era_year == "元" else int(era_year)
    fiscal_year = _ERA_STARTS[era].year + year_in_era - 1
    following = _NEXT_ERA_START[era]
    if year_in_era < 1 or (following is not None and fiscal_year > following.year):
        return INVALID
    return fiscal_year


class Pseudonyms:
    """HMAC-SHA256 pseudonyms of staff numbers, cached by (ward, number) for the whole run."""

    def __init__(self, key: bytes, shape: str = r"[0-9]{6}") -> None:
        self._key = key
        self._shape = re.compile(shape)
        self._cache: dict[tuple[str, str], str] = {}
        self._cells: dict[tuple[str, str], object] = {}

    def of_number(self, ward_code: str, number: str) -> str | object:
        """The pseudonym of an NFKC-normalised number, INVALID when it has the wrong shape."""
        if not self._shape.fullmatch(number):
            return INVALID
        key = (ward_code, number)
        found = self._cache.get(key)
        if found is None:
            message = f"{ward_code}:{number}".encode()
            found = hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
            self._cache[key] = found
        return found

    def of_cell(self, ward_code: str, text: str) -> str | None | object:
        """One 職員番号 cell."""
        key = (ward_code, text)
        if key not in self._cells:
            number = nfkc(text)
            self._cells[key] = self.of_number(ward_code, number) if number else None
        return self._cells[key]

    def of_list(self, ward_code: str, text: str) -> str | None | object:
        """A cell listing several 職員番号 (・ or ;), as pseudonyms joined by `;`."""
        numbers = [n.strip() for n in _STAFF_LIST_SEPARATORS.split(nfkc(text)) if n.strip()]
        found = [self.of_number(ward_code, number) for number in numbers]
        if any(item is INVALID for item in found):
            return INVALID
        return ";".join(found) or None  # type: ignore[arg-type]
