"""What the dashboard says and how it colours it: statuses, values, fiscal years, the rules.

Japanese first, English second: a viewer in a ward office reads the Japanese label, a reviewer
from outside reads the English one beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from disclosure import THRESHOLD as SUPPRESSION_THRESHOLD

# Breakdown cells counting fewer than SUPPRESSION_THRESHOLD people are suppressed upstream (the
# breakdown marts); the dashboard only states the rule and marks the cells.
SUPPRESSED_MARK = "—"

DISCLOSURE_RULE_JA = (
    f"公表ルール（秘匿）：内訳表で{SUPPRESSION_THRESHOLD}人未満の人数を数えるセルは秘匿し、"
    f"「{SUPPRESSED_MARK}」（秘匿）と表示します。あわせて、行・列の合計から秘匿したセルを"
    "逆算できないよう、必要な他のセルも秘匿します（二次秘匿）。秘匿した人数に基づく割合も秘匿します。"
)
DISCLOSURE_RULE_EN = (
    f"Disclosure rule: in the breakdown tables a cell counting fewer than "
    f"{SUPPRESSION_THRESHOLD} people is suppressed (shown as “{SUPPRESSED_MARK}”), and enough "
    "other cells are suppressed too (complementary suppression) that none can be recovered "
    "from the row and column totals. A ratio built on a suppressed count is suppressed as well."
)

FONT_FAMILY = (
    "'Noto Sans CJK JP', 'Noto Sans JP', 'Hiragino Sans', 'Hiragino Kaku Gothic ProN', "
    "'Yu Gothic', Meiryo, sans-serif"
)


@dataclass(frozen=True)
class StatusStyle:
    """How one scorecard status is shown.

    Attributes:
        label_ja: The Japanese label (the mart's status_ja).
        label_en: The English label.
        mark: A mark beside the value, so the grid reads without colour too.
        background: Cell background (pastel: the value on it stays readable).
        text: Text colour on that background.
        strong: The same status as a bar colour in charts.
    """

    label_ja: str
    label_en: str
    mark: str
    background: str
    text: str
    strong: str


STATUS_STYLES: dict[str, StatusStyle] = {
    "achieved": StatusStyle("達成", "achieved", "✓", "#9bd8a9", "#0b3d1a", "#2e9e5b"),
    "not_achieved": StatusStyle("未達成", "not achieved", "✗", "#f5a9a9", "#5c0a0a", "#d9534f"),
    "provisional": StatusStyle("暫定", "provisional", "~", "#ffe08a", "#4d3800", "#d9a400"),
    "no_data": StatusStyle("データなし", "no data", "", "#e4e4e4", "#555555", "#9e9e9e"),
    "no_target": StatusStyle("目標なし", "no target", "", "#d6e6f5", "#1f3b57", "#4a78a8"),
}
UNKNOWN_STATUS = StatusStyle("不明", "unknown", "?", "#ffffff", "#222222", "#777777")

FRESHNESS_STYLES: dict[str, StatusStyle] = {
    "fresh": StatusStyle("最新", "fresh", "✓", "#9bd8a9", "#0b3d1a", "#2e9e5b"),
    "warn": StatusStyle("注意", "warn", "!", "#ffe08a", "#4d3800", "#d9a400"),
    "overdue": StatusStyle("遅延", "overdue", "✗", "#f5a9a9", "#5c0a0a", "#d9534f"),
    "never_received": StatusStyle("未受信", "never received", "–", "#e4e4e4", "#555555", "#9e9e9e"),
}

# File outcomes of the landing ledger, in three groups a viewer cares about.
RECEIVED_STATES = frozenset({"loaded", "replaced", "unchanged"})
REFUSED_STATES = frozenset({"rejected", "still_rejected", "run_failed"})
OUTCOME_GROUPS = (
    ("received", "取込済", "loaded", "#2e9e5b"),
    ("refused", "拒否", "refused", "#d9534f"),
    ("other", "その他", "other", "#9e9e9e"),
)


def status_style(status: str | None) -> StatusStyle:
    """The style of a scorecard status (an unknown one is shown plainly, never dropped)."""
    return STATUS_STYLES.get(status or "", UNKNOWN_STATUS)


def freshness_style(state: str | None) -> StatusStyle:
    """The style of a freshness state of dq.ward_dataset_status."""
    return FRESHNESS_STYLES.get(state or "", UNKNOWN_STATUS)


def outcome_group(state: str | None) -> str:
    """`received`, `refused` or `other` for a file outcome state."""
    if state in RECEIVED_STATES:
        return "received"
    if state in REFUSED_STATES:
        return "refused"
    return "other"


def fy_label(fiscal_year: int) -> str:
    """年度 as Japanese readers write it: 2025年度."""
    return f"{fiscal_year}年度"


def format_value(value: float | None, unit: str | None) -> str:
    """A value as the dashboard shows it: 93.1%, 42, 1.20億円, 3,500万円, あり/なし."""
    if value is None:
        return "–"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "yen":
        if abs(value) >= 1e8:
            return f"{value / 1e8:,.2f}億円"
        return f"{value / 1e4:,.0f}万円"
    if unit == "flag":
        return "あり" if value >= 1 else "なし"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def format_cell(value: float | None, unit: str | None) -> str:
    """A value in a grid cell, where width is scarce: yen as 1.9億 / 8,930万, the rest as usual."""
    if value is not None and unit == "yen":
        if abs(value) >= 1e8:
            return f"{value / 1e8:,.1f}億"
        return f"{value / 1e4:,.0f}万"
    return format_value(value, unit)


def format_ratio(ratio: float | None) -> str:
    """A best/worst gap ratio: 5.8倍, or — when it cannot be computed (a worst of 0)."""
    return "—" if ratio is None else f"{ratio:,.1f}倍"


def format_count(count: int | None) -> str:
    """A breakdown count, or the suppression mark when it is suppressed (null)."""
    return SUPPRESSED_MARK if count is None else f"{count:,}"


def format_percent(share: float | None) -> str:
    """A breakdown share (percent 0-100), or the suppression mark when it is suppressed."""
    return SUPPRESSED_MARK if share is None else f"{share:.1f}%"
