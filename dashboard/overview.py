"""The front page: what is published, and the scorecard as a ward x indicator grid per FY."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from dashboard.charts import figure_html, status_count_figure
from dashboard.html import bilingual, esc, legend, page, table, tabs, td
from dashboard.labels import STATUS_STYLES, format_cell, format_value, fy_label, status_style
from dashboard.published import Indicator, Published, Row, Ward


def publication_header(published: Published) -> str:
    """Run id, publication time and the data's as-of dates, for the top of every page."""
    info = published.publication
    latest = published.latest_fiscal_year
    stamp = f"{info.published_at:%Y-%m-%d %H:%M:%S}" if info.published_at else "不明 unknown"
    items = [
        ("公開日時", "Published", "published-at", stamp),
        ("実行ID", "Run", "run-id", ", ".join(info.run_ids) or "不明 unknown"),
    ]
    if info.release_id:
        items.append(("リリース", "Release", "release-id", info.release_id))
    if latest is not None:
        low, high = published.as_of_range(latest)
        as_of = "–" if low is None else (f"{low}" if low == high else f"{low} 〜 {high}")
        items.append(("最新年度", "Latest FY", "latest-fy", f"{fy_label(latest)} (FY{latest})"))
        items.append(("データ基準日", "Data as of", "as-of", as_of))
    entries = "".join(
        f'<div><dt>{bilingual(ja, en)}</dt><dd id="{key}">{esc(value)}</dd></div>'
        for ja, en, key, value in items
    )
    return f"<dl>{entries}</dl>"


def measure_title(indicator: Indicator) -> str:
    """施策1 … / 参考指標 for the context indicators, with the measure's names."""
    if indicator.measure == "context":
        head_ja, head_en = "参考指標", "Context"
    else:
        head_ja, head_en = f"施策{indicator.measure}", f"Measure {indicator.measure}"
    return bilingual(
        f"{head_ja}　{indicator.measure_name_ja}", f"{head_en}: {indicator.measure_name_en}"
    )


def grouped_by_measure(indicators: Sequence[Indicator]) -> list[tuple[str, list[Indicator]]]:
    """Indicators grouped under their measure's title, in display order."""
    groups: dict[str, list[Indicator]] = {}
    for indicator in indicators:
        groups.setdefault(indicator.measure, []).append(indicator)
    return [(measure_title(members[0]), members) for members in groups.values()]


def indicator_target(indicator: Indicator, rows: Sequence[Row]) -> float | None:
    """The target a grid row shows: the catalogue's, else the median of the wards' targets."""
    if indicator.catalogue_target is not None:
        return indicator.catalogue_target
    targets = [row["target_value"] for row in rows if row.get("target_value") is not None]
    return statistics.median(targets) if targets else None


def _cell_title(row: Row, indicator: Indicator) -> str:
    """The hover text of a cell. Short: 23 wards x 20 indicators x the years add up, and the
    row and column headers already name the indicator and the ward."""
    style = status_style(row["status"])
    lines = [
        f"{row['ward_name_ja']}: {row.get('status_ja') or style.label_ja} {style.label_en}",
        f"値 {format_value(row['value'], indicator.unit)}"
        f" / 目標 {format_value(row.get('target_value'), indicator.unit)}",
    ]
    if row.get("change_from_previous") is not None:
        lines.append(f"前年度比 {row['change_from_previous']:+,.1f}")
    if row["status"] == "provisional" and row.get("as_of_date") is not None:
        lines.append(f"基準日 {row['as_of_date']}")
    return "\n".join(lines)


def grid_cell(row: Row | None, indicator: Indicator) -> str:
    """One ward's value of one indicator, coloured by its status."""
    if row is None:
        return td("", "cell")
    style = status_style(row["status"])
    mark = f"<i>{esc(style.mark)}</i>" if style.mark else ""
    text = "–" if row["value"] is None else esc(format_cell(row["value"], indicator.unit))
    return td(
        text + mark,
        f"cell st-{row['status']}",
        _cell_title(row, indicator),
        ward=row["ward_code"],
        status=row["status"],
        value="" if row["value"] is None else repr(float(row["value"])),
    )


def _achieved_summary(rows: Sequence[Row]) -> str:
    statuses = Counter(row["status"] for row in rows)
    judged = statuses["achieved"] + statuses["not_achieved"]
    if judged:
        return f"{statuses['achieved']}/{judged}"
    if statuses["provisional"]:
        return f"~{statuses['provisional']}"
    return ""


def scorecard_grid(published: Published, fiscal_year: int, wards: Sequence[Ward]) -> str:
    """The ward x indicator grid of one fiscal year (indicators as rows, wards as columns)."""
    rows = [row for row in published.scorecard if row["fiscal_year"] == fiscal_year]
    by_cell = {(row["indicator_id"], row["ward_code"]): row for row in rows}
    with_pages = bool(published.breakdowns)
    headers = [bilingual("指標", "Indicator"), bilingual("目標", "Target")]
    for ward in wards:
        name = esc(ward.name_ja)
        link = f'<a href="breakdown-{esc(ward.code)}.html">{name}</a>' if with_pages else name
        headers.append(
            f'<span class="ward" title="{esc(ward.name_en)} {esc(ward.code)}">{link}</span>'
        )
    headers.append(bilingual("達成区", "Achieved"))
    lines: list[list[str]] = []
    for title, members in grouped_by_measure(published.indicators()):
        lines.append([f'<th class="measure" colspan="{len(wards) + 3}">{title}</th>'])
        for indicator in members:
            own = [row for row in rows if row["indicator_id"] == indicator.indicator_id]
            target = indicator_target(indicator, own)
            lines.append(
                [
                    f'<th class="indicator" scope="row" data-indicator='
                    f'"{esc(indicator.indicator_id)}"><span class="tier">'
                    f"{esc(indicator.tier)}</span>{esc(indicator.name_ja)}"
                    f'<span class="en">{esc(indicator.name_en)}</span></th>',
                    td(
                        esc("" if target is None else format_value(target, indicator.unit)),
                        "target",
                    ),
                    *(
                        grid_cell(by_cell.get((indicator.indicator_id, ward.code)), indicator)
                        for ward in wards
                    ),
                    td(esc(_achieved_summary(own)), "target"),
                ]
            )
    return table(headers, lines, "grid", table_id=f"scorecard-{fiscal_year}")


def status_counts(published: Published) -> tuple[list[int], dict[str, list[int]]]:
    """Ward x indicator cells per status, per fiscal year."""
    years = published.fiscal_years
    counts = Counter((row["fiscal_year"], row["status"]) for row in published.scorecard)
    return years, {status: [counts[(year, status)] for year in years] for status in STATUS_STYLES}


def _latest_summary(published: Published, fiscal_year: int) -> str:
    counts = Counter(
        row["status"] for row in published.scorecard if row["fiscal_year"] == fiscal_year
    )
    boxes = "".join(
        f'<div class="st-{key}" id="count-{key}">{bilingual(style.label_ja, style.label_en)}'
        f"<b>{counts[key]:,}</b></div>"
        for key, style in STATUS_STYLES.items()
    )
    return f'<div class="kpis">{boxes}</div>'


def overview_page(published: Published, header: str) -> str:
    """index.html: the latest FY's status counts, the status chart and the scorecard grids."""
    years = published.fiscal_years
    latest = published.latest_fiscal_year
    wards = published.wards()
    years_chart, counts = status_counts(published)
    panels = [
        (
            str(year),
            bilingual(fy_label(year), f"FY{year}"),
            scorecard_grid(published, year, wards),
        )
        for year in reversed(years)
    ]
    body = f"""
<section class="card">
<h2>{bilingual(f"{fy_label(latest)}の状況", f"FY{latest} at a glance")}</h2>
<p class="note">区×指標のセル数（{len(wards)}区 × {len(published.indicators())}指標）。
暫定：年度がデータ上まだ終わっていない値（判定しない）。
<span class="en">Ward x indicator cells. Provisional: the year is not over in the data
(never judged).</span></p>
{_latest_summary(published, latest)}
<div class="chart">{figure_html(status_count_figure(years_chart, counts), "status-counts", 300)}
</div>
</section>
<section class="card">
<h2>{bilingual("スコアカード（区×指標）", "Scorecard: ward x indicator")}</h2>
<p class="note">セルの色は判定、数値は区の値です。年度を選んでください。セルにカーソルを置くと詳細。
<span class="en">Colour = status, number = the ward's value. Pick a fiscal year; hover a cell
for details.</span></p>
{legend(STATUS_STYLES, "st-")}
{tabs("fy", panels, str(latest))}
</section>
"""
    return page(
        active="index",
        title_ja="スコアカード",
        title_en="Scorecard",
        body=body,
        publication=header,
    )
