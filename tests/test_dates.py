from datetime import date

import pytest

from ingestion.common.dates import fiscal_year_of, parse_date, parse_fiscal_year
from ingestion.common.problems import ValueProblem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2025-04-01", date(2025, 4, 1), id="iso"),
        pytest.param("2025/4/1", date(2025, 4, 1), id="slashes-unpadded"),
        pytest.param("20250401", date(2025, 4, 1), id="compact"),
        pytest.param("令和7年4月1日", date(2025, 4, 1), id="reiwa-kanji"),
        pytest.param("R7.4.1", date(2025, 4, 1), id="reiwa-letter"),
        pytest.param("r7/4/1", date(2025, 4, 1), id="letter-lowercase-slashes"),
        pytest.param("令和元年5月1日", date(2019, 5, 1), id="gannen-first-day"),
        pytest.param("平成31年4月30日", date(2019, 4, 30), id="heisei-last-day"),
        pytest.param("H31.4.30", date(2019, 4, 30), id="heisei-letter-last-day"),
        pytest.param("平成元年1月8日", date(1989, 1, 8), id="heisei-gannen"),
        pytest.param("S64.1.7", date(1989, 1, 7), id="showa-last-day"),
        pytest.param("昭和60年4月1日", date(1985, 4, 1), id="showa"),
        pytest.param("令和７年４月１日", date(2025, 4, 1), id="full-width-digits"),
        pytest.param("２０２５／４／１", date(2025, 4, 1), id="full-width-slashes"),
        pytest.param(" 2025-04-01\u3000", date(2025, 4, 1), id="ideographic-space"),
        pytest.param("", None, id="blank"),
    ],
)
def test_parse_date_reads_every_spelling(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        pytest.param("平成31年5月1日", "date_after_era_ended", id="heisei-after-its-end"),
        pytest.param("H31.5.7", "date_after_era_ended", id="heisei-letter-after-its-end"),
        pytest.param("昭和64年1月8日", "date_after_era_ended", id="showa-after-its-end"),
        pytest.param("令和元年4月30日", "date_before_era", id="reiwa-before-it-began"),
        pytest.param("令和6年2月30日", "invalid_date", id="no-such-day"),
        pytest.param("2025/13/01", "invalid_date", id="month-13"),
        pytest.param("令和0年4月1日", "invalid_date", id="era-year-zero"),
        pytest.param("不明", "unparseable_date", id="words"),
        pytest.param("2025年4月1日頃", "unparseable_date", id="approximate"),
    ],
)
def test_parse_date_reports_problems_instead_of_guessing(text: str, rule: str) -> None:
    with pytest.raises(ValueProblem) as raised:
        parse_date(text)
    assert raised.value.rule == rule


@pytest.mark.parametrize(
    ("day", "fiscal_year"),
    [
        pytest.param(date(2025, 4, 1), 2025, id="first-day"),
        pytest.param(date(2026, 3, 31), 2025, id="last-day"),
        pytest.param(date(2026, 1, 15), 2025, id="january"),
        pytest.param(date(2025, 3, 31), 2024, id="day-before"),
    ],
)
def test_fiscal_year_of(day: date, fiscal_year: int) -> None:
    assert fiscal_year_of(day) == fiscal_year


@pytest.mark.parametrize(
    ("text", "fiscal_year"),
    [
        pytest.param("2025", 2025, id="western"),
        pytest.param("令和7年度", 2025, id="kanji"),
        pytest.param("R7", 2025, id="letter"),
        pytest.param("令和元年度", 2019, id="gannen"),
        pytest.param("２０２５", 2025, id="full-width"),
    ],
)
def test_parse_fiscal_year(text: str, fiscal_year: int) -> None:
    assert parse_fiscal_year(text) == fiscal_year


def test_parse_fiscal_year_rejects_words() -> None:
    with pytest.raises(ValueProblem):
        parse_fiscal_year("来年度")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("令和0年度", id="era-year-zero"),
        pytest.param("平成32年度", id="heisei-year-after-its-end"),
    ],
)
def test_parse_fiscal_year_refuses_years_outside_their_era(text: str) -> None:
    with pytest.raises(ValueProblem) as raised:
        parse_fiscal_year(text)
    assert raised.value.rule == "fiscal_year_outside_era"
