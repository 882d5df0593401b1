"""The data-quality health of the sources: file outcomes, rows, freshness, open incidents.

Read from the `dq` tables published with the marts (orchestration/dq/tables.py): the state of
the landing zone at the moment of the publication, so it matches the numbers shown beside it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.charts import (
    figure_html,
    file_outcome_figure,
    freshness_figure,
    row_outcome_figure,
)
from dashboard.html import bilingual, esc, legend, page, table, td
from dashboard.labels import (
    FRESHNESS_STYLES,
    OUTCOME_GROUPS,
    RECEIVED_STATES,
    REFUSED_STATES,
    freshness_style,
    outcome_group,
)
from dashboard.published import FILE_OUTCOMES, INCIDENTS, WARD_STATUS, Published, Row, Ward

UNRECOGNISED = "(未認識 unrecognised)"
INCIDENT_LIMIT = 200


@dataclass(frozen=True)
class DatasetHealth:
    """One dataset's current file versions and rows, summed over the wards."""

    dataset: str
    files: Counter
    rows_loaded: int
    rows_quarantined: int
    rows_refused: int
    freshness: Counter
    open_incidents: int


def dataset_health(
    file_outcomes: Sequence[Row], ward_status: Sequence[Row], incidents: Sequence[Row]
) -> list[DatasetHealth]:
    """Per dataset: current file versions by outcome group, their rows, wards by freshness.

    Rows count the current version of each file (`is_current`): loaded and quarantined rows of
    received files, rows read from refused ones.
    """
    files: dict[str, Counter] = defaultdict(Counter)
    rows: dict[str, Counter] = defaultdict(Counter)
    for outcome in file_outcomes:
        if not outcome.get("is_current"):
            continue
        dataset = outcome.get("dataset") or UNRECOGNISED
        state = outcome.get("state")
        files[dataset][outcome_group(state)] += 1
        if state in RECEIVED_STATES:
            rows[dataset]["loaded"] += outcome.get("rows_loaded") or 0
            rows[dataset]["quarantined"] += outcome.get("rows_quarantined") or 0
        elif state in REFUSED_STATES:
            rows[dataset]["refused"] += outcome.get("rows_read") or 0
    freshness: dict[str, Counter] = defaultdict(Counter)
    for status in ward_status:
        freshness[status["dataset"]][status.get("freshness_state")] += 1
    open_incidents = Counter(
        incident.get("dataset") or "" for incident in incidents if incident.get("is_open")
    )
    datasets = sorted(set(files) | set(freshness), key=lambda d: (d == UNRECOGNISED, d))
    return [
        DatasetHealth(
            dataset=dataset,
            files=files[dataset],
            rows_loaded=rows[dataset]["loaded"],
            rows_quarantined=rows[dataset]["quarantined"],
            rows_refused=rows[dataset]["refused"],
            freshness=freshness[dataset],
            open_incidents=open_incidents[dataset],
        )
        for dataset in datasets
    ]


def _num(value: int) -> str:
    return td(f"{value:,}", "num")


def _health_table(health: Sequence[DatasetHealth]) -> str:
    headers = [
        bilingual("データセット", "Dataset"),
        bilingual("取込済", "Loaded files"),
        bilingual("拒否", "Refused files"),
        bilingual("取込行", "Rows loaded"),
        bilingual("隔離行", "Rows quarantined"),
        bilingual("隔離率", "Quarantine share"),
        bilingual("拒否ファイルの行", "Rows refused"),
        bilingual("最新/遅延/未受信の区", "Wards fresh / overdue / never"),
        bilingual("未解決インシデント", "Open incidents"),
    ]
    lines = []
    for item in health:
        read = item.rows_loaded + item.rows_quarantined
        share = f"{100 * item.rows_quarantined / read:.2f}%" if read else "–"
        fresh = item.freshness
        lines.append(
            [
                td(f"<code>{esc(item.dataset)}</code>", dataset=item.dataset),
                _num(item.files["received"]),
                _num(item.files["refused"]),
                _num(item.rows_loaded),
                _num(item.rows_quarantined),
                td(share, "num"),
                _num(item.rows_refused),
                td(f"{fresh['fresh']} / {fresh['overdue']} / {fresh['never_received']}", "num"),
                _num(item.open_incidents),
            ]
        )
    return table(headers, lines, table_id="dq-datasets")


def _freshness_grid(ward_status: Sequence[Row], wards: Sequence[Ward]) -> str:
    cells = {(row["dataset"], row["ward_code"]): row for row in ward_status}
    datasets = sorted({row["dataset"] for row in ward_status})
    headers = [bilingual("データセット", "Dataset")] + [
        f'<span class="ward" title="{esc(ward.name_en)}">{esc(ward.name_ja)}</span>'
        for ward in wards
    ]
    lines = []
    for dataset in datasets:
        line = [f'<th class="indicator" scope="row"><code>{esc(dataset)}</code></th>']
        for ward in wards:
            row = cells.get((dataset, ward.code))
            if row is None:
                line.append(td("", "cell"))
                continue
            style = freshness_style(row.get("freshness_state"))
            refused = row.get("last_state") in REFUSED_STATES
            title = (
                f"{ward.name_ja} {dataset}\n{style.label_ja} {style.label_en}\n"
                f"最終ファイル last file: {row.get('last_file') or '–'} "
                f"({row.get('last_state') or '–'})\n"
                f"隔離行 quarantined: {row.get('rows_quarantined') or 0}\n"
                f"未解決 open incidents: {row.get('open_incidents') or 0}"
            )
            line.append(
                td(
                    esc(style.mark + (" 拒" if refused else "")),
                    f"cell fr-{row.get('freshness_state')}",
                    title,
                    ward=ward.code,
                    dataset=dataset,
                    freshness=row.get("freshness_state"),
                    last_state=row.get("last_state"),
                )
            )
        lines.append(line)
    return table(headers, lines, "grid", table_id="dq-freshness-grid")


def _incident_table(incidents: Sequence[Row]) -> str:
    open_ones = [incident for incident in incidents if incident.get("is_open")]
    if not open_ones:
        return '<p id="dq-no-incidents">未解決のインシデントはありません。No open incident.</p>'
    headers = [
        bilingual("重大度", "Severity"),
        bilingual("種別", "Kind"),
        bilingual("件名", "Title"),
        bilingual("区", "Ward"),
        bilingual("データセット", "Dataset"),
        bilingual("発生", "Opened (UTC)"),
    ]
    lines = [
        [
            td(esc(incident.get("severity"))),
            td(esc(incident.get("kind"))),
            td(esc(incident.get("title")), title=incident.get("message") or ""),
            td(esc(incident.get("ward_code") or "")),
            td(esc(incident.get("dataset") or "")),
            td(esc(f"{incident['opened_at']:%Y-%m-%d %H:%M}" if incident.get("opened_at") else "")),
        ]
        for incident in open_ones[:INCIDENT_LIMIT]
    ]
    more = len(open_ones) - INCIDENT_LIMIT
    note = f'<p class="note">ほか {more} 件 (and {more} more).</p>' if more > 0 else ""
    return table(headers, lines, table_id="dq-incidents") + note


def _summary(health: Sequence[DatasetHealth], incidents: Sequence[Row]) -> str:
    boxes = (
        (
            "dq-files-received",
            "取込済ファイル",
            "files loaded",
            [h.files["received"] for h in health],
        ),
        ("dq-files-refused", "拒否ファイル", "files refused", [h.files["refused"] for h in health]),
        ("dq-rows-quarantined", "隔離行", "rows quarantined", [h.rows_quarantined for h in health]),
        (
            "dq-open-incidents",
            "未解決",
            "open incidents",
            [1 for i in incidents if i.get("is_open")],
        ),
    )
    cards = "".join(
        f'<div id="{key}">{bilingual(ja, en)}<b>{sum(values):,}</b></div>'
        for key, ja, en, values in boxes
    )
    return f'<div class="kpis">{cards}</div>'


def _chart_card(title_ja: str, title_en: str, chart: str) -> str:
    return f'<div class="chart"><h3>{bilingual(title_ja, title_en)}</h3>{chart}</div>'


def _charts(health: Sequence[DatasetHealth]) -> str:
    names = [item.dataset for item in health]
    height = 24 * len(names) + 110
    files = {group: [item.files[group] for item in health] for group, *_ in OUTCOME_GROUPS}
    rows = {
        "loaded": [item.rows_loaded for item in health],
        "quarantined": [item.rows_quarantined for item in health],
        "refused": [item.rows_refused for item in health],
    }
    fresh = {state: [item.freshness[state] for item in health] for state in FRESHNESS_STYLES}
    cards = (
        _chart_card(
            "ファイルの結果（現行版）",
            "File outcomes (current versions)",
            figure_html(file_outcome_figure(names, files), "dq-files", height),
        ),
        _chart_card(
            "行数",
            "Rows",
            figure_html(row_outcome_figure(names, rows), "dq-rows", height + 24 * len(names)),
        ),
        _chart_card(
            "鮮度（区の数）",
            "Freshness (wards)",
            figure_html(freshness_figure(names, fresh, FRESHNESS_STYLES), "dq-freshness", height),
        ),
    )
    return f'<div class="charts">{"".join(cards)}</div>'


def quality_page(published: Published, header: str) -> str:
    """quality.html: per dataset outcomes, rows, freshness, the ward grid, open incidents."""
    missing = [
        name
        for name, rows in (
            (FILE_OUTCOMES, published.file_outcomes),
            (WARD_STATUS, published.ward_status),
            (INCIDENTS, published.incidents),
        )
        if rows is None
    ]
    outcomes = published.file_outcomes or []
    statuses = published.ward_status or []
    incidents = published.incidents or []
    health = dataset_health(outcomes, statuses, incidents)
    note = (
        f'<p class="missing">未公開 not published: {esc(", ".join(missing))}</p>' if missing else ""
    )
    body = f"""
{note}
<p class="note">公開時点の取込状況（各ファイルの現行版）。拒否：ファイル全体を取り込まず修正待ち。
隔離：問題のある行だけを除いて取込。<span class="en">The landing zone at publication (current
version of each file). Refused: nothing loaded, waits for a corrected export. Quarantined: rows
set aside, the rest loaded.</span></p>
{_summary(health, incidents)}
{_charts(health) if health else ""}
<h2>{bilingual("データセット別", "By dataset")}</h2>
{_health_table(health)}
<h2>{bilingual("区×データセットの鮮度", "Freshness: ward x dataset")}</h2>
<p class="note">「拒」：最後に届いたファイルが拒否された。
<span class="en">拒: the last file received was refused.</span></p>
{legend(FRESHNESS_STYLES, "fr-")}
{_freshness_grid(statuses, published.wards())}
<h2>{bilingual("未解決のインシデント", "Open incidents")}</h2>
{_incident_table(incidents)}
"""
    return page(
        active="quality",
        title_ja="データ品質",
        title_en="Data quality of the sources",
        body=body,
        publication=header,
        with_charts=bool(health),
    )
