"""The figures of one `make bench` and the text it prints: pure functions, tested on fake
figures (tests/test_bench.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

# Rows that only the pipeline has, in the order a run goes through them.
START_UP = "start-up"
IN_RUNS = "Dagster, in runs between steps"
BETWEEN_RUNS = "between runs"
SHUT_DOWN = "shut-down"
CATALOGUE = "catalogue"
KPIS = "KPIs (dbt)"
CHECKS = "freshness checks"
PUBLICATION = "publication"
LANDING_SCAN = "landing scan"
CHECKPOINT = "database written to disk"


@dataclass
class RunFigures:
    """One measured process: its stages, wall time and peak resident memory.

    Attributes:
        name: What was run (floor, cold, no-op, one new file...).
        wall_seconds: Process start to exit.
        peak_rss_mb: The largest resident set of the process or a child it waited for.
        stages: Seconds per stage, in the order they ran.
        exit_code: The process's exit code.
    """

    name: str
    wall_seconds: float
    peak_rss_mb: float
    stages: dict[str, float] = field(default_factory=dict)
    exit_code: int = 0


@dataclass
class Comparison:
    """Values held against others: how many were compared and which differ.

    Attributes:
        what: What was compared, e.g. `floor vs truth`.
        compared: Keys (ward, fiscal year, indicator) compared.
        mismatches: `ward/FY/indicator: expected vs found`, one line each.
    """

    what: str
    compared: int
    mismatches: list[str] = field(default_factory=list)


@dataclass
class BenchFigures:
    """Everything one bench measured, as printed and as written to JSON."""

    machine: dict[str, Any]
    sample: dict[str, Any]
    floor: RunFigures
    cold: RunFigures
    noop: RunFigures
    one_new_file: RunFigures
    floor_all_files: RunFigures | None = None
    comparisons: list[Comparison] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """A plain dict for json.dump."""
        return asdict(self)


def ratio(pipeline: float | None, floor: float | None) -> str:
    """`pipeline / floor` as `2.3x`, or `-` when either side has no such stage."""
    if pipeline is None or not floor:
        return "-"
    return f"{pipeline / floor:.1f}x"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def stage_order(floor: RunFigures, pipeline: RunFigures) -> list[str]:
    """Start-up first, then the floor's stages, then the pipeline's own, shut-down last."""
    middle = [s for s in [*floor.stages, *pipeline.stages] if s not in (START_UP, SHUT_DOWN)]
    return [START_UP, *dict.fromkeys(middle), SHUT_DOWN]


def _table(rows: Iterable[tuple[str, str, str, str]]) -> list[str]:
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  " + " | ".join(cells))
        if index == 0:
            lines.append("  " + "-+-".join("-" * w for w in widths))
    return lines


def comparison_table(floor: RunFigures, pipeline: RunFigures) -> list[str]:
    """stage | floor s | pipeline s | ratio, then the total (wall time of each process)."""
    rows = [("stage", "floor s", "pipeline s", "ratio")]
    for stage in stage_order(floor, pipeline):
        here, there = floor.stages.get(stage), pipeline.stages.get(stage)
        if here is None and there is None:
            continue
        rows.append((stage, _seconds(here), _seconds(there), ratio(there, here)))
    rows.append(
        (
            "total (wall)",
            _seconds(floor.wall_seconds),
            _seconds(pipeline.wall_seconds),
            ratio(pipeline.wall_seconds, floor.wall_seconds),
        )
    )
    return _table(rows)


def stage_lines(run: RunFigures, smallest: float = 0.05) -> list[str]:
    """A run's total, then its stages (the tiny ones summed into one line)."""
    lines = [f"{run.name}: {run.wall_seconds:.2f} s (exit {run.exit_code})"]
    tiny = 0.0
    for stage, seconds in run.stages.items():
        if seconds < smallest:
            tiny += seconds
            continue
        lines.append(f"    {stage:<40} {seconds:8.2f} s")
    if tiny:
        lines.append(f"    {'(stages under ' + str(smallest) + ' s)':<40} {tiny:8.2f} s")
    return lines


def machine_line(machine: dict[str, Any]) -> str:
    """`machine: 2 CPUs (AMD EPYC), 23.4 GiB RAM, Python 3.11.7`."""
    return (
        f"machine: {machine.get('cpus')} CPUs ({machine.get('cpu_model')}), "
        f"{machine.get('ram_gib', 0):.1f} GiB RAM, Python {machine.get('python')}"
    )


def comparison_lines(comparisons: list[Comparison], shown: int = 10) -> list[str]:
    """One line per comparison, and its first mismatches."""
    lines = []
    for comparison in comparisons:
        verdict = "equal" if not comparison.mismatches else f"{len(comparison.mismatches)} differ"
        lines.append(f"  {comparison.what}: {comparison.compared} values compared, {verdict}")
        lines += [f"      {line}" for line in comparison.mismatches[:shown]]
        if len(comparison.mismatches) > shown:
            lines.append(f"      ... and {len(comparison.mismatches) - shown} more")
    return lines


def render(figures: BenchFigures) -> str:
    """The text `make bench` prints."""
    sample = figures.sample
    lines = [
        f"sample: {sample.get('wards')} wards, {sample.get('files')} exports, "
        f"staff {sample.get('staff')}, FY {sample.get('years')}, seed {sample.get('seed')}, "
        f"dirty {sample.get('dirty')}; held back: {sample.get('held_back')}",
        "",
        "cold run, same files (floor = hand-written program; pipeline = dxkpi-run):",
        *comparison_table(figures.floor, figures.cold),
        "",
        *stage_lines(figures.noop),
        *stage_lines(figures.one_new_file),
    ]
    if figures.floor_all_files is not None:
        lines.append(
            f"floor on every file again (it has no incremental mode): "
            f"{figures.floor_all_files.wall_seconds:.2f} s"
        )
    runs = [figures.floor, figures.cold, figures.noop, figures.one_new_file]
    runs += [figures.floor_all_files] if figures.floor_all_files is not None else []
    lines += ["", "peak RSS:"]
    lines += [f"  {run.name:<28} {run.peak_rss_mb:8.0f} MB" for run in runs]
    lines += [
        "",
        "values:",
        *comparison_lines(figures.comparisons),
        "",
        machine_line(figures.machine),
    ]
    return "\n".join(lines)
