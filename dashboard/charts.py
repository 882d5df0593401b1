"""The dashboard's Plotly figures, and the HTML fragment that draws one.

Every figure carries the numbers it shows as plain lists (never base64 arrays): the browser
test reads them back from the chart (`gd.data`) and compares them with the serving file. Traces
name their role in `meta` (`{"role": "median"}`, ...), figures their context in `layout.meta`.

A figure is the plain dict plotly.js draws (`{"data": [...], "layout": {...}}`), not a
`plotly.graph_objects.Figure`: building and validating graph objects cost about 0.65 ms a
trace, and a national dashboard draws every municipality on every trend chart. The tests
validate every figure the dashboard writes against Plotly's schema instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from dashboard.labels import (
    FONT_FAMILY,
    OUTCOME_GROUPS,
    STATUS_STYLES,
    format_value,
    fy_label,
    status_style,
)

# A small template of our own: Plotly's default one adds ~8 kB of JSON to every figure.
TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT_FAMILY, "size": 12, "color": "#222222"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "colorway": ["#4a78a8", "#d9534f", "#2e9e5b", "#d9a400", "#7d5ba6"],
        "xaxis": {
            "gridcolor": "#ececec",
            "linecolor": "#999999",
            "zeroline": False,
            "automargin": True,
        },
        "yaxis": {
            "gridcolor": "#ececec",
            "linecolor": "#999999",
            "zeroline": False,
            "automargin": True,
        },
        "hoverlabel": {"font": {"family": FONT_FAMILY}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    }
)
TEMPLATE_JSON = TEMPLATE.to_plotly_json()
CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
}
WARD_LINE = "rgba(74, 120, 168, 0.28)"
BAND = "rgba(74, 120, 168, 0.15)"


# A figure as plotly.js takes it: {"data": [trace, ...], "layout": {...}}.
Figure = dict[str, Any]


def figure(traces: Sequence[dict[str, Any]], **layout: Any) -> Figure:
    """A figure of these traces (each a dict with its `type`) and layout attributes."""
    return {"data": list(traces), "layout": layout}


def figure_html(figure: Figure, div_id: str, height: int) -> str:
    """The `<div>` and inline script drawing `figure` (plotly.js is loaded once by the page)."""
    layout = {**figure["layout"], "template": TEMPLATE_JSON, "height": height}
    return pio.to_html(
        {"data": figure["data"], "layout": layout},
        validate=False,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=CONFIG,
        default_height=f"{height}px",
    )


def yen_tick(value: float) -> str:
    """A yen axis label: 0, 5,000万円, 1.5億円."""
    if value == 0:
        return "0"
    if value >= 1e8:
        return f"{value / 1e8:g}億円"
    return f"{value / 1e4:,.0f}万円"


def yen_ticks(top: float) -> tuple[list[float], list[str]]:
    """About five round ticks from 0 past `top`, labelled in 万円 / 億円 (not 100,000,000)."""
    top = top if top > 0 else 1e8
    rough = top / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    values = [step * i for i in range(int(top // step) + 2)]
    return values, [yen_tick(value) for value in values]


def _value_axis(unit: str, top: float | None = None) -> dict:
    if unit == "percent":
        return {"ticksuffix": "%", "rangemode": "tozero"}
    if unit == "yen":
        values, labels = yen_ticks(top or 0)
        return {"tickvals": values, "ticktext": labels, "rangemode": "tozero"}
    if unit == "flag":
        return {"tickvals": [0, 1], "ticktext": ["なし", "あり"], "range": [-0.1, 1.1]}
    return {"tickformat": ",~r", "rangemode": "tozero"}


# Trends ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendSeries:
    """One indicator over the fiscal years, summarised across wards.

    Attributes:
        fiscal_years: The x axis, oldest first.
        median, low, high: Median, minimum and maximum across wards with a value (None: none).
        measured: Wards with a value, per year.
        targets: The target per year (the wards' targets' median), None without a target.
        provisional: Per year, whether any ward's value is provisional.
        wards: (ward name, values per year) for every ward, drawn as faint lines.
        hover: Formatted median per year for the hover text.
    """

    fiscal_years: list[int]
    median: list[float | None]
    low: list[float | None]
    high: list[float | None]
    measured: list[int]
    targets: list[float | None]
    provisional: list[bool]
    wards: list[tuple[str, str, list[float | None]]]
    hover: list[str]


def trend_figure(series: TrendSeries, unit: str) -> Figure:
    """Median across wards per fiscal year, its min-max band, every ward faintly, the target."""
    x = [fy_label(year) for year in series.fiscal_years]
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": values,
            "mode": "lines",
            "name": "各区 wards",
            "legendgroup": "wards",
            "showlegend": index == 0,
            "line": {"color": WARD_LINE, "width": 1},
            "hovertext": [format_value(value, unit) for value in values],
            "hovertemplate": f"{name}: %{{hovertext}}<extra></extra>",
            "meta": {"role": "ward", "ward_code": code},
        }
        for index, (code, name, values) in enumerate(series.wards)
    ]
    traces.append(
        {
            "type": "scatter",
            "x": x,
            "y": series.low,
            "mode": "lines",
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
            "meta": {"role": "min"},
        }
    )
    traces.append(
        {
            "type": "scatter",
            "x": x,
            "y": series.high,
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": BAND,
            "name": "最小〜最大 range",
            "hoverinfo": "skip",
            "meta": {"role": "max"},
        }
    )
    traces.append(
        {
            "type": "scatter",
            "x": x,
            "y": series.median,
            "mode": "lines+markers",
            "name": "中央値 median",
            "line": {"color": "#1f4e79", "width": 3},
            "marker": {
                "size": 9,
                "color": "#1f4e79",
                "symbol": ["circle-open" if p else "circle" for p in series.provisional],
            },
            "customdata": [
                [m, "暫定 provisional" if p else ""]
                for m, p in zip(series.measured, series.provisional, strict=True)
            ],
            "hovertext": series.hover,
            "hovertemplate": "%{x} 中央値 %{hovertext}（%{customdata[0]}区）%{customdata[1]}"
            "<extra></extra>",
            "meta": {"role": "median"},
        }
    )
    if any(target is not None for target in series.targets):
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": series.targets,
                "mode": "lines",
                "name": "目標 target",
                "line": {"color": "#d9534f", "width": 2, "dash": "dash"},
                "hovertext": [format_value(t, unit) for t in series.targets],
                "hovertemplate": "目標 %{hovertext}<extra></extra>",
                "meta": {"role": "target"},
            }
        )
    return figure(
        traces,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        yaxis=_value_axis(unit, _top(series.high, series.targets)),
        xaxis={"type": "category"},
        hovermode="closest",
    )


def _top(*series: Sequence[float | None]) -> float:
    return max((value for values in series for value in values if value is not None), default=0)


# Ranking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedWard:
    """One ward of a ranking (mart_ward_benchmark), with its scorecard status."""

    ward_code: str
    ward_name_ja: str
    value: float
    rank: int
    percentile: float | None
    status: str | None
    text: str


def ranking_figure(
    wards: Sequence[RankedWard],
    unit: str,
    median: float | None,
    target: float | None,
    context: dict,
) -> Figure:
    """Wards as horizontal bars in rank order (1 on top), coloured by scorecard status."""
    names = [ward.ward_name_ja for ward in wards]
    bars = {
        "type": "bar",
        "x": [ward.value for ward in wards],
        "y": names,
        "orientation": "h",
        "marker": {"color": [status_style(ward.status).strong for ward in wards]},
        "text": [ward.text for ward in wards],
        "textposition": "outside",
        "textangle": 0,
        "cliponaxis": False,
        "customdata": [
            [ward.ward_code, ward.rank, ward.percentile, status_style(ward.status).label_ja]
            for ward in wards
        ],
        "hovertemplate": "%{customdata[1]}位 %{y}: %{text}（%{customdata[3]}）"
        "<br>パーセンタイル %{customdata[2]:.0f}<extra></extra>",
        "meta": {"role": "ranking"},
    }
    shapes, annotations = [], []
    for value, label, colour, dash, side in (
        (median, "中央値", "#1f4e79", "dot", "right"),
        (target, "目標", "#d9534f", "dash", "left"),
    ):
        if value is None:
            continue
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": value,
                "x1": value,
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "width": 2, "dash": dash},
            }
        )
        annotations.append(
            {
                "x": value,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "yanchor": "bottom",
                "xanchor": side,
                "text": label,
                "showarrow": False,
                "font": {"color": colour},
            }
        )
    return figure(
        [bars],
        margin={"l": 80, "r": 30, "t": 30, "b": 40},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": names,
            "autorange": "reversed",
        },
        xaxis=_value_axis(unit, _top([ward.value for ward in wards], [target])),
        shapes=shapes,
        annotations=annotations,
        showlegend=False,
        meta=context,
        bargap=0.25,
    )


# Overview -------------------------------------------------------------------------------------


def status_count_figure(fiscal_years: Sequence[int], counts: dict[str, list[int]]) -> Figure:
    """Ward x indicator cells per status and fiscal year, stacked."""
    traces = [
        {
            "type": "bar",
            "x": [fy_label(year) for year in fiscal_years],
            "y": counts.get(status, []),
            "name": f"{style.label_ja} {style.label_en}",
            "marker": {"color": style.strong},
            "hovertemplate": f"%{{x}} {style.label_ja}: %{{y}}<extra></extra>",
            "meta": {"role": "status", "status": status},
        }
        for status, style in STATUS_STYLES.items()
    ]
    return figure(
        traces,
        barmode="stack",
        legend={"traceorder": "normal"},
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        xaxis={"type": "category"},
        yaxis={"title": {"text": "区×指標 cells"}},
    )


# Data quality ---------------------------------------------------------------------------------


def _dataset_bars(
    datasets: Sequence[str],
    bars: Sequence[tuple[list[int], str, str, str, dict]],
    barmode: str,
    xaxis: dict,
) -> Figure:
    """Horizontal bars per dataset, one trace per (values, name, colour, hover, meta)."""
    traces = [
        {
            "type": "bar",
            "y": list(datasets),
            "x": values,
            "orientation": "h",
            "name": name,
            "marker": {"color": colour},
            "hovertemplate": f"%{{y}} {hover}<extra></extra>",
            "meta": meta,
        }
        for values, name, colour, hover, meta in bars
    ]
    return figure(
        traces,
        barmode=barmode,
        legend={"traceorder": "normal"},
        margin={"l": 170, "r": 20, "t": 40, "b": 40},
        yaxis={"type": "category", "autorange": "reversed"},
        xaxis=xaxis,
    )


def file_outcome_figure(datasets: Sequence[str], counts: dict[str, list[int]]) -> Figure:
    """Current file versions per dataset by outcome (loaded / refused / other), stacked."""
    bars = [
        (
            counts.get(group, []),
            f"{label_ja} {label_en}",
            colour,
            f"{label_ja}: %{{x}}",
            {"role": "files", "group": group},
        )
        for group, label_ja, label_en, colour in OUTCOME_GROUPS
    ]
    return _dataset_bars(datasets, bars, "stack", {"title": {"text": "ファイル数 files"}})


def row_outcome_figure(datasets: Sequence[str], rows: dict[str, list[int]]) -> Figure:
    """Rows per dataset: loaded, quarantined, in refused files (log scale: they differ a lot)."""
    bars = [
        (rows.get(key, []), label, colour, f"{label}: %{{x:,}}", {"role": "rows", "kind": key})
        for key, label, colour in (
            ("loaded", "取込行 loaded", "#2e9e5b"),
            ("quarantined", "隔離行 quarantined", "#d9a400"),
            ("refused", "拒否ファイルの行 in refused files", "#d9534f"),
        )
    ]
    xaxis = {"type": "log", "dtick": 1, "title": {"text": "行数 rows (対数 log)"}}
    return _dataset_bars(datasets, bars, "group", xaxis)


def freshness_figure(datasets: Sequence[str], counts: dict[str, list[int]], styles: dict) -> Figure:
    """Wards per dataset by freshness of their exports (fresh / warn / overdue / never)."""
    bars = [
        (
            counts.get(state, []),
            f"{style.label_ja} {style.label_en}",
            style.strong,
            f"{style.label_ja}: %{{x}}区",
            {"role": "freshness", "state": state},
        )
        for state, style in styles.items()
    ]
    return _dataset_bars(datasets, bars, "stack", {"title": {"text": "区の数 wards"}})


# Breakdowns -----------------------------------------------------------------------------------


def breakdown_rate_figure(
    labels: Sequence[str], rates: Sequence[float | None], totals: Sequence[bool], title: str
) -> Figure:
    """A share per row of a breakdown (the total darker); a suppressed share has no bar and
    says 秘匿."""
    bars = {
        "type": "bar",
        "x": list(labels),
        "y": list(rates),
        "marker": {"color": ["#1f4e79" if total else "#7fa7cf" for total in totals]},
        "text": [f"{rate:.1f}%" if rate is not None else "" for rate in rates],
        "textposition": "outside",
        "hovertemplate": "%{x}: %{y:.1f}%<extra></extra>",
        "meta": {"role": "breakdown"},
    }
    return figure(
        [bars],
        title={"text": title, "x": 0, "font": {"size": 14}},
        margin={"l": 50, "r": 20, "t": 50, "b": 50},
        xaxis={"type": "category"},
        yaxis={"ticksuffix": "%", "range": [0, 110]},
        annotations=[
            {
                "x": label,
                "y": 0,
                "yanchor": "bottom",
                "text": "秘匿",
                "showarrow": False,
                "font": {"color": "#5c0a0a"},
            }
            for label, rate in zip(labels, rates, strict=True)
            if rate is None
        ],
    )
