"""Breakdowns of one ward (by grade, department, skill item), with suppressed cells marked.

The breakdown marts are disclosure-controlled upstream: a suppressed count or share is NULL.
Here a NULL is shown as the suppression mark, never as 0 or blank, and the rule is stated. One
page per ward (breakdown-<ward_code>.html) keeps the pages small and the selection static.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.charts import breakdown_rate_figure, figure_html
from dashboard.html import bilingual, esc, page, table, tabs, td
from dashboard.labels import SUPPRESSED_MARK, format_count, format_percent, fy_label
from dashboard.published import Published, Row, Ward

SUPPRESSED_TITLE = "秘匿 suppressed"


@dataclass(frozen=True)
class Column:
    """A column of a breakdown table: a count of people, or a share in percent."""

    name: str
    label_ja: str
    label_en: str
    is_share: bool = False


@dataclass(frozen=True)
class BreakdownSpec:
    """How a breakdown mart is shown.

    Attributes:
        table: Schema-qualified mart name.
        key: Short name used in element ids (`bd-<key>-<fy>`).
        title_ja, title_en: The table's title.
        row_column, row_label_ja, row_label_en: The column naming a row, and its header.
        order_column: The column ordering rows (grade_rank), else the row label's order.
        columns: The counts and shares, in display order.
    """

    table: str
    key: str
    title_ja: str
    title_en: str
    row_column: str
    row_label_ja: str
    row_label_en: str
    order_column: str | None
    columns: tuple[Column, ...]


_COMPLETION = (
    Column("staff", "職員数", "staff"),
    Column("completed", "修了", "completed"),
    Column("not_completed", "未修了", "not completed"),
    Column("completion_rate", "修了率", "completion rate", is_share=True),
)
BREAKDOWNS = (
    BreakdownSpec(
        table="marts.mart_training_completion_by_grade",
        key="grade",
        title_ja="デジタル基礎研修の修了（職層別）",
        title_en="Digital-basics training completion by grade",
        row_column="grade",
        row_label_ja="職層",
        row_label_en="grade",
        order_column="grade_rank",
        columns=_COMPLETION,
    ),
    BreakdownSpec(
        table="marts.mart_training_completion_by_department",
        key="department",
        title_ja="デジタル基礎研修の修了（所属別）",
        title_en="Digital-basics training completion by department",
        row_column="department_code",
        row_label_ja="所属コード",
        row_label_en="department",
        order_column=None,
        columns=_COMPLETION,
    ),
    BreakdownSpec(
        table="marts.mart_skill_levels_by_item",
        key="skill",
        title_ja="スキルマップのレベル（項目別）",
        title_en="Skill-map levels by item",
        row_column="skill_item",
        row_label_ja="スキル項目",
        row_label_en="skill item",
        order_column=None,
        columns=(
            Column("assessed", "評価人数", "assessed"),
            Column("level_1", "レベル1", "level 1"),
            Column("level_2", "レベル2", "level 2"),
            Column("level_3", "レベル3", "level 3"),
            Column("level_4", "レベル4", "level 4"),
        ),
    ),
    BreakdownSpec(
        table="marts.mart_staff_satisfaction_by_grade",
        key="satisfaction",
        title_ja="デジタル業務環境の満足度（職層区分別）",
        title_en="Satisfaction with the digital work environment by grade class",
        row_column="grade_class",
        row_label_ja="職層区分",
        row_label_en="grade class",
        order_column=None,
        columns=(
            Column("respondents", "回答者数", "respondents"),
            Column("satisfied", "満足", "satisfied"),
            Column("not_satisfied", "満足以外", "not satisfied"),
            Column("satisfied_share", "満足の割合", "satisfied share", is_share=True),
        ),
    ),
)
CHART_SPEC = BREAKDOWNS[0]
CHART_SHARE = "completion_rate"


def ordered_rows(rows: Sequence[Row], spec: BreakdownSpec) -> list[Row]:
    """Rows of one table in display order: by the order column or label, the total (計) last."""

    def key(row: Row) -> tuple:
        order = row.get(spec.order_column) if spec.order_column else None
        return (bool(row.get("is_total")), order is None, order or 0, str(row[spec.row_column]))

    return sorted(rows, key=key)


def _cell(row: Row, column: Column) -> str:
    value = row.get(column.name)
    total = " total" if row.get("is_total") else ""
    if value is None:
        return td(
            SUPPRESSED_MARK, f"suppressed{total}", SUPPRESSED_TITLE, column=column.name, value=""
        )
    text = format_percent(float(value)) if column.is_share else format_count(int(value))
    return td(esc(text), f"num{total}", column=column.name, value=repr(float(value)))


def breakdown_table(rows: Sequence[Row], spec: BreakdownSpec, fiscal_year: int) -> str:
    """One breakdown of one ward and fiscal year; suppressed cells show the mark."""
    columns = [column for column in spec.columns if any(column.name in row for row in rows)]
    headers = [bilingual(spec.row_label_ja, spec.row_label_en)] + [
        bilingual(column.label_ja, column.label_en) for column in columns
    ]
    lines = [
        [
            f'<th scope="row" class="{"total" if row.get("is_total") else ""}" '
            f'data-row="{esc(row[spec.row_column])}">{esc(row[spec.row_column])}</th>',
            *(_cell(row, column) for column in columns),
        ]
        for row in ordered_rows(rows, spec)
    ]
    caption = bilingual(spec.title_ja, spec.title_en)
    return table(headers, lines, table_id=f"bd-{spec.key}-{fiscal_year}", caption=caption)


def _ward_rows(published: Published, spec: BreakdownSpec, ward_code: str) -> list[Row]:
    return published.breakdown_rows(spec.table, ward_code)


def _rate_chart(published: Published, ward: Ward) -> str:
    rows = _ward_rows(published, CHART_SPEC, ward.code)
    if not rows:
        return ""
    latest = max(row["fiscal_year"] for row in rows)
    shown = [r for r in ordered_rows(rows, CHART_SPEC) if r["fiscal_year"] == latest]
    labels = [str(row[CHART_SPEC.row_column]) for row in shown]
    rates = [None if r.get(CHART_SHARE) is None else float(r[CHART_SHARE]) for r in shown]
    title = f"{ward.name_ja} {fy_label(latest)} 職層別の修了率 completion rate by grade"
    totals = [bool(row.get("is_total")) for row in shown]
    figure = breakdown_rate_figure(labels, rates, totals, title)
    figure["layout"]["meta"] = {"ward_code": ward.code, "fiscal_year": latest}
    return f'<div class="chart narrow">{figure_html(figure, "bd-chart", 340)}</div>'


def _ward_panels(published: Published, ward: Ward) -> list[tuple[str, str, str]]:
    years = sorted(
        {r["fiscal_year"] for spec in BREAKDOWNS for r in _ward_rows(published, spec, ward.code)},
        reverse=True,
    )
    panels = []
    for year in years:
        tables = []
        for spec in BREAKDOWNS:
            rows = [r for r in _ward_rows(published, spec, ward.code) if r["fiscal_year"] == year]
            if rows:
                tables.append(breakdown_table(rows, spec, year))
        panels.append((str(year), bilingual(fy_label(year), f"FY{year}"), "".join(tables)))
    return panels


def _ward_selector(wards: Sequence[Ward], current: Ward) -> str:
    options = "".join(
        f'<option value="breakdown-{esc(w.code)}.html"{" selected" if w == current else ""}>'
        f"{esc(w.name_ja)} {esc(w.name_en)}</option>"
        for w in wards
    )
    return (
        '<label>区を選ぶ <span class="en">Ward</span> '
        '<select id="ward-select" onchange="location.href=this.value">'
        f"{options}</select></label>"
        ' <a href="breakdowns.html">一覧 <span class="en">all wards</span></a>'
    )


def ward_page(
    published: Published, ward: Ward, header: str, wards: Sequence[Ward] | None = None
) -> str:
    """breakdown-<ward_code>.html: one ward's breakdowns, one tab per fiscal year; `wards`
    (default: the publication's) fill the page's ward selector."""
    panels = _ward_panels(published, ward)
    chart = _rate_chart(published, ward)
    content = (
        tabs("bdfy", panels, panels[0][0])
        if panels
        else '<p class="missing">この区の内訳はありません。No breakdown for this ward.</p>'
    )
    body = f"""
<p>{_ward_selector(published.wards() if wards is None else wards, ward)}</p>
{chart}
{content}
"""
    return page(
        active="breakdowns",
        title_ja=f"内訳：{ward.name_ja}",
        title_en=f"Breakdowns: {ward.name_en}",
        body=body,
        publication=header,
        with_charts=bool(chart),
        rule_first=True,
    )


def breakdowns_index(published: Published, header: str) -> str:
    """breakdowns.html: the rule, what is published, and a link per ward."""
    published_specs = [spec for spec in BREAKDOWNS if spec.table in published.breakdowns]
    if published_specs:
        listed = "".join(
            f"<li>{bilingual(spec.title_ja, spec.title_en)}</li>" for spec in published_specs
        )
        links = "".join(
            f'<a href="breakdown-{esc(w.code)}.html">{esc(w.name_ja)}</a>'
            for w in published.wards()
        )
        content = (
            f"<ul>{listed}</ul><h2>{bilingual('区を選ぶ', 'Pick a ward')}</h2>"
            f'<div class="wards" id="ward-links">{links}</div>'
        )
    else:
        content = (
            '<p class="missing">内訳はまだ公開されていません。'
            "No breakdown mart is published yet.</p>"
        )
    body = content
    return page(
        active="breakdowns",
        title_ja="内訳",
        title_en="Breakdowns",
        body=body,
        publication=header,
        with_charts=False,
        rule_first=True,
    )


def breakdown_pages(published: Published, header: str) -> dict[str, str]:
    """File name -> HTML of every breakdown page (the index, and one page per ward)."""
    pages = {"breakdowns.html": breakdowns_index(published, header)}
    if published.breakdowns:
        wards = published.wards()
        for ward in wards:
            pages[f"breakdown-{ward.code}.html"] = ward_page(published, ward, header, wards)
    return pages
