"""Each indicator over the fiscal years, across wards, against its target."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from dashboard.charts import TrendSeries, figure_html, trend_figure
from dashboard.html import bilingual, esc, page
from dashboard.labels import format_value, fy_label
from dashboard.overview import grouped_by_measure
from dashboard.published import Indicator, Published, Row, Ward


def trend_series(
    indicator: Indicator, rows: Sequence[Row], fiscal_years: Sequence[int], wards: Sequence[Ward]
) -> TrendSeries:
    """Summarise one indicator's scorecard rows per fiscal year across wards.

    Args:
        indicator: The indicator.
        rows: Its scorecard rows (every ward and fiscal year).
        fiscal_years: The x axis.
        wards: The wards, in the order their lines are drawn.
    """
    values = {(row["ward_code"], row["fiscal_year"]): row["value"] for row in rows}
    median, low, high, measured, targets, provisional = [], [], [], [], [], []
    for year in fiscal_years:
        of_year = [row for row in rows if row["fiscal_year"] == year]
        numbers = [float(row["value"]) for row in of_year if row["value"] is not None]
        goals = [
            float(row["target_value"]) for row in of_year if row.get("target_value") is not None
        ]
        median.append(statistics.median(numbers) if numbers else None)
        low.append(min(numbers) if numbers else None)
        high.append(max(numbers) if numbers else None)
        measured.append(len(numbers))
        targets.append(statistics.median(goals) if goals else None)
        provisional.append(any(row["status"] == "provisional" for row in of_year))
    return TrendSeries(
        fiscal_years=list(fiscal_years),
        median=median,
        low=low,
        high=high,
        measured=measured,
        targets=targets,
        provisional=provisional,
        wards=[
            (
                ward.code,
                ward.name_ja,
                [_number(values.get((ward.code, year))) for year in fiscal_years],
            )
            for ward in wards
        ],
        hover=[format_value(value, indicator.unit) for value in median],
    )


def _number(value: object) -> float | None:
    return None if value is None else float(value)


def _trend_card(indicator: Indicator, series: TrendSeries) -> str:
    latest = series.median[-1] if series.median else None
    target = next((t for t in reversed(series.targets) if t is not None), None)
    direction = "↑ 高いほど良い" if indicator.direction == "higher_is_better" else "↓ 低いほど良い"
    facts = [f"{esc(indicator.tier)}", direction]
    if target is not None:
        facts.append(f"目標 target {esc(format_value(target, indicator.unit))}")
    if series.fiscal_years:
        year = fy_label(series.fiscal_years[-1])
        facts.append(f"{year} 中央値 median {esc(format_value(latest, indicator.unit))}")
    chart = figure_html(
        trend_figure(series, indicator.unit), f"trend-{indicator.indicator_id}", 320
    )
    return (
        f'<div class="chart"><h3>{bilingual(indicator.name_ja, indicator.name_en)}</h3>'
        f"<p>{' · '.join(facts)}</p>{chart}</div>"
    )


def trends_page(published: Published, header: str) -> str:
    """trends.html: one chart per indicator, grouped by measure."""
    years, wards = published.fiscal_years, published.wards()
    sections = []
    for title, members in grouped_by_measure(published.indicators()):
        cards = "".join(
            _trend_card(
                indicator,
                trend_series(
                    indicator,
                    [r for r in published.scorecard if r["indicator_id"] == indicator.indicator_id],
                    years,
                    wards,
                ),
            )
            for indicator in members
        )
        sections.append(f'<h2>{title}</h2><div class="charts">{cards}</div>')
    body = f"""
<p class="note">太線：区の中央値、帯：最小〜最大、細線：各区、破線：目標。
白抜きの点は暫定値を含む年度。
<span class="en">Thick line: median across wards; band: min to max; thin lines: each ward;
dashed: target. An open marker: the year holds provisional values.</span></p>
{"".join(sections)}
"""
    return page(
        active="trends",
        title_ja="指標の推移",
        title_en="Trends by fiscal year",
        body=body,
        publication=header,
    )
