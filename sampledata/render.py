"""Spelling values the way the source systems do: 和暦, full-width digits, yen amounts."""

from __future__ import annotations

import csv
import functools
import io
import random
from datetime import date
from pathlib import Path

from ingestion.common.dates import ERAS

_FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ",
)


def full_width(text: str) -> str:
    """Write digits and capital letters full-width (１２３, ＡＢＣ)."""
    return text.translate(_FULL_WIDTH)


def era_of(day: date) -> tuple[str, str, int]:
    """Return the era (kanji, letter) in force on `day` and the year within it."""
    era = [e for e in ERAS if e.start <= day][-1]
    return era.kanji, era.letter, day.year - era.start.year + 1


def wareki(day: date, style: str) -> str:
    """Spell `day` in a 和暦 style: `kanji` (令和元年5月1日) or `letter` (R1.5.1)."""
    kanji, letter, year = era_of(day)
    if style == "kanji":
        year_text = "元" if year == 1 else str(year)
        return f"{kanji}{year_text}年{day.month}月{day.day}日"
    return f"{letter}{year}.{day.month}.{day.day}"


_DATE_STYLES = ("iso", "slash", "kanji", "kanji", "letter")


@functools.lru_cache(maxsize=65536)
def _spelled(day: date, style: str) -> str:
    if style == "iso":
        return day.isoformat()
    if style == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    return wareki(day, style)


def spell_date(day: date | None, rng: random.Random) -> str:
    """Spell a date as one of the styles seen in real exports, picked at random."""
    if day is None:
        return ""
    # One draw picks the style (its whole part) and, 1 time in 20, full-width digits.
    draw = rng.random() * len(_DATE_STYLES)
    text = _spelled(day, _DATE_STYLES[int(draw)])
    return full_width(text) if draw % 1 < 0.05 else text


def spell_fiscal_year(fiscal_year: int, rng: random.Random) -> str:
    """Spell a 年度 as 2025, 令和7年度 or R7."""
    kanji, letter, year = era_of(date(fiscal_year, 4, 1))
    return rng.choice((str(fiscal_year), f"{kanji}{year}年度", f"{letter}{year}"))


def spell_amount(yen: int | None, rng: random.Random) -> str:
    """Spell a yen amount: 1200000, ¥1,200,000 or １，２００，０００円."""
    if yen is None:
        return ""
    style = rng.random()
    if style < 0.4:
        return str(yen)
    if style < 0.7:
        return f"¥{yen:,}"
    return full_width(f"{yen:,}").replace(",", "，") + "円"


def maybe_full_width(text: str, rng: random.Random, share: float = 0.05) -> str:
    """Write a code full-width now and then, as hand-keyed records are."""
    return full_width(text) if rng.random() < share else text


def write_export(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    encoding: str,
    title: str | None = None,
) -> None:
    """Write a CSV export as a Windows tool would: CRLF, an optional title row, a BOM where
    the encoding has one, trailing empty lines now and then."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    if title:
        writer.writerow([title])
        writer.writerow([])
    writer.writerow(header)
    writer.writerows(rows)
    if title:
        buffer.write("\r\n\r\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = {"utf-8-sig": "utf-8-sig", "utf-16": "utf-16", "cp932": "cp932"}[encoding]
    path.write_bytes(buffer.getvalue().encode(codec))
