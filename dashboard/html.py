"""The HTML around the charts: the page shell, navigation, tabs, the shared stylesheet.

Pages are plain files opened from disk (file://): relative links only, no server, no network.
Every value written into HTML goes through `esc`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from dashboard.labels import (
    DISCLOSURE_RULE_EN,
    DISCLOSURE_RULE_JA,
    FONT_FAMILY,
    FRESHNESS_STYLES,
    STATUS_STYLES,
    StatusStyle,
)

PLOTLY_JS = "plotly.min.js"
STYLESHEET = "dashboard.css"


@dataclass(frozen=True)
class NavItem:
    """A page of the dashboard as the navigation names it."""

    key: str
    href: str
    label_ja: str
    label_en: str


NAV = (
    NavItem("index", "index.html", "スコアカード", "Scorecard"),
    NavItem("trends", "trends.html", "推移", "Trends"),
    NavItem("ranking", "ranking.html", "区別順位", "Ranking"),
    NavItem("quality", "quality.html", "データ品質", "Data quality"),
    NavItem("breakdowns", "breakdowns.html", "内訳", "Breakdowns"),
)


def esc(value: object) -> str:
    """Text for HTML content and attribute values."""
    return escape("" if value is None else str(value), quote=True)


def bilingual(ja: str, en: str) -> str:
    """Japanese first, English smaller beside it."""
    return f'{esc(ja)} <span class="en">{esc(en)}</span>'


def _nav(active: str) -> str:
    links = "".join(
        f'<a href="{item.href}"{" class=active" if item.key == active else ""}>'
        f"{bilingual(item.label_ja, item.label_en)}</a>"
        for item in NAV
    )
    return f"<nav>{links}</nav>"


def disclosure_note() -> str:
    """The disclosure rule, in Japanese and in English."""
    return (
        '<section class="disclosure" id="disclosure-rule">'
        f'<p lang="ja">{esc(DISCLOSURE_RULE_JA)}</p>'
        f'<p lang="en">{esc(DISCLOSURE_RULE_EN)}</p></section>'
    )


def page(
    *,
    active: str,
    title_ja: str,
    title_en: str,
    body: str,
    publication: str,
    with_charts: bool = True,
    rule_first: bool = False,
) -> str:
    """A whole page: head (stylesheet, plotly.js when it has charts), header, body, footer.

    The disclosure rule closes every page; `rule_first` puts it first instead (the
    breakdown pages, where the suppressed cells are).
    """
    script = f'<script charset="utf-8" src="{PLOTLY_JS}"></script>' if with_charts else ""
    rule = disclosure_note()
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title_ja)} | dxkpi ダッシュボード</title>
<link rel="stylesheet" href="{STYLESHEET}">
{script}
</head>
<body>
<header>
<p class="site">東京23区 職員デジタル人材育成 KPI <span class="en">dxkpi — staff digital-skills
programme of Tokyo's 23 wards</span></p>
<h1>{bilingual(title_ja, title_en)}</h1>
{_nav(active)}
<div class="publication">{publication}</div>
</header>
<main>
{rule if rule_first else ""}
{body}
</main>
<footer>
{"" if rule_first else rule}
</footer>
</body>
</html>
"""


def legend(styles: dict[str, StatusStyle], css_prefix: str) -> str:
    """Colour chips naming each status (or freshness state)."""
    chips = "".join(
        f'<span class="chip {css_prefix}{esc(key)}">{esc(style.mark) or "&nbsp;"} '
        f"{bilingual(style.label_ja, style.label_en)}</span>"
        for key, style in styles.items()
    )
    return f'<div class="legend">{chips}</div>'


def tabs(group: str, panels: Sequence[tuple[str, str, str]], checked: str) -> str:
    """Tabs without script: radio buttons and CSS show one panel at a time.

    Args:
        group: The radio group's name (unique in the page).
        panels: (key, label HTML, panel HTML) per tab, in display order.
        checked: The key of the tab shown first.
    """
    radios = "".join(
        f'<input type="radio" name="{esc(group)}" id="{esc(group)}-{esc(key)}" '
        f'value="{esc(key)}"{" checked" if key == checked else ""}>'
        f'<label for="{esc(group)}-{esc(key)}">{label}</label>'
        for key, label, _ in panels
    )
    bodies = "".join(
        f'<div class="tab-panel" data-tab="{esc(key)}">{body}</div>' for key, _, body in panels
    )
    rules = "".join(
        f'#{group}-{key}:checked ~ .tab-panel[data-tab="{key}"]{{display:block}}'
        for key, _, _ in panels
    )
    return f'<div class="tabs"><style>{rules}</style>{radios}{bodies}</div>'


def td(content: str, css_class: str = "", title: str = "", **data: object) -> str:
    """A `<td>` around HTML `content`; `data` become `data-*` attributes (`_` -> `-`)."""
    attributes = f' class="{esc(css_class)}"' if css_class else ""
    attributes += f' title="{esc(title)}"' if title else ""
    attributes += "".join(
        f' data-{name.replace("_", "-")}="{esc(value)}"' for name, value in data.items()
    )
    return f"<td{attributes}>{content}</td>"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    css_class: str = "data",
    table_id: str = "",
    caption: str = "",
) -> str:
    """A table: header cells (HTML) and rows of complete cells (`td(...)` or `<th>`)."""
    head = "".join(f"<th>{header}</th>" for header in headers)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    id_attribute = f' id="{esc(table_id)}"' if table_id else ""
    caption_html = f"<caption>{caption}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table class="{css_class}"{id_attribute}>{caption_html}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _status_css(prefix: str, styles: dict[str, StatusStyle]) -> str:
    return "".join(
        f".{prefix}{key}{{background:{style.background};color:{style.text}}}"
        f".kpis .{prefix}{key}{{background:#fff;border-left:6px solid {style.strong}}}"
        for key, style in styles.items()
    )


STYLESHEET_TEXT = (
    f"""
:root {{ --ink:#222; --muted:#666; --line:#d0d7de; --accent:#1f4e79; }}
* {{ box-sizing:border-box; }}
body {{ margin:0; font-family:{FONT_FAMILY}; color:var(--ink); background:#f6f8fa;
  line-height:1.5; }}
header {{ background:#fff; border-bottom:1px solid var(--line); padding:12px 24px 8px; }}
header .site {{ margin:0; color:var(--muted); font-size:13px; }}
h1 {{ margin:4px 0 8px; font-size:22px; }}
h2 {{ font-size:18px; margin:28px 0 8px; border-left:5px solid var(--accent);
  padding-left:8px; }}
h3 {{ font-size:15px; margin:16px 0 6px; }}
.en {{ color:var(--muted); font-weight:normal; font-size:0.85em; }}
nav {{ display:flex; flex-wrap:wrap; gap:6px; margin:6px 0; }}
nav a {{ padding:4px 12px; border:1px solid var(--line); border-radius:16px;
  text-decoration:none; color:var(--accent); background:#fff; font-size:14px; }}
nav a.active {{ background:var(--accent); color:#fff; }}
nav a.active .en {{ color:#dde7f0; }}
.publication {{ font-size:13px; color:var(--muted); }}
.publication dl {{ display:flex; flex-wrap:wrap; gap:4px 20px; margin:4px 0; }}
.publication dt {{ font-weight:bold; color:var(--ink); }}
.publication dd {{ margin:0 0 0 6px; }}
.publication div {{ display:flex; }}
main {{ padding:8px 24px 24px; }}
section.card {{ background:#fff; border:1px solid var(--line); border-radius:6px;
  padding:8px 16px 16px; margin:16px 0; }}
.note {{ color:var(--muted); font-size:13px; }}
.missing {{ color:#8a6d3b; background:#fcf8e3; padding:6px 10px; border-radius:4px; }}
.legend {{ display:flex; flex-wrap:wrap; gap:6px; margin:8px 0; }}
.chip {{ padding:2px 10px; border-radius:12px; font-size:13px; border:1px solid #0001; }}
.table-wrap {{ overflow-x:auto; max-width:100%; }}
table {{ border-collapse:collapse; font-size:13px; background:#fff; }}
th, td {{ border:1px solid var(--line); padding:3px 6px; }}
th {{ background:#eef2f6; font-weight:bold; }}
caption {{ text-align:left; font-weight:bold; padding:4px 0; }}
table.data td.num {{ text-align:right; font-variant-numeric:tabular-nums; }}
table.grid .ward {{ display:inline-block; font-size:12px; }}
table.grid .ward a {{ color:inherit; text-decoration:none; }}
table.grid td.cell {{ text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums;
  padding:2px 4px; font-size:12px; }}
table.grid td.cell i {{ font-style:normal; font-size:10px; margin-left:2px; }}
table.grid th.indicator {{ text-align:left; position:sticky; left:0; background:#f7f9fb;
  min-width:220px; max-width:260px; font-weight:normal; z-index:1; font-size:12px; }}
table.grid th.indicator .tier {{ font-size:11px; color:var(--muted); margin-right:4px; }}
table.grid th.indicator .en {{ display:block; font-size:11px; }}
table.grid th.measure {{ text-align:left; background:#dfe8f1; position:sticky; left:0; }}
table.grid td.target {{ text-align:right; white-space:nowrap; color:var(--muted); }}
td.suppressed {{ text-align:center; color:#5c0a0a; background:#fbeaea; }}
td.total, th.total {{ font-weight:bold; background:#f2f4f7; }}
.tabs > input {{ position:absolute; opacity:0; }}
.tabs > label {{ display:inline-block; padding:4px 14px; margin:0 4px 6px 0; cursor:pointer;
  border:1px solid var(--line); border-radius:4px; background:#fff; }}
.tabs > input:checked + label {{ background:var(--accent); color:#fff; }}
.tabs > input:checked + label .en {{ color:#dde7f0; }}
.tabs > input:focus-visible + label {{ outline:2px solid var(--accent); }}
.tab-panel {{ display:none; }}
.charts {{ display:grid; grid-template-columns:repeat(auto-fill, minmax(560px, 1fr));
  gap:16px; }}
.chart {{ background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px; }}
.chart h3 {{ margin:0 0 2px; }}
.chart p {{ margin:0; font-size:12px; color:var(--muted); }}
.chart .gap {{ white-space:nowrap; color:var(--ink); }}
.chart.narrow {{ max-width:760px; }}
.kpis {{ display:flex; flex-wrap:wrap; gap:12px; }}
.kpis div {{ background:#fff; border:1px solid var(--line); border-radius:6px;
  padding:8px 14px; min-width:150px; }}
.kpis b {{ display:block; font-size:22px; }}
.wards {{ display:flex; flex-wrap:wrap; gap:6px; }}
.wards a {{ padding:4px 10px; border:1px solid var(--line); border-radius:4px; background:#fff;
  text-decoration:none; color:var(--accent); }}
footer {{ padding:8px 24px 24px; }}
.disclosure {{ background:#fff; border:1px solid #e3c6c6; border-left:5px solid #d9534f;
  border-radius:4px; padding:6px 14px; font-size:13px; }}
.disclosure p {{ margin:4px 0; }}
"""
    + _status_css("st-", STATUS_STYLES)
    + _status_css("fr-", FRESHNESS_STYLES)
    + "\n"
)
