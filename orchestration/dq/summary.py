"""The operator's data-quality summary, printed by the demo and `dxkpi-run`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from ingestion.common.ledger import NOT_RECOGNISED, RECEIVED_STATES
from ingestion.common.problems import safe_reason
from orchestration.dq.readings import (
    REFUSED_STATES,
    DqSnapshot,
    attention_files,
    read_snapshot,
)
from orchestration.settings import Settings, load_settings

SUMMARY_FILE_LINES = 10


# The operator's summary (demo, dxkpi-run) ----------------------------------------------------


def _count_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{count:,} {state}" for state, count in sorted(counts.items()))


def render_summary(
    snapshot: DqSnapshot, landing: Path | None = None, limit: int = SUMMARY_FILE_LINES
) -> str:
    """A short data-quality summary: files loaded, refused (with reasons), rows quarantined,
    incidents open, and where to see more."""
    current = list(snapshot.current().values())
    received = [r for r in current if r.state in RECEIVED_STATES]
    attention = attention_files(snapshot, landing)
    refused = [r for r in attention if r.state in REFUSED_STATES]
    strays = [r for r in attention if r.state == NOT_RECOGNISED]
    quarantined = [r for r in received if r.rows_quarantined]
    opened = snapshot.open_incidents()
    lines = [
        "Data quality (landing ledger)",
        f"  files loaded: {len(received):,} of {len(current):,} in the ledger"
        + (f" ({_count_text(Counter(r.state for r in received))})" if received else ""),
        f"  files refused: {len(refused):,}, not recognised: {len(strays):,}",
    ]
    for record in (refused + strays)[:limit]:
        lines.append(f"    {record.path} ({record.state}): {safe_reason(record.reason, 160)}")
    if len(attention) > limit:
        lines.append(f"    … and {len(attention) - limit} more")
    rows = sum(r.rows_quarantined or 0 for r in quarantined)
    lines.append(f"  rows quarantined: {rows:,} in {len(quarantined):,} loaded files")
    severities = Counter(incident.severity for incident in opened)
    lines.append(
        f"  incidents open: {len(opened)}" + (f" ({_count_text(severities)})" if opened else "")
    )
    lines.append("  more: dxkpi-dq status (one file: dxkpi-dq explain <file>)")
    return "\n".join(lines)


def summary_for(settings: Settings | None = None) -> str:
    """The data-quality summary of the ledger and landing zone of `settings` (or the env's)."""
    settings = settings or load_settings()
    snapshot = read_snapshot(settings.ledger_path, findings_too=False)
    return render_summary(snapshot, settings.landing_dir)
