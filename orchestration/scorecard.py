"""The KPI scorecard: wards x indicators against targets, read from the serving file.

dxkpi-scorecard [--serving data/serving/dxkpi.duckdb] [--fy 2025]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from orchestration.settings import load_settings

COLUMNS = (
    ("m1_ksi_basic_training_completion", "Basics done"),
    ("m1_kpi_proposal_growth", "Proposals YoY"),
    ("m1_kpi_basic_course_count", "Basic courses"),
    ("m1_kpi_tool_training_sessions", "Tool sessions"),
    ("m2_kpi_dx_leader_program_graduates", "DX graduates"),
    ("ctx_open_datasets", "Open datasets"),
)
MARKS = {"achieved": "✓", "not_achieved": "✗", "no_target": " ", "no_data": ""}
CELL = 14
WARD = 19


def format_value(value: float | None, unit: str) -> str:
    """A value as the scorecard shows it: 93.1%, +12.5%, 42, ¥1.2M."""
    if value is None:
        return "–"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "yen":
        return f"¥{value / 1e6:.1f}M"
    return f"{value:,.0f}"


def _cell(value: float | None, unit: str, status: str) -> str:
    return f"{format_value(value, unit)} {MARKS[status]}".strip().rjust(CELL)


def _fiscal_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    rows = con.execute(
        "select distinct fiscal_year from marts.fct_kpi_values where value is not null order by 1"
    ).fetchall()
    return [row[0] for row in rows]


def render_fiscal_year(con: duckdb.DuckDBPyConnection, fiscal_year: int) -> list[str]:
    """The table of one fiscal year: one line per ward with data, one column per indicator."""
    rows = con.execute(
        """
        select w.ward_code, w.ward_name_en, f.indicator_id, f.value, f.unit, f.status,
               f.target_value
        from marts.fct_kpi_values as f
        inner join marts.dim_ward as w on f.ward_code = w.ward_code
        where f.fiscal_year = ?
        order by w.ward_code
        """,
        [fiscal_year],
    ).fetchall()
    cells: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    targets: dict[str, str] = {}
    for code, name, indicator, value, unit, status, target in rows:
        names[code] = name
        cells.setdefault(code, {})[indicator] = _cell(value, unit, status)
        targets[indicator] = format_value(target, unit) if target is not None else ""
    lines = [
        f"FY{fiscal_year} (年度 {fiscal_year}-04-01 .. {fiscal_year + 1}-03-31)",
        "ward".ljust(WARD) + "".join(label.rjust(CELL) for _, label in COLUMNS),
        "target".ljust(WARD) + "".join(targets.get(i, "").rjust(CELL) for i, _ in COLUMNS),
    ]
    for code, ward_cells in cells.items():
        if any("–" not in c for c in ward_cells.values()):
            row = "".join(ward_cells.get(i, "").rjust(CELL) for i, _ in COLUMNS)
            lines.append(f"{code} {names[code]}".ljust(WARD)[:WARD] + row)
    return lines


def render_scorecard(serving: Path, fiscal_years: list[int] | None = None) -> str:
    """Render the scorecard of the published marts (✓ achieved, ✗ not achieved, – no data)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        years = fiscal_years or _fiscal_years(con)
        published = con.execute("select max(published_at) from meta.publication").fetchone()[0]
        blocks = [render_fiscal_year(con, year) for year in years]
    header = f"dxkpi scorecard — {serving} (published {published:%Y-%m-%d %H:%M:%S})"
    legend = "✓ target achieved   ✗ not achieved   – no data"
    return "\n\n".join([header, *("\n".join(block) for block in blocks), legend])


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (`dxkpi-scorecard`)."""
    parser = argparse.ArgumentParser(description="Print the KPI scorecard of the serving file.")
    parser.add_argument("--serving", type=Path, default=load_settings().serving_path)
    parser.add_argument("--fy", type=int, action="append", help="fiscal year(s) to show")
    args = parser.parse_args(argv)
    print(render_scorecard(args.serving, args.fy))


if __name__ == "__main__":
    main()
