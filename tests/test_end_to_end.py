"""The whole graph through Dagster on a throwaway warehouse, held against the generator's truth.

The expected KPI values are computed here from the truth the generator wrote (what it
simulated), never from the exports or the warehouse.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest
from dagster import AssetCheckEvaluation, AssetKey, DagsterInstance

from disclosure import THRESHOLD, feasible_ranges
from ingestion.common.dates import fiscal_year_of
from orchestration.assets.publish import MART_MODELS
from orchestration.definitions import build_definitions
from orchestration.run import PASS_CHECKS, PipelineRun, run_everything
from orchestration.scorecard import render_scorecard
from orchestration.settings import Settings
from sampledata.catalogue import read_catalogue
from sampledata.ckan_server import CkanServer
from sampledata.generate import GeneratorConfig, generate
from sampledata.world import PERSONAL_TEXT_PROBES

WARDS = ["131016", "131032", "131237"]
YEARS = [2024, 2025]
# The data stops in the middle of FY2025: FY2024 is closed in the data, FY2025 in progress.
AS_OF = date(2025, 11, 15)
pytestmark = pytest.mark.e2e


def run_pipeline(settings: Settings, instance: DagsterInstance) -> PipelineRun:
    """What `make run` does: every asset once, in-process, on the landing zone as it is."""
    return run_everything(instance, settings)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data = tmp_path_factory.mktemp("e2e")
    generate(GeneratorConfig(data, WARDS, (25, 40), YEARS, seed=11, dirty_share=0.02, as_of=AS_OF))
    with CkanServer(read_catalogue(data / "catalogue" / "packages.json")) as server:
        settings = Settings(
            environment="local",
            landing_dir=data / "landing",
            warehouse_path=data / "warehouse.duckdb",
            serving_path=data / "serving" / "dxkpi.duckdb",
            ledger_path=data / "landing_ledger.sqlite",
            ckan_url=server.base_url,
            dbt_target="local",
            settle_seconds=0,
            schedules_running=False,
        )
        with DagsterInstance.ephemeral() as instance:
            first = run_pipeline(settings, instance)
            with duckdb.connect(str(settings.serving_path), read_only=True) as con:
                first_values = con.execute(
                    "select * from marts.fct_kpi_values order by all"
                ).fetchall()
            second = run_pipeline(settings, instance)
            yield {
                "instance": instance,
                "data": data,
                "settings": settings,
                "first": first,
                "second": second,
                "first_values": first_values,
            }


def read_truth(data: Path, name: str) -> list[dict[str, str]]:
    with (data / "truth" / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected_values(data: Path) -> dict[tuple[str, int, str], float | None]:
    """Every indicator's value per ward and fiscal year, as the generator computed it from its
    simulation (truth/kpi_values.csv, by the definitions of indicators.yaml), and the open
    datasets of the catalogue snapshot the run takes today."""
    expected: dict[tuple[str, int, str], float | None] = {
        (row["ward_code"], int(row["fiscal_year"]), row["indicator_id"]): (
            float(row["value"]) if row["value"] else None
        )
        for row in read_truth(data, "kpi_values.csv")
    }
    snapshot_year = fiscal_year_of((datetime.now(UTC) + timedelta(hours=9)).date())
    for row in read_truth(data, "open_data.csv"):
        count = int(row["active_public_datasets"])
        expected[(row["ward_code"], snapshot_year, "ctx_open_datasets")] = count
    return expected


def test_run_succeeds_and_publishes(pipeline: dict) -> None:
    assert pipeline["first"].success
    assert pipeline["settings"].serving_path.exists()
    failed = [e for e in pipeline["first"].get_asset_check_evaluations() if not e.passed]
    # Dirty rows are warnings only; the wards this sample leaves out never sent a file.
    assert {e.check_name for e in failed} <= {"ward_freshness"}
    for evaluation in failed:
        if evaluation.check_name == "ward_freshness":
            never_heard = set(evaluation.metadata["never_heard_wards"].value)
            # the generator's third ward never sends personnel exchanges (its truth: no data)
            dataset = evaluation.asset_key.path[1]
            silent = {"131237"} if dataset == "hr_personnel_exchange" else set()
            assert len(never_heard) == 20 + len(silent) and never_heard & set(WARDS) == silent


def test_every_kpi_matches_the_truth(pipeline: dict) -> None:
    expected = expected_values(pipeline["data"])
    with duckdb.connect(str(pipeline["settings"].serving_path), read_only=True) as con:
        rows = con.execute(
            "select ward_code, fiscal_year, indicator_id, value from marts.fct_kpi_values"
        ).fetchall()
    actual = {(w, y, i): v for w, y, i, v in rows}
    # 19 indicators and the open datasets for every generated year, and today's snapshot
    assert len(expected) == len(WARDS) * (len(YEARS) * 20 + 1)
    assert {i for _, _, i in expected} == {i for _, _, i in actual}
    mismatches = {
        key: (value, actual.get(key, "missing"))
        for key, value in expected.items()
        if not (
            key in actual
            and (value is None and actual[key] is None or value == pytest.approx(actual[key]))
        )
    }
    assert mismatches == {}


def test_a_year_in_progress_in_the_data_is_provisional(pipeline: dict) -> None:
    with duckdb.connect(str(pipeline["settings"].serving_path), read_only=True) as con:
        rows = con.execute(
            "select fiscal_year, indicator_id, as_of_date, status from marts.fct_kpi_values "
            "where value is not null"
        ).fetchall()
    by_year: dict[int, set[str]] = {}
    for fiscal_year, indicator_id, as_of, status in rows:
        by_year.setdefault(fiscal_year, set()).add(status)
        # every value says what it knows; a year ending after that is in progress: the
        # exports stop on 2025-11-15, the catalogue snapshot is today's
        assert as_of is not None
        in_progress = as_of < date(fiscal_year + 1, 3, 31)
        current = fiscal_year_of(date.today()) if indicator_id == "ctx_open_datasets" else 2025
        assert (status == "provisional") == in_progress == (fiscal_year >= current), indicator_id
    assert by_year[2024] >= {"achieved", "not_achieved", "no_target"}
    assert by_year[2025] >= {"provisional"}


def test_every_value_lists_the_files_it_was_computed_from(pipeline: dict) -> None:
    settings = pipeline["settings"]
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        values = con.execute(
            "select count(*) from marts.fct_kpi_values where value is not null"
        ).fetchone()[0]
        traced = con.execute(
            "select count(*) from (select distinct ward_code, fiscal_year, indicator_id "
            "from marts.fct_kpi_lineage)"
        ).fetchone()[0]
        rosters = con.execute(
            "select source_file, file_sha256 from marts.fct_kpi_lineage "
            "where ward_code = '131016' and fiscal_year = 2024 and raw_table = 'hr_staff' "
            "and indicator_id = 'm1_ksi_basic_training_completion'"
        ).fetchall()
    assert values and traced == values
    # the completion rate of FY2024 counted the population of the year's last roster: its
    # bytes are in the landing zone under that name and hash
    [(roster, digest)] = rosters
    assert roster == "hr/131016_staff_20250301.csv"
    landed = (settings.landing_dir / roster).read_bytes()
    assert hashlib.sha256(landed).hexdigest() == digest


def test_scorecard_shows_every_indicator_by_measure_and_tier(pipeline: dict) -> None:
    text = render_scorecard(pipeline["settings"].serving_path)
    with duckdb.connect(str(pipeline["settings"].serving_path), read_only=True) as con:
        names = [n for (n,) in con.execute("select name_ja from marts.dim_indicator").fetchall()]
    assert len(names) == 20 and all(name in text for name in names)
    assert all(f"Measure {m}" in text for m in (1, 2, 3)) and "Context" in text
    assert "FY2024" in text and "FY2025" in text
    assert "~ provisional: the year is not over in the data (as of 2025-11-15)" in text
    card = render_scorecard(pipeline["settings"].serving_path, [2024, 2025], "131016")
    assert card.count("~") >= 19 and ("✓" in card or "✗" in card)


def test_every_dirty_row_is_left_out_and_reported(pipeline: dict) -> None:
    dirty = {
        r["source_file"]: int(r["dirty_rows"])
        for r in read_truth(pipeline["data"], "dirty_rows.csv")
    }
    with duckdb.connect(str(pipeline["settings"].warehouse_path), read_only=True) as con:
        reported = dict(
            con.execute(
                "select source_file, count(distinct source_row) from ops.row_problems group by 1"
            ).fetchall()
        )
    assert sum(dirty.values()) > 0
    assert {f: n for f, n in dirty.items() if n} == reported


def text_of_every_table(database: Path) -> str:
    """Every distinct text value of every table and view of a DuckDB file, joined."""
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_catalog = current_database()"
        ).fetchall()
        return " ".join(
            str(value)
            for schema, table, column in columns
            for (value,) in con.execute(
                f'select distinct "{column}" from "{schema}"."{table}"'
            ).fetchall()
        )


def test_no_name_free_text_or_staff_number_reaches_the_warehouse(pipeline: dict) -> None:
    # GIVEN exports whose name, 自由記述, 事業名 and 件名 cells all carry a surname, a kana
    # reading or a marker of the generator, WHEN every table of the warehouse (raw, staging,
    # intermediate, marts, ops, dbt's audit tables) and of the serving file is scanned
    settings = pipeline["settings"]
    for database in (settings.warehouse_path, settings.serving_path):
        text = text_of_every_table(database)
        # THEN none is found
        assert text and not [probe for probe in PERSONAL_TEXT_PROBES if probe in text]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        staff_ids = con.execute(
            "select staff_id from raw.hr_staff union select staff_id from raw.hr_skill_assessment "
            "union select leader_staff_id from raw.dx_office_dx_project "
            "union select staff_id from raw.hr_external_specialist"
        ).fetchall()
    assert all(s is None or (len(s) == 32 and not s.isdigit()) for (s,) in staff_ids)


def test_second_run_changes_nothing(pipeline: dict) -> None:
    assert pipeline["second"].success
    # nothing new: no raw asset runs (the catalogue was snapshotted today already), no dbt
    # build, no publication; the freshness checks are judged again
    assert len(pipeline["second"].runs) == 1 and not pipeline["second"].built
    assert not pipeline["second"].get_asset_materialization_events()
    judged = {e.check_name for e in pipeline["second"].get_asset_check_evaluations()}
    assert judged == PASS_CHECKS
    with duckdb.connect(str(pipeline["settings"].serving_path), read_only=True) as con:
        values = con.execute("select * from marts.fct_kpi_values order by all").fetchall()
    assert values == pipeline["first_values"]


def test_a_file_failing_its_suite_blocks_publication_and_loses_nothing(pipeline: dict) -> None:
    # GIVEN the published marts of the earlier runs, and HR re-sending one roster whose 係長級
    # are all spelled with a grade outside the value set: far more than the 5% of rows the
    # quarantine takes
    settings = pipeline["settings"]
    roster = sorted((settings.landing_dir / "hr").glob("131032_staff_*.csv"))[-1]
    original = roster.read_bytes()
    text = original.decode("cp932")
    roster.write_bytes(text.replace("係長級", "課長代理").encode("cp932"))

    def published() -> list[tuple]:
        with duckdb.connect(str(settings.serving_path), read_only=True) as con:
            return con.execute("select * from meta.publication order by all").fetchall()

    def raw_rows() -> list[tuple]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(
                "select * exclude (loaded_at) from raw.hr_staff order by all"
            ).fetchall()

    before_publication, before_rows = published(), raw_rows()
    # WHEN the pipeline runs
    with DagsterInstance.ephemeral() as instance:
        result = run_pipeline(settings, instance)
    # THEN the blocking check fails and names the file, the rest of the graph does not run,
    # nothing is written, the file stays, and the published marts are the previous ones
    suite = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "expectation_suite" and e.asset_key.path == ["raw", "hr_staff"]
    ]
    assert len(suite) == 1 and not suite[0].passed
    assert roster.name in suite[0].metadata["rejections"].value
    assert "value_not_in_set on 職層" in suite[0].metadata["rejections"].value
    assert "課長代理" not in suite[0].metadata["rejections"].value  # no cell text
    assert not result.success
    assert "dxkpi_dbt_assets" not in {e.step_key for e in result.get_step_success_events()}
    assert raw_rows() == before_rows
    assert published() == before_publication
    assert roster.exists()
    roster.write_bytes(original)


def test_publishing_alone_refuses_marts_whose_last_dbt_test_failed(pipeline: dict) -> None:
    # GIVEN a failed evaluation of a blocking dbt test of the marts
    settings, instance = pipeline["settings"], pipeline["instance"]
    definitions = build_definitions(settings)
    graph = definitions.resolve_asset_graph()
    check = next(
        key
        for key in graph.asset_check_keys
        if key.asset_key.path == ["marts", "fct_kpi_values"] and graph.get_check_spec(key).blocking
    )
    instance.report_runless_asset_event(
        AssetCheckEvaluation(asset_key=check.asset_key, check_name=check.name, passed=False)
    )
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        before = con.execute("select * from meta.publication").fetchall()
    # WHEN only the publication is materialised
    job = definitions.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={AssetKey(["serving", "kpi_marts"])}
    )
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    # THEN it refuses, naming the test, and the published file is the previous one
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error.message
    assert check.name in failure
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        assert con.execute("select * from meta.publication").fetchall() == before


def catalogue_targets() -> dict[str, tuple[float | None, str]]:
    """indicator_id -> (target, direction), from the indicators seed (the specification's)."""
    seed = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "indicators.csv"
    with seed.open(encoding="utf-8", newline="") as handle:
        return {
            row["indicator_id"]: (
                float(row["target_value"]) if row["target_value"] else None,
                row["direction"],
            )
            for row in csv.DictReader(handle)
        }


def published_values(serving: Path) -> dict[tuple[str, int, str], float | None]:
    """Every value of marts.fct_kpi_values (held against the truth by
    test_every_kpi_matches_the_truth), by ward, fiscal year and indicator."""
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "select ward_code, fiscal_year, indicator_id, value from marts.fct_kpi_values"
        ).fetchall()
    return {(ward, year, indicator): value for ward, year, indicator, value in rows}


def test_scorecard_mart_holds_attainment_and_change_from_the_truth(pipeline: dict) -> None:
    serving = pipeline["settings"].serving_path
    truth, targets = expected_values(pipeline["data"]), catalogue_targets()
    values = published_values(serving)
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "select ward_code, fiscal_year, indicator_id, value, target_value, attainment, "
            "previous_value, change_from_previous, status, status_ja, indicator_name_ja, "
            "ward_name_ja from marts.mart_kpi_scorecard"
        ).fetchall()
    assert len(rows) == len(values) and {r[:3] for r in rows} >= set(truth)
    status_ja = {"achieved": "達成", "not_achieved": "未達成", "provisional": "暫定"}
    status_ja |= {"no_data": "データなし", "no_target": "目標なし"}
    for (
        ward,
        year,
        indicator,
        value,
        target,
        attainment,
        previous,
        change,
        status,
        ja,
        *names,
    ) in rows:
        expected = truth.get((ward, year, indicator), values[(ward, year, indicator)])
        truth_target, direction = targets[indicator]
        assert value == pytest.approx(expected) and target == truth_target
        if expected is None or not truth_target:
            assert attainment is None
        else:
            ratio = expected / truth_target if direction == "higher_is_better" else None
            assert attainment == pytest.approx(ratio), (ward, year, indicator)
        before = truth.get((ward, year - 1, indicator), values.get((ward, year - 1, indicator)))
        assert previous == pytest.approx(before)
        if expected is None or before is None:
            assert change is None
        else:
            assert change == pytest.approx(expected - before)
        assert ja == status_ja[status] and all(names)


def test_ward_benchmark_ranks_the_published_values_by_direction(pipeline: dict) -> None:
    serving, targets = pipeline["settings"].serving_path, catalogue_targets()
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "select indicator_id, fiscal_year, ward_code, rank, wards_ranked, percentile, "
            "median_value, best_value, worst_value, gap_ratio from marts.mart_ward_benchmark"
        ).fetchall()
    published = {(i, y, w): rest for i, y, w, *rest in rows}
    groups: dict[tuple[str, int], dict[str, float]] = {}
    for (ward, year, indicator), value in published_values(serving).items():
        if value is not None:
            groups.setdefault((indicator, year), {})[ward] = value
    assert len(published) == sum(len(values) for values in groups.values())
    for (indicator, year), values in groups.items():
        sign = 1 if targets[indicator][1] == "higher_is_better" else -1
        merit = {ward: round(sign * value, 9) for ward, value in values.items()}
        ordered = sorted(values.values())
        middle = len(ordered) // 2
        median = (
            ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        )
        best = max(values.values(), key=lambda v: sign * v)
        worst = min(values.values(), key=lambda v: sign * v)
        for ward in values:
            rank, count, percentile, med, best_value, worst_value, gap = published[
                (indicator, year, ward)
            ]
            worse = sum(m < merit[ward] for m in merit.values())
            assert rank == 1 + sum(m > merit[ward] for m in merit.values())
            assert count == len(values)
            assert percentile == pytest.approx(
                100 * worse / (len(values) - 1) if count > 1 else 100
            )
            assert (med, best_value, worst_value) == pytest.approx((median, best, worst))
            gap_expected = (
                (best / worst if sign > 0 else worst / best) if min(best, worst) > 0 else None
            )
            assert gap == pytest.approx(gap_expected), (indicator, year)


def test_every_published_table_and_column_carries_its_documentation(pipeline: dict) -> None:
    serving = pipeline["settings"].serving_path
    for database in (serving, serving.with_name("dxkpi_v1.duckdb")):
        with duckdb.connect(str(database), read_only=True) as con:
            tables = con.execute(
                "select schema_name || '.' || table_name, coalesce(comment, '') "
                "from duckdb_tables() where database_name = current_database()"
            ).fetchall()
            columns = con.execute(
                "select schema_name || '.' || table_name || '.' || column_name, "
                "coalesce(comment, '') from duckdb_columns() "
                "where database_name = current_database()"
            ).fetchall()
        names = {name for name, _ in tables}
        assert {f"marts.{model}" for model in MART_MODELS} <= names
        assert {"dq.file_outcomes", "dq.incidents", "meta.publication"} <= names
        assert [name for name, comment in tables + columns if not comment.strip()] == []


def test_the_release_holds_the_dashboard_of_its_own_numbers(pipeline: dict) -> None:
    root = pipeline["settings"].serving_path.parent
    index = root / "dashboard" / "index.html"
    assert index.resolve().parent.parent == (root / "current").resolve()
    with duckdb.connect(str(pipeline["settings"].serving_path), read_only=True) as con:
        run_id = con.execute("select distinct run_id from meta.publication").fetchone()[0]
    page = index.read_text(encoding="utf-8")
    assert 'lang="ja"' in page and run_id in page
    assert (root / "dashboard" / "plotly.min.js").exists()


BREAKDOWNS = {
    # mart: (interior count columns, row-total column, is its 計 row an indicator's counts)
    "mart_training_completion_by_grade": (["completed", "not_completed"], "staff", True),
    "mart_training_completion_by_department": (["completed", "not_completed"], "staff", True),
    "mart_skill_levels_by_item": ([f"level_{n}" for n in range(1, 5)], "assessed", False),
    "mart_staff_satisfaction_by_grade": (["satisfied", "not_satisfied"], "respondents", True),
}


def fixed_by_the_total_row(values: np.ndarray) -> set[tuple[int, int]]:
    """Cells of a table its total row alone determines, whatever else is withheld."""
    hidden = np.ones(values.shape, dtype=bool)
    hidden[-1, :] = False
    ranges = feasible_ranges(np.where(hidden, np.nan, values), hidden)
    return {cell for cell, (low, high) in ranges.items() if high - low < 1}


def test_no_withheld_breakdown_cell_can_be_worked_out_from_what_is_published(
    pipeline: dict,
) -> None:
    # GIVEN every published breakdown, each 計 row of an indicator's counts public twice (here
    # and in fct_kpi_values), WHEN an intruder solves for each withheld cell, THEN it keeps a
    # range, but for cells the public totals alone fix (a ward with one grade of staff)
    audited = 0
    with duckdb.connect(str(pipeline["settings"].serving_path), read_only=True) as con:
        for mart, (interior, total, public_totals) in BREAKDOWNS.items():
            frame = con.execute(f"select * from marts.{mart}").df()
            assert len(frame), mart
            rows = frame[~frame["is_total"]] if public_totals else frame
            counts = rows[[*interior, total]].astype("Float64")
            assert not (counts.fillna(THRESHOLD) < THRESHOLD).to_numpy().any(), mart
            for _, table in frame.groupby(["ward_code", "fiscal_year"]):
                table = table.sort_values("is_total", kind="stable")
                assert table["is_total"].sum() == 1 and table["is_total"].iloc[-1], mart
                values = table[[*interior, total]].to_numpy(dtype=float, na_value=np.nan)
                assert not (public_totals and np.isnan(values[-1]).any()), mart
                fixed = fixed_by_the_total_row(values) if public_totals else set()
                for cell, (low, high) in feasible_ranges(values, np.isnan(values)).items():
                    assert high - low >= 1 or cell in fixed, (mart, cell)
                    audited += 1
    assert audited


def test_a_corrected_roster_rebuilds_what_reads_rosters_and_publishes(pipeline: dict) -> None:
    # Last in this module: it changes the landing zone the other tests read.
    # GIVEN the published marts, and HR re-sending a roster with one row withdrawn
    settings, instance = pipeline["settings"], pipeline["instance"]
    roster = sorted((settings.landing_dir / "hr").glob("131016_staff_*.csv"))[-1]
    lines = roster.read_bytes().split(b"\r\n")
    roster.write_bytes(b"\r\n".join(lines[:-2] + lines[-1:]))
    # WHEN the pipeline runs
    result = run_pipeline(settings, instance)
    # THEN the second run builds what reads the rosters, through to the publication, and
    # leaves the models of other sources alone
    assert result.success and len(result.runs) == 2
    built = {key.to_user_string() for key in result.built}
    assert {"staging/stg_hr__staff", "marts/fct_kpi_values", "serving/kpi_marts"} <= built
    assert not built & {"staging/stg_training__courses", "staging/stg_proposals__proposals"}
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        runs = {row[0] for row in con.execute("select run_id from meta.publication").fetchall()}
    assert runs == {result.runs[-1].run_id}
