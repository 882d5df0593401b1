"""The wards ranked per indicator in its latest fiscal year (mart_ward_benchmark)."""

from __future__ import annotations

from collections.abc import Sequence

from dashboard.charts import RankedWard, figure_html, ranking_figure
from dashboard.html import bilingual, esc, legend, page
from dashboard.labels import STATUS_STYLES, format_ratio, format_value, fy_label
from dashboard.overview import grouped_by_measure, indicator_target
from dashboard.published import BENCHMARK, Indicator, Published, Row


def latest_ranking(benchmark: Sequence[Row], indicator_id: str) -> list[Row]:
    """The benchmark rows of an indicator's latest fiscal year with a ranking, by rank."""
    rows = [row for row in benchmark if row["indicator_id"] == indicator_id]
    if not rows:
        return []
    latest = max(row["fiscal_year"] for row in rows)
    return sorted(
        (row for row in rows if row["fiscal_year"] == latest),
        key=lambda row: (row["rank"], row["ward_code"]),
    )


def _ranked(rows: Sequence[Row], statuses: dict[tuple, str], unit: str) -> list[RankedWard]:
    return [
        RankedWard(
            ward_code=row["ward_code"],
            ward_name_ja=row["ward_name_ja"],
            value=float(row["value"]),
            rank=int(row["rank"]),
            percentile=None if row.get("percentile") is None else float(row["percentile"]),
            status=statuses.get((row["ward_code"], row["fiscal_year"])),
            text=format_value(row["value"], unit),
        )
        for row in rows
    ]


def _context(indicator: Indicator, rows: Sequence[Row]) -> dict:
    first = rows[0]
    return {
        "indicator_id": indicator.indicator_id,
        "fiscal_year": first["fiscal_year"],
        "wards_ranked": first.get("wards_ranked"),
        "median_value": first.get("median_value"),
        "best_value": first.get("best_value"),
        "worst_value": first.get("worst_value"),
        "best_ward_code": first.get("best_ward_code"),
        "worst_ward_code": first.get("worst_ward_code"),
        "gap_ratio": first.get("gap_ratio"),
    }


def _facts(indicator: Indicator, rows: Sequence[Row], provisional: bool) -> str:
    first, unit = rows[0], indicator.unit
    names = {row["ward_code"]: row["ward_name_ja"] for row in rows}
    year = fy_label(first["fiscal_year"]) + ("（暫定 provisional）" if provisional else "")
    best = names.get(first.get("best_ward_code"), first.get("best_ward_code") or "–")
    worst = names.get(first.get("worst_ward_code"), first.get("worst_ward_code") or "–")
    return " · ".join(
        esc(fact)
        for fact in (
            year,
            f"最良 best {best} {format_value(first.get('best_value'), unit)}",
            f"最下位 worst {worst} {format_value(first.get('worst_value'), unit)}",
            f"中央値 median {format_value(first.get('median_value'), unit)}",
        )
    ) + (
        f' · <strong class="gap">格差 gap（最良/最下位）'
        f"{esc(format_ratio(first.get('gap_ratio')))}</strong>"
    )


def _ranking_card(indicator: Indicator, published: Published) -> str:
    title = f"<h3>{bilingual(indicator.name_ja, indicator.name_en)}</h3>"
    rows = latest_ranking(published.benchmark or [], indicator.indicator_id)
    if not rows:
        return f'<div class="chart">{title}<p>データなし no data</p></div>'
    own = [r for r in published.scorecard if r["indicator_id"] == indicator.indicator_id]
    statuses = {(r["ward_code"], r["fiscal_year"]): r["status"] for r in own}
    year = rows[0]["fiscal_year"]
    provisional = any(r["status"] == "provisional" for r in own if r["fiscal_year"] == year)
    target = indicator_target(indicator, [r for r in own if r["fiscal_year"] == year])
    figure = ranking_figure(
        _ranked(rows, statuses, indicator.unit),
        indicator.unit,
        rows[0].get("median_value"),
        target,
        _context(indicator, rows),
    )
    chart = figure_html(figure, f"rank-{indicator.indicator_id}", 22 * len(rows) + 90)
    return f'<div class="chart">{title}<p>{_facts(indicator, rows, provisional)}</p>{chart}</div>'


def ranking_page(published: Published, header: str) -> str:
    """ranking.html: per indicator, the wards by rank with median, target and best/worst gap."""
    if published.benchmark is None:
        body = f'<p class="missing">{esc(BENCHMARK)} は公開されていません (not published).</p>'
        return page(
            active="ranking",
            title_ja="区別順位",
            title_en="Ward ranking",
            body=body,
            publication=header,
            with_charts=False,
        )
    sections = []
    for title, members in grouped_by_measure(published.indicators()):
        cards = "".join(_ranking_card(indicator, published) for indicator in members)
        sections.append(f'<h2>{title}</h2><div class="charts">{cards}</div>')
    body = f"""
<p class="note">各指標の最新年度の順位（1位が最良、向きは指標による）。棒の色はスコアカードの判定。
点線：中央値、破線：目標。格差は最良値÷最下位値（低いほど良い指標は最下位値÷最良値）。
<span class="en">Each indicator's latest fiscal year, rank 1 = best by the indicator's direction;
bar colour = scorecard status; dotted: median, dashed: target. Gap = best / worst (worst / best
when lower is better).</span></p>
{legend(STATUS_STYLES, "st-")}
{"".join(sections)}
"""
    return page(
        active="ranking",
        title_ja="区別順位",
        title_en="Ward ranking",
        body=body,
        publication=header,
    )
