"""The static dashboard: rendered from a hand-built serving file, opened from disk (file://) in
headless Chromium, checked against the numbers of that file, photographed.

The serving file holds the design's marts (scorecard, benchmark, two breakdowns, dim_indicator),
the dq tables and meta.publication, with known numbers: four wards, three fiscal years (the
last provisional), four indicators covering every status, suppressed breakdown cells.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import duckdb
import plotly.graph_objects as go
import plotly.offline
import pytest

from dashboard import render_dashboard
from dashboard.labels import FONT_FAMILY, STATUS_STYLES, format_cell, format_value
from dashboard.published import read_published
from orchestration.dq.tables import (
    FILE_OUTCOMES_COLUMNS,
    INCIDENTS_COLUMNS,
    WARD_STATUS_COLUMNS,
)

STATUS_JA = {
    "achieved": "達成",
    "not_achieved": "未達成",
    "provisional": "暫定",
    "no_data": "データなし",
    "no_target": "目標なし",
}
WARDS = [
    ("131016", "千代田区", "Chiyoda"),
    ("131024", "中央区", "Chuo"),
    ("131032", "港区", "Minato"),
    ("131041", "新宿区", "Shinjuku"),
]
YEARS = [2023, 2024, 2025]
PROVISIONAL_YEAR = 2025


MEASURES = {
    "1": (
        "全職員のデジタルリテラシー向上基盤の構築",
        "A digital-literacy foundation for all staff",
    ),
    "2": ("DX推進を担う中核人材の戦略的育成", "Strategic development of core DX talent"),
    "context": ("自治体間格差", "Gaps between municipalities"),
}


class IndicatorSpec(NamedTuple):
    id: str
    measure: str
    tier: str
    name_ja: str
    name_en: str
    unit: str
    target: float | None
    order: int


INDICATORS = [
    IndicatorSpec(
        "m1_ksi_basic_training_completion", "1", "KSI", "全職員のデジタル基礎研修受講率",
        "Completion rate of mandatory digital-basics training", "percent", 90.0, 3,
    ),
    IndicatorSpec(
        "m1_kpi_basic_course_count", "1", "KPI_output", "提供するデジタル基礎研修コース数",
        "Digital-basics training courses offered", "count", 5.0, 5,
    ),
    IndicatorSpec(
        "m2_kpi_dx_leader_cost_savings", "2", "KPI_outcome",
        "DX推進リーダーが主導した業務改善によるコスト削減額",
        "Annual cost savings of improvements led by certified DX leaders", "yen", 1e8, 10,
    ),
    IndicatorSpec(
        "ctx_open_datasets", "context", "context", "オープンデータセット数",
        "Open datasets published", "count", None, 20,
    ),
]  # fmt: skip
# (indicator, ward, fiscal year) -> value; a missing key is no data.
VALUES = {
    **{
        ("m1_ksi_basic_training_completion", ward, year): value
        for (ward, year), value in {
            ("131016", 2023): 82.5, ("131016", 2024): 91.0, ("131016", 2025): 60.2,
            ("131024", 2023): 74.0, ("131024", 2024): 88.8, ("131024", 2025): 55.0,
            ("131032", 2023): 93.1, ("131032", 2024): 95.5, ("131032", 2025): 70.4,
            ("131041", 2023): 66.6, ("131041", 2024): 79.9,
        }.items()
    },
    **{
        ("m1_kpi_basic_course_count", ward, year): value
        for (ward, year), value in {
            ("131016", 2023): 4.0, ("131016", 2024): 5.0, ("131016", 2025): 6.0,
            ("131024", 2023): 3.0, ("131024", 2024): 3.0, ("131024", 2025): 4.0,
            ("131032", 2023): 7.0, ("131032", 2024): 8.0, ("131032", 2025): 8.0,
            ("131041", 2023): 5.0, ("131041", 2024): 6.0, ("131041", 2025): 2.0,
        }.items()
    },
    **{
        ("m2_kpi_dx_leader_cost_savings", ward, year): value
        for (ward, year), value in {
            ("131016", 2023): 0.0, ("131016", 2024): 45_000_000.0,
            ("131024", 2023): 120_000_000.0, ("131024", 2024): 98_500_000.0,
            ("131032", 2023): 250_000_000.0, ("131032", 2024): 310_000_000.0,
            ("131032", 2025): 80_000_000.0,
        }.items()
    },
    **{
        ("ctx_open_datasets", ward, year): value
        for (ward, year), value in {
            ("131016", 2023): 567.0, ("131016", 2024): 580.0, ("131016", 2025): 590.0,
            ("131024", 2023): 98.0, ("131024", 2024): 120.0, ("131024", 2025): 121.0,
            ("131032", 2023): 300.0, ("131032", 2024): 310.0, ("131032", 2025): 333.0,
            ("131041", 2023): 150.0, ("131041", 2024): 160.0, ("131041", 2025): 161.0,
        }.items()
    },
}  # fmt: skip
BREAKDOWN_WARD = "131016"
# ward, fiscal year, grade, grade_rank, is_total, staff, completed, not_completed, rate
GRADE_ROWS = [
    ("131016", 2024, "係員", 1, False, 420, 380, 40, 90.476),
    ("131016", 2024, "主任", 2, False, 210, 190, 20, 90.476),
    ("131016", 2024, "係長級", 3, False, 95, None, None, None),
    ("131016", 2024, "課長級", 5, False, 12, None, None, None),
    ("131016", 2024, "計", None, True, 737, 660, 77, 89.552),
    ("131016", 2025, "係員", 1, False, 400, 300, 100, 75.0),
    ("131016", 2025, "主任", 2, False, None, None, None, None),
    ("131016", 2025, "係長級", 3, False, None, None, None, None),
    ("131016", 2025, "計", None, True, 700, 520, 180, 74.286),
    ("131024", 2024, "係員", 1, False, 300, 250, 50, 83.333),
    ("131024", 2024, "計", None, True, 300, 250, 50, 83.333),
]
# ward, fiscal year, grade_class, is_total, respondents, satisfied, not_satisfied, share
SATISFACTION_ROWS = [
    ("131016", 2024, "一般職員", False, 300, 210, 90, 70.0),
    ("131016", 2024, "管理職", False, None, None, None, None),
    ("131016", 2024, "監督職", False, None, None, None, None),
    ("131016", 2024, "計", True, 340, 236, 104, 69.412),
]
RUN_ID = "run-7f3c2a"
RELEASE_ID = "20260115T093000-7f3c2a"
PUBLISHED_AT = datetime(2026, 1, 15, 9, 30, 0)
DATASETS = ("hr_staff", "training_enrollment")


# The serving file ---------------------------------------------------------------------------


def status_of(value: float | None, target: float | None, year: int) -> str:
    if value is None:
        return "no_data"
    if year == PROVISIONAL_YEAR:
        return "provisional"
    if target is None:
        return "no_target"
    return "achieved" if value >= target else "not_achieved"


def as_of(year: int) -> date:
    """The provisional year is known up to Dec 31; the others are closed (Mar 31 of N+1)."""
    return date(year, 12, 31) if year == PROVISIONAL_YEAR else date(year + 1, 3, 31)


def scorecard_rows() -> list[tuple]:
    rows = []
    for spec in INDICATORS:
        labels = (spec.id, spec.name_ja, spec.name_en, spec.measure, *MEASURES[spec.measure])
        labels += (spec.tier, spec.order, spec.unit, "higher_is_better")
        for code, ward_ja, ward_en in WARDS:
            previous = None
            for year in YEARS:
                value = VALUES.get((spec.id, code, year))
                status = status_of(value, spec.target, year)
                attainment = value / spec.target if value is not None and spec.target else None
                change = value - previous if None not in (value, previous) else None
                rows.append(
                    (code, ward_ja, ward_en, year, *labels, value, spec.target, attainment)
                    + (previous, change, status, STATUS_JA[status], year == PROVISIONAL_YEAR)
                    + (as_of(year),)
                )
                previous = value
    return rows


def benchmark_rows() -> list[tuple]:
    """Rank 1 = the highest value (every indicator here is higher_is_better)."""
    names = {code: ja for code, ja, _ in WARDS}
    rows = []
    for spec in INDICATORS:
        for year in YEARS:
            measured = sorted(
                (-value, code)
                for (indicator_id, code, y), value in VALUES.items()
                if indicator_id == spec.id and y == year
            )
            if not measured:
                continue
            numbers = [-value for value, _ in measured]
            best, worst = numbers[0], numbers[-1]
            summary = (statistics.median(numbers), best, worst, measured[0][1], measured[-1][1])
            gap = best / worst if worst else None
            n = len(measured)
            for rank, (value, code) in enumerate(measured, start=1):
                percentile = 100.0 * (n - rank) / (n - 1) if n > 1 else 100.0
                rows.append(
                    (spec.id, year, code, names[code], -value, rank, n, percentile, *summary, gap)
                )
    return rows


def create_marts(con: duckdb.DuckDBPyConnection, breakdowns: bool) -> None:
    con.execute("create schema marts")
    con.execute(
        """create table marts.mart_kpi_scorecard (ward_code varchar, ward_name_ja varchar,
        ward_name_en varchar, fiscal_year integer, indicator_id varchar,
        indicator_name_ja varchar, indicator_name_en varchar, measure varchar,
        measure_name_ja varchar, measure_name_en varchar, tier varchar, display_order integer,
        unit varchar, direction varchar, value double, target_value double, attainment double,
        previous_value double, change_from_previous double, status varchar, status_ja varchar,
        is_provisional boolean, as_of_date date)"""
    )
    con.executemany(
        f"insert into marts.mart_kpi_scorecard values ({', '.join(['?'] * 23)})",
        scorecard_rows(),
    )
    con.execute(
        """create table marts.mart_ward_benchmark (indicator_id varchar, fiscal_year integer,
        ward_code varchar, ward_name_ja varchar, value double, rank integer,
        wards_ranked integer, percentile double, median_value double, best_value double,
        worst_value double, best_ward_code varchar, worst_ward_code varchar, gap_ratio double)"""
    )
    con.executemany(
        f"insert into marts.mart_ward_benchmark values ({', '.join(['?'] * 14)})",
        benchmark_rows(),
    )
    con.execute("create table marts.dim_indicator (indicator_id varchar, target_value double)")
    con.executemany(
        "insert into marts.dim_indicator values (?, ?)",
        [(spec.id, spec.target) for spec in INDICATORS],
    )
    if not breakdowns:
        return
    con.execute(
        """create table marts.mart_training_completion_by_grade (ward_code varchar,
        fiscal_year integer, grade varchar, grade_rank integer, is_total boolean, staff bigint,
        completed bigint, not_completed bigint, completion_rate double, is_suppressed boolean)"""
    )
    con.executemany(
        "insert into marts.mart_training_completion_by_grade values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row, None in row[5:9]) for row in GRADE_ROWS],
    )
    con.execute(
        """create table marts.mart_staff_satisfaction_by_grade (ward_code varchar,
        fiscal_year integer, grade_class varchar, is_total boolean, respondents bigint,
        satisfied bigint, not_satisfied bigint, satisfied_share double, is_suppressed boolean)"""
    )
    con.executemany(
        "insert into marts.mart_staff_satisfaction_by_grade values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row, None in row[4:8]) for row in SATISFACTION_ROWS],
    )


def create_dq(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema dq")
    for name, columns in (
        ("file_outcomes", FILE_OUTCOMES_COLUMNS),
        ("ward_dataset_status", WARD_STATUS_COLUMNS),
        ("incidents", INCIDENTS_COLUMNS),
    ):
        con.execute(f"create table dq.{name} ({columns}, published_at timestamp)")
    seen = datetime(2026, 1, 10, 3, 0, 0)
    outcomes = [
        # path, ward, dataset, current, state, read, loaded, quarantined
        ("hr/131016_staff_20251231.csv", "131016", "hr_staff", True, "loaded", 800, 797, 3),
        ("hr/131024_staff_20251231.csv", "131024", "hr_staff", True, "unchanged", 500, 500, 0),
        ("hr/131032_staff_20251231.csv", "131032", "hr_staff", True, "rejected", 640, None, None),
        ("hr/131032_staff_20251231.csv", "131032", "hr_staff", False, "loaded", 630, 630, 0),
        ("training/131016_enrollment_20251231.csv", "131016", "training_enrollment", True,
         "replaced", 1200, 1150, 50),
        ("training/131041_enrollment_20251231.csv", "131041", "training_enrollment", True,
         "still_rejected", 90, None, None),
        ("hr/notes.txt", None, None, True, "not_recognised", None, None, None),
    ]  # fmt: skip
    con.executemany(
        f"insert into dq.file_outcomes values ({', '.join(['?'] * 16)})",
        [
            (
                path,
                path.split("/")[0],
                ward,
                dataset,
                None,
                f"sha-{i}",
                current,
                state,
                None,
                read,
                loaded,
                quarantined,
                RUN_ID,
                seen,
                seen,
                PUBLISHED_AT,
            )
            for i, (path, ward, dataset, current, state, read, loaded, quarantined) in enumerate(
                outcomes
            )
        ],
    )
    freshness = {
        ("131016", "hr_staff"): ("fresh", "loaded"),
        ("131024", "hr_staff"): ("fresh", "unchanged"),
        ("131032", "hr_staff"): ("warn", "rejected"),
        ("131041", "hr_staff"): ("never_received", None),
        ("131016", "training_enrollment"): ("fresh", "replaced"),
        ("131024", "training_enrollment"): ("overdue", "loaded"),
        ("131032", "training_enrollment"): ("never_received", None),
        ("131041", "training_enrollment"): ("overdue", "still_rejected"),
    }
    con.executemany(
        f"insert into dq.ward_dataset_status values ({', '.join(['?'] * 15)})",
        [
            (
                ward,
                en,
                dataset,
                None,
                None,
                state,
                None,
                None,
                None,
                None,
                None,
                1 if state in ("rejected", "still_rejected") else 0,
                0,
                fresh,
                PUBLISHED_AT,
            )
            for (ward, dataset), (fresh, state) in freshness.items()
            for code, _, en in WARDS
            if code == ward
        ],
    )
    incidents = [
        (1, "refused:hr/131032", "refused_file", "error", "Refused: hr/131032_staff", "hr_staff",
         "131032", True),
        (2, "check:training", "check_failed", "warn", "Check failed: training_enrollment",
         "training_enrollment", None, True),
        (3, "refused:old", "refused_file", "error", "Refused: an old file", "hr_staff",
         "131016", False),
    ]  # fmt: skip
    con.executemany(
        f"insert into dq.incidents values ({', '.join(['?'] * 17)})",
        [
            (
                id_,
                key,
                kind,
                severity,
                title,
                "m",
                "a",
                None,
                ward,
                dataset,
                None,
                None,
                is_open,
                seen,
                None if is_open else seen,
                None,
                PUBLISHED_AT,
            )
            for id_, key, kind, severity, title, dataset, ward, is_open in incidents
        ],
    )


def build_serving_file(path: Path, breakdowns: bool = True) -> Path:
    """A serving file with the design's tables and the known numbers above."""
    with duckdb.connect(str(path)) as con:
        create_marts(con, breakdowns)
        create_dq(con)
        con.execute("create schema meta")
        con.execute(
            "create table meta.publication "
            "(published_at timestamp, run_id varchar, table_name varchar, row_count bigint, "
            "release_id varchar)"
        )
        tables = con.execute(
            "select schema_name || '.' || table_name, estimated_size from duckdb_tables() "
            "where schema_name <> 'meta'"
        ).fetchall()
        con.executemany(
            "insert into meta.publication values (?, ?, ?, ?, ?)",
            [(PUBLISHED_AT, RUN_ID, name, size, RELEASE_ID) for name, size in tables],
        )
    return path


# Fixtures -----------------------------------------------------------------------------------


@dataclass
class Rendered:
    serving: Path
    out_dir: Path
    index: Path
    seconds: float


@dataclass
class Visit:
    """What a page did while it loaded: errors and requests that left the file system."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    root = tmp_path_factory.mktemp("dashboard")
    serving = build_serving_file(root / "dxkpi.duckdb")
    started = time.perf_counter()
    index = render_dashboard(serving, root / "site")
    return Rendered(serving, root / "site", index, time.perf_counter() - started)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = find_chromium()
    if executable is None:
        reason = "no chromium on PATH (Debian: apt-get install chromium; .ci/run does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the browser test")
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def context(browser) -> Iterator[object]:
    """One browser context for the module: plotly.js is compiled once, not once per test."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="ja-JP")
    yield context
    context.close()


@pytest.fixture(scope="module")
def open_page(context) -> Iterator:
    """Open a dashboard file once per module (plotly.js takes seconds to load on a busy
    machine); anything but file:// is aborted and recorded, for as long as the page lives.
    Tests that click put the page in the state they need first."""
    opened: dict[Path, tuple] = {}

    def visit(path: Path):
        if path in opened:
            return opened[path]
        page, seen = context.new_page(), Visit()
        page.on("console", lambda m: m.type == "error" and seen.errors.append(m.text))
        page.on("pageerror", lambda error: seen.errors.append(str(error)))
        page.on("websocket", lambda socket: seen.outside.append(socket.url))

        def route(route) -> None:
            url = route.request.url
            if url.startswith(("file:", "data:", "blob:")):
                route.continue_()
            else:
                seen.outside.append(url)
                route.abort()

        page.route("**/*", route)
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
            ".every(gd => gd._fullData && gd.querySelector('.main-svg'))"
        )
        opened[path] = page, seen
        return page, seen

    yield visit
    for page, _ in opened.values():
        page.close()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("DXKPI_SCREENSHOT_DIR")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def query(serving: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def chart(page, div_id: str) -> dict:
    """The data and layout meta a chart was drawn with, as the browser holds them."""
    return page.evaluate(
        """(id) => {
            const gd = document.getElementById(id);
            return {
                traces: gd.data.map(t => ({
                    meta: t.meta ?? null, name: t.name ?? null,
                    x: t.x ? Array.from(t.x) : [], y: t.y ? Array.from(t.y) : [],
                })),
                meta: gd.layout.meta ?? null,
                rendered: gd._fullData.length,
            };
        }""",
        div_id,
    )


def trace(figure: dict, **meta) -> dict:
    found = [t for t in figure["traces"] if t["meta"] and meta.items() <= t["meta"].items()]
    assert len(found) == 1, (meta, [t["meta"] for t in figure["traces"]])
    return found[0]


def rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


# Rendering, without a browser ---------------------------------------------------------------


def test_render_writes_the_pages_and_one_plotly_bundle(rendered: Rendered) -> None:
    site = rendered.out_dir
    assert rendered.index == site / "index.html"
    names = {path.name for path in site.iterdir()}
    assert {"index.html", "trends.html", "ranking.html", "quality.html", "breakdowns.html"} <= names
    assert {f"breakdown-{code}.html" for code, _, _ in WARDS} <= names
    assert [name for name in names if name.endswith(".js")] == ["plotly.min.js"]
    # The installed plotly's bundle, byte for byte
    bundle = (site / "plotly.min.js").read_text(encoding="utf-8")
    assert bundle == plotly.offline.get_plotlyjs()
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "cdn.plot.ly" not in text and "https://" not in text, page.name
        assert '<html lang="ja">' in text
        # The bundle is shared, never inlined: a page stays small.
        assert page.stat().st_size < 300_000, page.name


def written_figures(site: Path) -> dict[str, dict]:
    """Every figure the pages draw (`Plotly.newPlot(id, data, layout, ...)`), by page and id."""
    decoder = json.JSONDecoder()
    figures = {}
    for page in sorted(site.glob("*.html")):
        html = page.read_text(encoding="utf-8")
        for call in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', html):
            data, end = decoder.raw_decode(html, call.end())
            layout, _ = decoder.raw_decode(html, html.index("{", end))
            figures[f"{page.name}#{call.group(1)}"] = {"data": data, "layout": layout}
    return figures


def test_every_figure_is_valid_plotly(rendered: Rendered) -> None:
    """The figures are built as plain dicts and written unvalidated: Plotly's schema checks
    them here (an unknown or misspelt property raises)."""
    figures = written_figures(rendered.out_dir)
    kinds = {name.split("#")[1].split("-")[0] for name in figures}
    assert kinds == {"status", "trend", "rank", "dq", "bd"}, kinds
    for name, figure in figures.items():
        validated = go.Figure(figure)
        assert len(validated.data) == len(figure["data"]), name
        assert validated.layout.template.layout.font.family == FONT_FAMILY, name


def test_render_without_breakdowns_or_dq(tmp_path: Path) -> None:
    # GIVEN a serving file with no breakdown mart and no dq schema
    serving = build_serving_file(tmp_path / "dxkpi.duckdb", breakdowns=False)
    with duckdb.connect(str(serving)) as con:
        con.execute("drop schema dq cascade")
    # WHEN the dashboard is rendered
    index = render_dashboard(serving, tmp_path / "site")
    # THEN it says what is missing instead of failing
    assert index.is_file()
    assert "No breakdown mart is published yet" in (tmp_path / "site/breakdowns.html").read_text()
    assert "dq.file_outcomes" in (tmp_path / "site/quality.html").read_text()
    assert not list((tmp_path / "site").glob("breakdown-*.html"))


def test_render_refuses_a_file_without_scorecard(tmp_path: Path) -> None:
    serving = tmp_path / "empty.duckdb"
    duckdb.connect(str(serving)).close()
    with pytest.raises(ValueError, match="mart_kpi_scorecard"):
        render_dashboard(serving, tmp_path / "site")


def test_a_publication_before_any_export_gets_a_page_saying_so(tmp_path: Path) -> None:
    # GIVEN the first publication of a pipeline that has loaded nothing: an empty scorecard
    serving = tmp_path / "first.duckdb"
    with duckdb.connect(str(serving)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.mart_kpi_scorecard (ward_code varchar, value double)")
    # WHEN the dashboard is rendered THEN it says there is nothing yet, rather than failing
    index = render_dashboard(serving, tmp_path / "site")
    text = index.read_text(encoding="utf-8")
    assert 'lang="ja"' in text and "まだ指標値がありません" in text and "No indicator value" in text


def test_cli_writes_the_dashboard(rendered: Rendered, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dashboard",
            "--serving",
            str(rendered.serving),
            "--out",
            str(tmp_path / "cli"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (tmp_path / "cli" / "index.html").is_file()
    assert "index.html" in result.stdout


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        pytest.param(93.14, "percent", "93.1%", id="percent"),
        pytest.param(42.0, "count", "42", id="count"),
        pytest.param(1_234_567.0, "count", "1,234,567", id="count-thousands"),
        pytest.param(120_000_000.0, "yen", "1.20億円", id="yen-oku"),
        pytest.param(45_000_000.0, "yen", "4,500万円", id="yen-man"),
        pytest.param(1.0, "flag", "あり", id="flag-yes"),
        pytest.param(0.0, "flag", "なし", id="flag-no"),
        pytest.param(None, "percent", "–", id="no-value"),
    ],
)
def test_format_value(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        pytest.param(193_000_000.0, "yen", "1.9億", id="yen-oku"),
        pytest.param(89_300_000.0, "yen", "8,930万", id="yen-man"),
        pytest.param(35.34, "percent", "35.3%", id="percent"),
    ],
)
def test_format_cell_is_compact(value: float, unit: str, text: str) -> None:
    assert format_cell(value, unit) == text


# In the browser -----------------------------------------------------------------------------


PAGES = [
    "index.html",
    "trends.html",
    "ranking.html",
    "quality.html",
    "breakdowns.html",
    f"breakdown-{BREAKDOWN_WARD}.html",
]


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_offline_in_chromium(
    rendered: Rendered, open_page, screenshot_dir: Path, capsys, name: str
) -> None:
    page, seen = open_page(rendered.out_dir / name)
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert seen.errors == []
    assert seen.outside == []
    charts = page.evaluate(
        """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(gd => ({
            id: gd.id, svg: !!gd.querySelector('.main-svg'), traces: gd._fullData.length}))"""
    )
    assert all(c["svg"] and c["traces"] > 0 for c in charts), charts
    if name != "breakdowns.html":
        assert charts, f"{name} draws no chart"
    # The disclosure rule, in Japanese and in English, on every page.
    text = page.inner_text("#disclosure-rule")
    assert "10人未満" in text and "二次秘匿" in text and "秘匿" in text
    assert "fewer than 10 people" in text and "complementary suppression" in text
    assert "ratio built on a suppressed count is suppressed" in text
    shot = screenshot_dir / name.replace(".html", ".png")
    page.screenshot(path=str(shot), full_page=True)
    with capsys.disabled():
        print(f"\nscreenshot: {shot}")


def test_publication_is_named(rendered: Rendered, open_page) -> None:
    page, _ = open_page(rendered.index)
    assert page.inner_text("#run-id") == RUN_ID
    assert page.inner_text("#release-id") == RELEASE_ID
    assert page.inner_text("#published-at") == "2026-01-15 09:30:00"
    assert "2025年度" in page.inner_text("#latest-fy")
    assert page.inner_text("#as-of") == "2025-12-31"


def test_scorecard_grid_colours_and_labels_follow_the_statuses(
    rendered: Rendered, open_page
) -> None:
    page, _ = open_page(rendered.index)
    cells = page.evaluate(
        """() => Array.from(document.querySelectorAll('table.grid td.cell')).map(td => ({
            ward: td.dataset.ward,
            indicator: td.parentElement.querySelector('th').dataset.indicator,
            fy: Number(td.closest('table').id.replace('scorecard-', '')),
            status: td.dataset.status, title: td.title, text: td.innerText.trim(),
            value: td.dataset.value === '' ? null : Number(td.dataset.value),
            background: getComputedStyle(td).backgroundColor}))"""
    )
    published = {
        (ward, indicator, year): (value, status, status_ja)
        for ward, indicator, year, value, status, status_ja in query(
            rendered.serving,
            "select ward_code, indicator_id, fiscal_year, value, status, status_ja "
            "from marts.mart_kpi_scorecard",
        )
    }
    shown = {(c["ward"], c["indicator"], c["fy"]): c for c in cells}
    assert shown.keys() == published.keys()
    assert {status for _, status, _ in published.values()} == set(STATUS_JA)
    units = {spec.id: spec.unit for spec in INDICATORS}
    for key, (value, status, status_ja) in published.items():
        cell = shown[key]
        assert (cell["status"], cell["value"]) == (status, value), key
        assert status_ja == STATUS_JA[status]
        assert cell["title"].split("\n")[0].split(": ")[1].startswith(status_ja + " "), key
        assert cell["background"] == rgb(STATUS_STYLES[status].background), key
        if value is not None:
            assert cell["text"].startswith(format_cell(value, units[key[1]])), key
    # The legend names every status in Japanese, on its colour.
    chips = page.evaluate(
        """() => Array.from(document.querySelectorAll('.legend .chip')).map(chip => ({
            text: chip.innerText, background: getComputedStyle(chip).backgroundColor}))"""
    )
    for status, label in STATUS_JA.items():
        chip = next(chip for chip in chips if label in chip["text"].split())
        assert chip["background"] == rgb(STATUS_STYLES[status].background), status


def test_fiscal_year_tabs_switch_the_grid(rendered: Rendered, open_page) -> None:
    page, _ = open_page(rendered.index)
    # The latest year is the tab a viewer sees first.
    assert page.evaluate("document.getElementById('fy-2025').defaultChecked")
    page.click("label[for=fy-2025]")
    assert page.is_visible("#scorecard-2025") and not page.is_visible("#scorecard-2023")
    page.click("label[for=fy-2023]")
    assert page.is_visible("#scorecard-2023") and not page.is_visible("#scorecard-2025")


def test_status_counts_chart(rendered: Rendered, open_page) -> None:
    page, _ = open_page(rendered.index)
    figure = chart(page, "status-counts")
    counts = dict(
        query(
            rendered.serving,
            "select fiscal_year || ':' || status, count(*) from marts.mart_kpi_scorecard "
            "group by all",
        )
    )
    for status in STATUS_JA:
        drawn = trace(figure, role="status", status=status)
        assert drawn["y"] == [counts.get(f"{year}:{status}", 0) for year in YEARS], status


def test_trend_charts_show_the_published_numbers(rendered: Rendered, open_page) -> None:
    page, _ = open_page(rendered.out_dir / "trends.html")
    rows = query(
        rendered.serving,
        "select indicator_id, fiscal_year, ward_code, value, target_value "
        "from marts.mart_kpi_scorecard",
    )
    for spec in INDICATORS:
        figure = chart(page, f"trend-{spec.id}")
        own = [row for row in rows if row[0] == spec.id]
        medians, lows, highs = [], [], []
        for year in YEARS:
            numbers = [row[3] for row in own if row[1] == year and row[3] is not None]
            medians.append(statistics.median(numbers) if numbers else None)
            lows.append(min(numbers) if numbers else None)
            highs.append(max(numbers) if numbers else None)
        assert trace(figure, role="median")["y"] == medians, spec.id
        assert trace(figure, role="min")["y"] == lows
        assert trace(figure, role="max")["y"] == highs
        assert trace(figure, role="median")["x"] == [f"{year}年度" for year in YEARS]
        for code, _, _ in WARDS:
            values = {row[1]: row[3] for row in own if row[2] == code}
            assert trace(figure, role="ward", ward_code=code)["y"] == [
                values.get(year) for year in YEARS
            ]
        targets = [t for t in {row[4] for row in own} if t is not None]
        if targets:
            assert trace(figure, role="target")["y"] == targets * len(YEARS)
        else:
            assert not [t for t in figure["traces"] if (t["meta"] or {}).get("role") == "target"]


def test_ranking_charts_show_the_benchmark(rendered: Rendered, open_page) -> None:
    page, _ = open_page(rendered.out_dir / "ranking.html")
    for spec in INDICATORS:
        rows = query(
            rendered.serving,
            "select ward_name_ja, value, fiscal_year, gap_ratio, median_value, best_ward_code, "
            "worst_ward_code from marts.mart_ward_benchmark where indicator_id = ? and "
            "fiscal_year = (select max(fiscal_year) from marts.mart_ward_benchmark "
            "where indicator_id = ?) order by rank",
            [spec.id, spec.id],
        )
        figure = chart(page, f"rank-{spec.id}")
        bars = trace(figure, role="ranking")
        assert bars["y"] == [row[0] for row in rows]
        assert bars["x"] == [row[1] for row in rows]
        meta = figure["meta"]
        assert meta["fiscal_year"] == rows[0][2]
        assert meta["gap_ratio"] == rows[0][3]
        assert meta["median_value"] == rows[0][4]
        assert (meta["best_ward_code"], meta["worst_ward_code"]) == rows[0][5:7]
    # The article's gap: 567 vs 98 open datasets in FY2023 would be 5.8x; FY2025 is 590 / 121.
    card = page.locator(".chart", has=page.locator("#rank-ctx_open_datasets"))
    assert "4.9倍" in card.inner_text()


def test_quality_page_shows_the_dq_tables(rendered: Rendered, open_page) -> None:
    page, _ = open_page(rendered.out_dir / "quality.html")
    outcomes = query(
        rendered.serving,
        "select coalesce(dataset, '(未認識 unrecognised)'), state, rows_loaded, "
        "rows_quarantined, rows_read from dq.file_outcomes where is_current",
    )
    received, refused = {"loaded", "replaced", "unchanged"}, {"rejected", "still_rejected"}
    files = chart(page, "dq-files")
    rows = chart(page, "dq-rows")
    datasets = trace(files, role="files", group="received")["y"]
    assert datasets == [*DATASETS, "(未認識 unrecognised)"]
    for group, states in (("received", received), ("refused", refused)):
        expected = [sum(1 for o in outcomes if o[0] == d and o[1] in states) for d in datasets]
        assert trace(files, role="files", group=group)["x"] == expected, group
    assert trace(rows, role="rows", kind="loaded")["x"] == [
        sum(o[2] or 0 for o in outcomes if o[0] == d and o[1] in received) for d in datasets
    ]
    assert trace(rows, role="rows", kind="quarantined")["x"] == [
        sum(o[3] or 0 for o in outcomes if o[0] == d and o[1] in received) for d in datasets
    ]
    assert trace(rows, role="rows", kind="refused")["x"] == [
        sum(o[4] or 0 for o in outcomes if o[0] == d and o[1] in refused) for d in datasets
    ]
    freshness = dict(
        query(
            rendered.serving,
            "select dataset || ':' || freshness_state, count(*) from dq.ward_dataset_status "
            "group by all",
        )
    )
    overdue = trace(chart(page, "dq-freshness"), role="freshness", state="overdue")
    assert overdue["x"] == [freshness.get(f"{d}:overdue", 0) for d in datasets]
    open_titles = {
        title
        for (title,) in query(rendered.serving, "select title from dq.incidents where is_open")
    }
    shown = set(page.locator("#dq-incidents tbody tr td:nth-child(3)").all_inner_texts())
    assert shown == open_titles
    assert page.inner_text("#dq-open-incidents b") == str(len(open_titles))


def test_breakdown_marks_suppressed_cells(rendered: Rendered, open_page) -> None:
    page, _ = open_page(rendered.out_dir / f"breakdown-{BREAKDOWN_WARD}.html")
    assert "秘匿" in page.inner_text("#disclosure-rule")
    columns = ("staff", "completed", "not_completed", "completion_rate")
    for year in (2024, 2025):
        if not page.is_visible(f"#bd-grade-{year}"):
            page.click(f"label[for=bdfy-{year}]")
        published = {
            row[0]: dict(zip(columns, row[1:], strict=True))
            for row in query(
                rendered.serving,
                "select grade, staff, completed, not_completed, completion_rate from "
                "marts.mart_training_completion_by_grade where ward_code = ? and fiscal_year = ?",
                [BREAKDOWN_WARD, year],
            )
        }
        cells = page.evaluate(
            """(id) => Array.from(document.querySelectorAll(`#${id} td`)).map(td => ({
                row: td.parentElement.querySelector('th').dataset.row,
                column: td.dataset.column, text: td.innerText.trim(),
                suppressed: td.classList.contains('suppressed'),
                value: td.dataset.value === '' ? null : Number(td.dataset.value)}))""",
            f"bd-grade-{year}",
        )
        assert {c["row"] for c in cells} == set(published)
        for cell in cells:
            value = published[cell["row"]][cell["column"]]
            assert cell["value"] == value
            assert cell["suppressed"] == (value is None)
            if value is None:
                assert cell["text"] == "—"
            else:
                assert cell["text"] != "—"
        assert any(c["suppressed"] for c in cells)
    # The chart: the latest year's rates, none for a suppressed grade.
    figure = chart(page, "bd-chart")
    bars = trace(figure, role="breakdown")
    latest = [row for row in GRADE_ROWS if row[0] == BREAKDOWN_WARD and row[1] == 2025]
    latest.sort(key=lambda row: (row[4], row[3] or 0))
    assert bars["x"] == [row[2] for row in latest]
    assert bars["y"] == [row[8] for row in latest]
    page.click("label[for=bdfy-2024]")
    assert page.is_visible("#bd-satisfaction-2024")
    satisfaction = page.locator("#bd-satisfaction-2024 td.suppressed")
    assert satisfaction.count() == 8


def test_breakdown_rows_are_each_wards_rows_grouped_once(rendered: Rendered) -> None:
    published = read_published(rendered.serving)
    for table, rows in published.breakdowns.items():
        for code, _, _ in WARDS:
            assert published.breakdown_rows(table, code) == [
                row for row in rows if row["ward_code"] == code
            ]
    assert published.breakdown_rows("no_such_mart", WARDS[0][0]) == []
