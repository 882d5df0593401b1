"""`make bench`: the pipeline against the floor, per stage, on the same files.

Generates a sample under --work (emptied first) and holds back one roster file (the newest
hr/*_staff_*.csv of the last ward). Then, on the same files and the same local CKAN server:

1. the floor (`orchestration.bench.floor`) in a child process, timing each stage;
2. `dxkpi-run` cold, in a child process on a private DAGSTER_HOME; its stages are read from
   the step events of the runs it made (Dagster's start-up is process start to run start);
3. `dxkpi-run` again with nothing new (the no-op run);
4. the held-back roster dropped into the landing zone, and `dxkpi-run` again (one new file);
5. the floor again on every file, held against the generator's truth.

Peak RSS is each child's `ru_maxrss` as `wait4` reports it, which covers the children it
waited for (dbt). The published KPI values (serving file, marts.fct_kpi_values) are held
against the floor's after the cold run and after the one-new-file run. Prints one table and
writes the figures to <work>/bench.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from ingestion.common.dates import fiscal_year_of
from ingestion.common.pseudonym import DEMO_KEY, KEY_VARIABLE
from ingestion.registry import FILE_CONTRACTS
from orchestration.bench import report
from orchestration.bench.report import BenchFigures, Comparison, RunFigures
from orchestration.instance import write_instance_config
from orchestration.settings import REPO_ROOT
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.generate import add_generator_arguments, config_from_arguments, generate

Key = tuple[str, int, str]
Values = dict[Key, float | None]
# Variables that would send the pipeline elsewhere than the bench's own files.
_FOREIGN_VARIABLES = ("DXKPI_POSTGRES_URL", "DXKPI_DAGSTER_PG_URL", "DXKPI_ENV", "DXKPI_SCHEDULES")
_QUIET = {"GX_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


# -- the machine and the sample ---------------------------------------------------------------


def machine() -> dict[str, object]:
    """CPU count and model, RAM and Python version of this machine."""
    model = platform.processor() or "unknown"
    memory_kib = 0
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gib": memory_kib / 1024**2,
        "python": platform.python_version(),
    }


def hold_back_roster(landing: Path, aside: Path) -> Path:
    """Move the newest roster of the last ward out of the landing zone; returns where to."""
    rosters = sorted((landing / "hr").glob("*_staff_*.csv"))
    if not rosters:
        raise SystemExit(f"no roster in {landing / 'hr'} to hold back")
    last_ward = rosters[-1].name[:6]
    newest = [path for path in rosters if path.name.startswith(last_ward)][-1]
    aside.mkdir(parents=True, exist_ok=True)
    held = aside / newest.name
    os.replace(newest, held)
    return held


def count_exports(landing: Path) -> int:
    """The export files of the landing zone."""
    return sum(1 for _ in landing.glob("*/*.csv"))


# -- child processes ---------------------------------------------------------------------------


def say(*lines: str) -> None:
    """Print progress and results: this module is a command-line program."""
    print(*lines, sep="\n", flush=True)  # noqa: T201


def run_child(
    argv: list[str], environment: Mapping[str, str], log: Path
) -> tuple[float, float, float, int, float]:
    """Run a command to its end with its output in `log`.

    Returns:
        (start epoch, end epoch, wall seconds, exit code, peak RSS in MB of the child and the
        children it waited for).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        started_at, started = time.time(), time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=dict(environment), stdout=output, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return started_at, started_at + wall, wall, child.returncode, usage.ru_maxrss / 1024


def base_environment() -> dict[str, str]:
    """This process's environment, without what would point the pipeline elsewhere."""
    environment = {k: v for k, v in os.environ.items() if k not in _FOREIGN_VARIABLES}
    environment[KEY_VARIABLE] = os.environ.get(KEY_VARIABLE, DEMO_KEY)
    return environment | _QUIET


def pipeline_environment(work: Path, ckan_url: str) -> dict[str, str]:
    """The pipeline's settings: every file of it under `work`, a private DAGSTER_HOME."""
    return base_environment() | {
        "DXKPI_LANDING": str(work / "landing"),
        "DXKPI_WAREHOUSE": str(work / "warehouse.duckdb"),
        "DXKPI_SERVING": str(work / "serving" / "dxkpi.duckdb"),
        "DXKPI_LEDGER": str(work / "landing_ledger.sqlite"),
        "DXKPI_DATA_DOCS_DIR": str(work / "data_docs"),
        "DXKPI_CKAN_URL": ckan_url,
        "DXKPI_SETTLE_SECONDS": "0",
        "DAGSTER_HOME": str(work / "dagster_home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


# -- the floor ---------------------------------------------------------------------------------

_FLOOR_STAGES = {
    "landing scan": report.LANDING_SCAN,
    "opendata_package": report.CATALOGUE,
    "kpis": report.KPIS,
    "checkpoint": report.CHECKPOINT,
}


def floor_stage(name: str) -> str:
    """The table row of a floor stage (a dataset is `raw/<table>`, as the pipeline's step)."""
    if name in FILE_CONTRACTS:
        return f"raw/{name}"
    return _FLOOR_STAGES.get(name, name)


def run_floor(name: str, work: Path, ckan_url: str, database: Path) -> RunFigures:
    """The floor in a child process, its stages from the timings it writes."""
    timings = work / f"{database.stem}_timings.json"
    argv = [
        sys.executable,
        "-m",
        "orchestration.bench.floor",
        "--landing",
        str(work / "landing"),
        "--database",
        str(database),
        "--ckan-url",
        ckan_url,
        "--timings",
        str(timings),
    ]
    log = work / "logs" / f"{database.stem}.log"
    _, _, wall, code, rss = run_child(argv, base_environment(), log)
    if code != 0:
        raise SystemExit(f"the floor failed (exit {code}): see {log}")
    measured = json.loads(timings.read_text(encoding="utf-8"))["seconds"]
    stages = {floor_stage(stage): seconds for stage, seconds in measured.items()}
    # Interpreter start, imports and exit: the floor's own start-up.
    stages = {report.START_UP: max(wall - sum(stages.values()), 0.0), **stages}
    return RunFigures(name, wall, rss, stages, code)


# -- the pipeline ------------------------------------------------------------------------------


def pipeline_stage(step_key: str) -> str:
    """The table row of a Dagster step: `raw__hr_staff` -> `raw/hr_staff`, the dbt step ->
    KPIs (dbt), the ward-freshness checks and the publications grouped."""
    if step_key.endswith("_ward_freshness"):
        return report.CHECKS
    if step_key == "raw__opendata_package":
        return report.CATALOGUE
    if step_key.startswith("raw__"):
        return f"raw/{step_key.removeprefix('raw__')}"
    if "dbt" in step_key:
        return report.KPIS
    if step_key.startswith(("serving__", "postgres")):
        return report.PUBLICATION
    return step_key


def run_timeline(events: list[tuple[float, str, str | None]]) -> tuple[float, float, dict]:
    """(run start, run end, seconds per step) of one run's (timestamp, event type, step); the
    event type is the name of Dagster's DagsterEventType member (RUN_START, STEP_SUCCESS...)."""
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    run_start = run_end = math.nan
    for timestamp, kind, step in events:
        if kind == "RUN_START":
            run_start = timestamp
        elif kind in ("RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"):
            run_end = timestamp
        elif kind == "STEP_START" and step:
            starts[step] = timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and step in starts:
            steps[step] = steps.get(step, 0.0) + timestamp - starts.pop(step)
    return run_start, run_end, steps


def stages_of_runs(
    runs: list[tuple[float, float, dict[str, float]]], started: float, ended: float
) -> dict[str, float]:
    """The stages of a process that made `runs` (start, end, step seconds), oldest first:
    start-up (process start to the first run's start), the steps by stage, Dagster's time in
    the runs outside any step, the time between runs (choosing what the next run builds),
    and shut-down (the last run's end to the process's exit)."""
    if not runs:
        return {report.START_UP: ended - started}
    stages: dict[str, float] = {report.START_UP: runs[0][0] - started}
    in_steps = 0.0
    for _, _, steps in runs:
        for step, seconds in steps.items():
            stage = pipeline_stage(step)
            stages[stage] = stages.get(stage, 0.0) + seconds
            in_steps += seconds
    in_runs = sum(end - start for start, end, _ in runs)
    stages[report.IN_RUNS] = in_runs - in_steps
    stages[report.BETWEEN_RUNS] = runs[-1][1] - runs[0][0] - in_runs
    stages[report.SHUT_DOWN] = ended - runs[-1][1]
    return stages


def dagster_runs(home: Path, since: float) -> list[tuple[float, float, dict[str, float]]]:
    """The runs of the instance at `home` started after `since`, oldest first."""
    import dagster as dg

    runs = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for record in instance.get_run_records():
            events = [
                (entry.timestamp, entry.dagster_event.event_type.name, entry.step_key)
                for entry in instance.all_logs(record.dagster_run.run_id)
                if entry.dagster_event is not None
            ]
            timeline = run_timeline(events)
            if not math.isnan(timeline[0]) and timeline[0] >= since:
                runs.append(timeline)
    return sorted(runs, key=lambda run: run[0])


def run_pipeline(name: str, work: Path, environment: Mapping[str, str]) -> RunFigures:
    """`dxkpi-run` in a child process, its stages from the runs it left on the instance."""
    argv = [str(Path(sys.executable).with_name("dxkpi-run"))]
    log = work / "logs" / f"{name.replace(' ', '_')}.log"
    started, ended, wall, code, rss = run_child(argv, environment, log)
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        say(f"dxkpi-run ({name}) exited {code}; last lines of {log}:", *(f"  {t}" for t in tail))
    runs = dagster_runs(Path(environment["DAGSTER_HOME"]), started)
    return RunFigures(name, wall, rss, stages_of_runs(runs, started, ended), code)


# -- values ------------------------------------------------------------------------------------


def read_values(database: Path, table: str) -> Values:
    """(ward, FY, indicator) -> value of a KPI table; empty when the file is missing."""
    if not database.exists():
        return {}
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"select ward_code, fiscal_year, indicator_id, value from {table}"
        ).fetchall()
    return {(ward, int(year), indicator): value for ward, year, indicator, value in rows}


def truth_values(data: Path, today: datetime | None = None) -> Values:
    """The generator's truth as the end-to-end test reads it: truth/kpi_values.csv, and the
    open datasets of today's catalogue snapshot for today's fiscal year (JST)."""
    with (data / "truth" / "kpi_values.csv").open(encoding="utf-8") as handle:
        expected: Values = {
            (row["ward_code"], int(row["fiscal_year"]), row["indicator_id"]): (
                float(row["value"]) if row["value"] else None
            )
            for row in csv.DictReader(handle)
        }
    now = today or datetime.now(UTC)
    snapshot_year = fiscal_year_of((now + timedelta(hours=9)).date())
    with (data / "truth" / "open_data.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            count = float(row["active_public_datasets"])
            expected[(row["ward_code"], snapshot_year, "ctx_open_datasets")] = count
    return expected


def same_value(expected: float | None, found: float | None) -> bool:
    """Equal as tests/test_end_to_end.py holds them (pytest.approx's default tolerance)."""
    if expected is None or found is None:
        return expected is None and found is None
    return math.isclose(expected, found, rel_tol=1e-6, abs_tol=1e-12)


def compare(what: str, expected: Values, found: Values, keys: set[Key] | None = None) -> Comparison:
    """Hold `found` against `expected` on `keys` (every expected key by default)."""
    chosen = sorted(expected if keys is None else keys)
    mismatches = [
        f"{ward}/FY{year}/{indicator}: {expected[(ward, year, indicator)]} vs "
        f"{found.get((ward, year, indicator), 'missing')}"
        for ward, year, indicator in chosen
        if (ward, year, indicator) not in found
        or not same_value(expected[(ward, year, indicator)], found[(ward, year, indicator)])
    ]
    return Comparison(what, len(chosen), mismatches)


# -- the whole bench ---------------------------------------------------------------------------


def work_folder(text: str) -> Path:
    """--work as an absolute path: the runs set DAGSTER_HOME under it, which Dagster refuses
    when relative."""
    return Path(text).resolve()


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=work_folder, default=REPO_ROOT / "data" / "bench")
    add_generator_arguments(parser)
    return parser.parse_args(argv)


def prepare_sample(args: argparse.Namespace) -> tuple[dict[str, object], Path]:
    """Generate the sample under --work (emptied first) and hold one roster back."""
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    started = time.perf_counter()
    summary = generate(config_from_arguments(args, work))
    say(
        f"generated {summary['files']} exports for {summary['wards']} wards in "
        f"{time.perf_counter() - started:.0f} s under {work}"
    )
    held = hold_back_roster(work / "landing", work / "held_back")
    sample = {
        "wards": summary["wards"],
        "files": count_exports(work / "landing"),
        "staff": "-".join(str(n) for n in args.staff),
        "years": args.years,
        "seed": args.seed,
        "dirty": args.dirty,
        "held_back": f"hr/{held.name}",
    }
    return sample, held


def measure(args: argparse.Namespace, sample: dict[str, object], held: Path) -> BenchFigures:
    """Every run of the bench, on one CKAN server."""
    work: Path = args.work
    write_instance_config(work / "dagster_home", postgres_url_env=False)
    with CkanServer(read_catalogue(work / "catalogue" / "packages.json")) as ckan:
        environment = pipeline_environment(work, ckan.base_url)
        say("floor ...")
        floor = run_floor("floor", work, ckan.base_url, work / "floor.duckdb")
        say(f"floor: {floor.wall_seconds:.1f} s; pipeline cold ...")
        cold = run_pipeline("pipeline cold", work, environment)
        cold_values = read_values(work / "serving" / "dxkpi.duckdb", "marts.fct_kpi_values")
        say(f"pipeline cold: {cold.wall_seconds:.1f} s; no-op run ...")
        noop = run_pipeline("no-op run", work, environment)
        say(f"no-op run: {noop.wall_seconds:.1f} s; one new file ...")
        os.replace(held, work / "landing" / "hr" / held.name)
        one_new = run_pipeline("one-new-file run", work, environment)
        final_values = read_values(work / "serving" / "dxkpi.duckdb", "marts.fct_kpi_values")
        say(f"one-new-file run: {one_new.wall_seconds:.1f} s; floor on every file ...")
        again = run_floor("floor, every file", work, ckan.base_url, work / "floor_all.duckdb")
    floor_values = read_values(work / "floor.duckdb", "kpi_values")
    floor_all_values = read_values(work / "floor_all.duckdb", "kpi_values")
    comparisons = [
        compare("floor (every file) vs truth", truth_values(work), floor_all_values),
        # Every value the floor computes (its wards and years): the pipeline has more rows
        # (every ward of the reference list, the years before the first export).
        compare("pipeline cold vs floor", floor_values, cold_values),
        compare(
            "pipeline after one new file vs floor (every file)", floor_all_values, final_values
        ),
    ]
    return BenchFigures(machine(), sample, floor, cold, noop, one_new, again, comparisons)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `make bench` (`python -m orchestration.bench`)."""
    args = _arguments(argv)
    sample, held = prepare_sample(args)
    figures = measure(args, sample, held)
    say("", report.render(figures))
    output = args.work / "bench.json"
    output.write_text(json.dumps(figures.as_json(), indent=2, ensure_ascii=False), "utf-8")
    say("", f"figures: {output}")
    failed = [c.what for c in figures.comparisons if c.mismatches or not c.compared]
    runs = (figures.cold, figures.noop, figures.one_new_file)
    if failed or any(run.exit_code for run in runs):
        sys.exit(f"bench: values differ ({', '.join(failed) or 'none'}) or a run failed")


if __name__ == "__main__":
    main()
