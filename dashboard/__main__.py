"""python -m dashboard --serving data/serving/dxkpi.duckdb --out data/serving/dashboard"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dashboard.render import render_dashboard


def main(argv: list[str] | None = None) -> None:
    """Render the dashboard of a serving file and say where its front page is."""
    parser = argparse.ArgumentParser(
        prog="python -m dashboard", description="Write the static dashboard of a serving file."
    )
    parser.add_argument("--serving", type=Path, required=True, help="the published DuckDB file")
    parser.add_argument("--out", type=Path, required=True, help="the directory of the pages")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    index = render_dashboard(args.serving, args.out)
    seconds = time.perf_counter() - started
    sys.stdout.write(f"dashboard: {index.resolve().as_uri()} ({seconds:.1f} s)\n")


if __name__ == "__main__":
    main()
