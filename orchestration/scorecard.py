"""The KPI scorecard: every indicator, grouped by measure and tier, read from the serving file.

dxkpi-scorecard [--serving data/serving/dxkpi.duckdb] [--fy 2025] [--ward 131032]

Without --ward, one block per fiscal year summarises the wards: median, range and how many
reached the target. With --ward, one ward's card: every indicator over the fiscal years.
A value of a fiscal year still in progress in the data is provisional (~), never judged.
"""

from __future__ import annotations

import argparse
import statistics
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.settings import load_settings

MARKS = {"achieved": "✓", "not_achieved": "✗", "provisional": "~", "no_target": "", "no_data": ""}
# The longest indicator name takes 52 terminal columns.
NAME = 54
# KPI_outcome, KPI_output: the tier as the catalogue names it.
TIER = 14
CELL = 11
LEGEND = "✓ achieved   ✗ not achieved   ~ provisional (year not over in the data)   – no data"


@dataclass(frozen=True)
class Indicator:
    """An indicator as the scorecard lists it."""

    indicator_id: str
    measure: str
    measure_name: str
    tier: str
    name_ja: str
    unit: str
    target: float | None


@dataclass(frozen=True)
class Value:
    """One published value."""

    ward_code: str
    fiscal_year: int
    indicator_id: str
    value: float | None
    status: str
    as_of: object


def display_width(text: str) -> int:
    """The columns `text` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, width: int, right: bool = False) -> str:
    """Pad (or cut) `text` to `width` terminal columns."""
    while display_width(text) > width:
        text = text[:-1]
    padding = " " * (width - display_width(text))
    return padding + text if right else text + padding


def format_value(value: float | None, unit: str) -> str:
    """A value as the scorecard shows it: 93.1%, 42, ¥1.2M, yes/no."""
    if value is None:
        return "–"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "yen":
        return f"¥{value / 1e6:,.1f}M"
    if unit == "flag":
        return "yes" if value >= 1 else "no"
    return f"{value:,.0f}"


def _indicators(con: duckdb.DuckDBPyConnection) -> list[Indicator]:
    rows = con.execute(
        """
        select indicator_id, measure, measure_name_ja, tier, name_ja, unit, target_value
        from marts.dim_indicator
        order by display_order
        """
    ).fetchall()
    return [Indicator(*row) for row in rows]


def _values(con: duckdb.DuckDBPyConnection) -> list[Value]:
    rows = con.execute(
        """
        select ward_code, fiscal_year, indicator_id, value, status, as_of_date
        from marts.fct_kpi_values
        """
    ).fetchall()
    return [Value(*row) for row in rows]


def _grouped(indicators: list[Indicator]) -> list[tuple[str, list[Indicator]]]:
    groups: dict[str, list[Indicator]] = {}
    for indicator in indicators:
        title = (
            "Context" if indicator.measure == "context" else f"Measure {indicator.measure}"
        ) + f"  {indicator.measure_name}"
        groups.setdefault(title, []).append(indicator)
    return list(groups.items())


def _summary_cells(indicator: Indicator, values: list[Value]) -> list[str]:
    measured = [v for v in values if v.value is not None]
    numbers = [v.value for v in measured if v.value is not None]
    if not numbers:
        return ["–", "", "", ""]
    judged = [v for v in measured if v.status in ("achieved", "not_achieved")]
    achieved = sum(1 for v in judged if v.status == "achieved")
    provisional = sum(1 for v in measured if v.status == "provisional")
    unit = indicator.unit
    spread = f"{format_value(min(numbers), unit)}..{format_value(max(numbers), unit)}"
    if indicator.target is None:
        verdict = ""
    elif provisional:
        verdict = f"~ {provisional} provisional"
    else:
        verdict = f"✓ {achieved}/{len(judged)}"
    return [format_value(statistics.median(numbers), unit), spread, str(len(numbers)), verdict]


def _row_head(tier: str, name: str, target: str) -> str:
    """The first three columns of a scorecard line: tier, indicator, target."""
    return fit(f"  {tier}", TIER) + fit(name, NAME) + fit(target, CELL, True)


def _indicator_head(indicator: Indicator) -> str:
    target = format_value(indicator.target, indicator.unit) if indicator.target else ""
    return _row_head(indicator.tier, indicator.name_ja, target)


def render_fiscal_year(
    indicators: list[Indicator], values: list[Value], fiscal_year: int
) -> list[str]:
    """One fiscal year across wards: per indicator the median, range, wards measured, verdict."""
    of_year = [v for v in values if v.fiscal_year == fiscal_year]
    by_indicator: dict[str, list[Value]] = defaultdict(list)
    for value in of_year:
        by_indicator[value.indicator_id].append(value)
    provisional = [v for v in of_year if v.status == "provisional"]
    title = f"FY{fiscal_year} (年度 {fiscal_year}-04-01 .. {fiscal_year + 1}-03-31)"
    if provisional:
        # The data furthest behind: the day up to which every provisional value is known.
        as_of = min(v.as_of for v in provisional if v.as_of is not None)
        title += f"  ~ provisional: the year is not over in the data (as of {as_of})"
    header = (
        _row_head("tier", "indicator", "target")
        + fit("median", CELL, True)
        + fit("range", 2 * CELL - 2, True)
        + fit("wards", 7, True)
        + "  achieved"
    )
    lines = [title, header]
    for group, members in _grouped(indicators):
        lines.append(f" {group}")
        for indicator in members:
            median, spread, wards, verdict = _summary_cells(
                indicator, by_indicator[indicator.indicator_id]
            )
            lines.append(
                _indicator_head(indicator)
                + fit(median, CELL, True)
                + fit(spread, 2 * CELL - 2, True)
                + fit(wards, 7, True)
                + f"  {verdict}"
            )
    return lines


def render_ward(
    indicators: list[Indicator], values: list[Value], ward_code: str, fiscal_years: list[int]
) -> list[str]:
    """One ward's card: every indicator (rows) over the fiscal years (columns)."""
    cells = {(v.indicator_id, v.fiscal_year): v for v in values if v.ward_code == ward_code}
    header = _row_head("tier", "indicator", "target")
    header += "".join(fit(f"FY{year}", CELL, True) for year in fiscal_years)
    lines = [f"ward {ward_code}", header]
    for group, members in _grouped(indicators):
        lines.append(f" {group}")
        for indicator in members:
            row = _indicator_head(indicator)
            for year in fiscal_years:
                cell = cells.get((indicator.indicator_id, year))
                text = "" if cell is None else format_value(cell.value, indicator.unit)
                mark = "" if cell is None else MARKS[cell.status]
                row += fit(f"{text} {mark}".rstrip(), CELL, True)
            lines.append(row)
    return lines


def render_scorecard(
    serving: Path, fiscal_years: list[int] | None = None, ward_code: str | None = None
) -> str:
    """Render the scorecard of the published marts."""
    with duckdb.connect(str(serving), read_only=True) as con:
        indicators = _indicators(con)
        values = _values(con)
        published = con.execute("select max(published_at) from meta.publication").fetchone()[0]
    years = fiscal_years or sorted({v.fiscal_year for v in values if v.value is not None})
    if ward_code is not None:
        blocks = [render_ward(indicators, values, ward_code, years)]
    else:
        blocks = [render_fiscal_year(indicators, values, year) for year in years]
    header = f"dxkpi scorecard — {serving} (published {published:%Y-%m-%d %H:%M:%S})"
    return "\n\n".join([header, *("\n".join(block) for block in blocks), LEGEND])


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (`dxkpi-scorecard`)."""
    parser = argparse.ArgumentParser(description="Print the KPI scorecard of the serving file.")
    parser.add_argument("--serving", type=Path, default=load_settings().serving_path)
    parser.add_argument("--fy", type=int, action="append", help="fiscal year(s) to show")
    parser.add_argument("--ward", help="one ward's card (6-digit ward code)")
    args = parser.parse_args(argv)
    print(render_scorecard(args.serving, args.fy, args.ward))


if __name__ == "__main__":
    main()
