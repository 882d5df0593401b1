"""Writing the static dashboard of a publication: HTML pages, one stylesheet, one plotly.js.

The pages open from disk (file://) without a server or network: plotly.js is written once
beside them from the installed plotly package, and every page links it by a relative path.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from dashboard.breakdowns import breakdown_pages
from dashboard.html import PLOTLY_JS, STYLESHEET, STYLESHEET_TEXT, page
from dashboard.overview import overview_page, publication_header
from dashboard.published import NothingPublishedYet, read_published
from dashboard.quality import quality_page
from dashboard.ranking import ranking_page
from dashboard.trends import trends_page

INDEX = "index.html"


def _write_plotly_js(out_dir: Path) -> None:
    """The plotly.js bundle of the installed plotly (the file `plotly.offline.get_plotlyjs`
    reads), copied as bytes unless a copy of its size is there: it is 4.8 MB, and decoding
    and encoding it cost every publication about 0.3 s."""
    bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
    target = out_dir / PLOTLY_JS
    with resources.as_file(bundle) as source:
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            shutil.copyfile(source, target)


def render_dashboard(serving_file: Path, out_dir: Path) -> Path:
    """Render the static dashboard of a serving file into `out_dir`.

    Args:
        serving_file: The published DuckDB file (read-only; schemas marts, dq, meta).
        out_dir: Where the pages go (created if missing); files of the same name are replaced.

    Returns:
        The path of the front page, `out_dir/index.html`.

    Raises:
        FileNotFoundError: no serving file.
        ValueError: the serving file has no marts.mart_kpi_scorecard.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        published = read_published(Path(serving_file))
    except NothingPublishedYet:
        # A first publication before any export arrived: say so rather than fail it.
        (out_dir / STYLESHEET).write_text(STYLESHEET_TEXT, encoding="utf-8")
        (out_dir / INDEX).write_text(_nothing_yet_page(), encoding="utf-8")
        return out_dir / INDEX
    header = publication_header(published)
    pages = {
        INDEX: overview_page(published, header),
        "trends.html": trends_page(published, header),
        "ranking.html": ranking_page(published, header),
        "quality.html": quality_page(published, header),
        **breakdown_pages(published, header),
    }
    _write_plotly_js(out_dir)
    (out_dir / STYLESHEET).write_text(STYLESHEET_TEXT, encoding="utf-8")
    for name, html in pages.items():
        (out_dir / name).write_text(html, encoding="utf-8")
    return out_dir / INDEX


def _nothing_yet_page() -> str:
    body = (
        '<section class="card" id="nothing-yet"><p>まだ指標値がありません。各区の出力ファイルが'
        "取り込まれると、次の公表でここに表示されます。</p>"
        '<p class="en">No indicator value yet: the scorecard appears with the first publication '
        "after the wards' exports are loaded.</p></section>"
    )
    return page(
        active=INDEX,
        title_ja="スコアカード",
        title_en="Scorecard",
        body=body,
        publication="",
        with_charts=False,
    )
