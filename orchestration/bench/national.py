"""`make bench-national`: the pipeline on a national-scale sample, cold and with one new file.

Writes a synthetic municipality list (`sampledata.municipalities`) to <work>/municipalities
(--work is emptied first and must be inside the repository: DXKPI_MUNICIPALITIES_DIR is
relative to it), generates every municipality's exports and truth (timed apart from the
pipeline), and holds back one roster. Then, on one local CKAN server serving every
municipality, with DXKPI_MUNICIPALITIES_DIR naming the list:

1. `dxkpi-run` cold, in a child process on a private DAGSTER_HOME;
2. the held-back roster dropped into the landing zone, and `dxkpi-run` again (one new file).

Stages and peak RSS are measured as `make bench` measures them (`orchestration.bench.harness`).
There is no floor at this scale: the published KPI values are held against the generator's
truth, after the cold run for every municipality but the held-back roster's, after the last
run for all. Prints a summary and writes the figures to <work>/bench_national.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ingestion.common.reference import MUNICIPALITIES_VARIABLE, Ward, write_wards
from orchestration.bench import report
from orchestration.bench.harness import (
    Values,
    compare,
    count_exports,
    hold_back_roster,
    machine,
    pipeline_environment,
    read_values,
    run_pipeline,
    say,
    truth_values,
    work_folder,
)
from orchestration.bench.report import Comparison, RunFigures
from orchestration.instance import write_instance_config
from orchestration.settings import REPO_ROOT
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.exports import GeneratorConfig
from sampledata.generate import generate, parse_range
from sampledata.municipalities import synthetic_municipalities

SERVING_TABLE = "marts.fct_kpi_values"


@dataclass
class NationalFigures:
    """Everything one national bench measured, as printed and as written to JSON."""

    machine: dict[str, Any]
    sample: dict[str, Any]
    generation_seconds: float
    landed: dict[str, dict[str, int]]
    cold: RunFigures
    one_new_file: RunFigures
    comparisons: list[Comparison] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """A plain dict for json.dump."""
        return asdict(self)


# -- the sample --------------------------------------------------------------------------------


def list_folder(work: Path) -> str:
    """The municipality folder of `work`, as DXKPI_MUNICIPALITIES_DIR gives it: relative to
    the repository, which must hold `work` (a folder below it: `work` is emptied first)."""
    below = Path(os.path.abspath(work))
    if below == REPO_ROOT or not below.is_relative_to(REPO_ROOT):
        raise SystemExit(f"--work {work} must be a folder inside the repository ({REPO_ROOT})")
    return str((below / "municipalities").relative_to(REPO_ROOT))


@contextmanager
def municipalities_in_force(folder: str) -> Iterator[None]:
    """DXKPI_MUNICIPALITIES_DIR set to `folder` in this process, as it was afterwards."""
    before = os.environ.get(MUNICIPALITIES_VARIABLE)
    os.environ[MUNICIPALITIES_VARIABLE] = folder
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MUNICIPALITIES_VARIABLE, None)
        else:
            os.environ[MUNICIPALITIES_VARIABLE] = before


def generator_config(args: argparse.Namespace, wards: list[Ward]) -> GeneratorConfig:
    """What to generate: every municipality of the list, the chosen staff, years and seed."""
    return GeneratorConfig(
        out=args.work,
        ward_codes=[ward.code for ward in wards],
        staff_range=args.staff,
        fiscal_years=[int(year) for year in args.years.split(",")],
        seed=args.seed,
        dirty_share=args.dirty,
    )


def staff_of_last_year(data: Path) -> int:
    """The staff of every municipality in the last generated fiscal year (the truth's
    `population`, all employment types)."""
    with (data / "truth" / "kpi_inputs.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["in_generated_years"] == "True"]
    last = max(int(row["fiscal_year"]) for row in rows)
    return sum(int(row["population"]) for row in rows if int(row["fiscal_year"]) == last)


def prepare_sample(args: argparse.Namespace) -> tuple[dict[str, Any], Path, float]:
    """The list, the exports and the truth under --work (emptied first), one roster held
    back; returns the sample's description, the held-back roster and the generation time."""
    work: Path = args.work
    folder = list_folder(work)
    shutil.rmtree(work, ignore_errors=True)
    wards = synthetic_municipalities(args.municipalities)
    write_wards(wards, REPO_ROOT / folder)
    started = time.perf_counter()
    with municipalities_in_force(folder):
        summary = generate(generator_config(args, wards))
    seconds = time.perf_counter() - started
    say(f"generated {summary['files']} exports for {len(wards)} municipalities in {seconds:.0f} s")
    held = hold_back_roster(work / "landing", work / "held_back")
    sample = {
        "municipalities": len(wards),
        "municipality_list": folder,
        "years": args.years,
        "staff_per_municipality": "-".join(str(n) for n in args.staff),
        "staff_last_year": staff_of_last_year(work),
        "files": count_exports(work / "landing") + 1,
        "seed": args.seed,
        "dirty": args.dirty,
        "held_back": f"hr/{held.name}",
    }
    return sample, held, seconds


# -- the runs ----------------------------------------------------------------------------------


def landed(warehouse: Path) -> dict[str, dict[str, int]]:
    """Files and rows loaded per raw table (ops.file_loads), with a `total`."""
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute(
                "select raw_table, count(*), sum(rows_loaded), sum(rows_rejected) "
                "from ops.file_loads group by raw_table order by raw_table"
            ).fetchall()
    except duckdb.Error as error:  # no warehouse, or a failed run's dbt still holds it
        say(f"nothing read from {warehouse}: {error}")
        return {}
    tables = {
        table: {"files": files, "rows": int(loaded), "rows_rejected": int(rejected)}
        for table, files, loaded, rejected in rows
    }
    tables["total"] = {
        key: sum(figures[key] for figures in tables.values())
        for key in ("files", "rows", "rows_rejected")
    }
    return tables


def held_ward(held: Path) -> str:
    """The municipality whose roster was held back (the file name's ward code)."""
    return held.name[:6]


def value_comparisons(
    truth: Values, cold: Values, final: Values, held_back_ward: str
) -> list[Comparison]:
    """The cold run's values against the truth for every municipality but the one whose
    roster was held back; the last run's against all of the truth."""
    others = {key for key in truth if key[0] != held_back_ward}
    return [
        compare(f"pipeline cold vs truth (all but {held_back_ward})", truth, cold, others),
        compare("pipeline after one new file vs truth", truth, final),
    ]


def measure(
    args: argparse.Namespace, sample: dict[str, Any], held: Path, generation: float
) -> NationalFigures:
    """Both runs of the bench, on one CKAN server serving every municipality."""
    work: Path = args.work
    serving = work / "serving" / "dxkpi.duckdb"
    write_instance_config(work / "dagster_home", postgres_url_env=False)
    with CkanServer(read_catalogue(work / "catalogue" / "packages.json")) as ckan:
        environment = pipeline_environment(work, ckan.base_url) | {
            MUNICIPALITIES_VARIABLE: sample["municipality_list"]
        }
        say("pipeline cold ...")
        cold = run_pipeline("pipeline cold", work, environment)
        cold_values = read_values(serving, SERVING_TABLE)
        say(f"pipeline cold: {cold.wall_seconds:.1f} s; one new file ...")
        os.replace(held, work / "landing" / "hr" / held.name)
        one_new = run_pipeline("one-new-file run", work, environment)
        final_values = read_values(serving, SERVING_TABLE)
    comparisons = value_comparisons(truth_values(work), cold_values, final_values, held_ward(held))
    return NationalFigures(
        machine(),
        sample,
        generation,
        landed(work / "warehouse.duckdb"),
        cold,
        one_new,
        comparisons,
    )


# -- the report --------------------------------------------------------------------------------


def render(figures: NationalFigures) -> str:
    """The text `make bench-national` prints."""
    sample, total = figures.sample, figures.landed.get("total", {})
    runs = (figures.cold, figures.one_new_file)
    lines = [
        f"sample: {sample['municipalities']} municipalities ({sample['municipality_list']}), "
        f"FY {sample['years']}, staff {sample['staff_per_municipality']} per municipality "
        f"({sample['staff_last_year']:,} in the last FY), seed {sample['seed']}, "
        f"dirty {sample['dirty']}; held back: {sample['held_back']}",
        f"landed: {sample['files']:,} export files; loaded {total.get('files', 0):,} files, "
        f"{total.get('rows', 0):,} rows ({total.get('rows_rejected', 0):,} rejected)",
        f"generation (not part of the pipeline): {figures.generation_seconds:.1f} s",
        "",
        *report.stage_lines(figures.cold),
        *report.stage_lines(figures.one_new_file),
        "",
        "peak RSS (the process or a child it waited for, dbt included):",
        *(f"  {run.name:<28} {run.peak_rss_mb:8.0f} MB" for run in runs),
        "",
        "values:",
        *report.comparison_lines(figures.comparisons),
        "",
        report.machine_line(figures.machine),
    ]
    return "\n".join(lines)


def failures(figures: NationalFigures) -> list[str]:
    """What makes the bench fail: a run that exited non-zero, values that differ or none."""
    runs = (figures.cold, figures.one_new_file)
    failed = [f"{run.name} exited {run.exit_code}" for run in runs if run.exit_code]
    failed += [c.what for c in figures.comparisons if c.mismatches or not c.compared]
    return failed


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=work_folder, default=REPO_ROOT / "data" / "bench-national")
    parser.add_argument("--municipalities", type=int, default=200)
    parser.add_argument(
        "--staff", type=parse_range, default="4000-6000", help="staff per municipality"
    )
    parser.add_argument("--years", default="2021,2022,2023,2024,2025", help="fiscal years (年度)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dirty", type=float, default=0.01, help="share of dirty rows")
    args = parser.parse_args(argv)
    args.work = Path(os.path.abspath(args.work))  # DAGSTER_HOME and the pipeline's paths
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point of `make bench-national` (`python -m orchestration.bench.national`)."""
    args = _arguments(argv)
    sample, held, generation = prepare_sample(args)
    figures = measure(args, sample, held, generation)
    say("", render(figures))
    output = args.work / "bench_national.json"
    output.write_text(json.dumps(figures.as_json(), indent=2, ensure_ascii=False), "utf-8")
    say("", f"figures: {output}")
    failed = failures(figures)
    if failed:
        sys.exit(f"bench-national: {'; '.join(failed)}")


if __name__ == "__main__":
    main()
