"""A run builds only what its inputs made stale: the rule of `make` over the event log."""

from collections.abc import Iterator

import dagster as dg
import duckdb
import pytest

from ingestion.common.loader import ensure_ops_schema
from orchestration.changes import (
    DATA_CHANGED_AT,
    loaded_files_digest,
    stale_assets,
    versioned,
    warehouse_identity,
)

ROSTERS, COURSES = dg.AssetKey("rosters"), dg.AssetKey("courses")
STAFF, TRAINING, KPIS = dg.AssetKey("staff"), dg.AssetKey("training"), dg.AssetKey("kpis")


class Warehouse:
    """What a raw asset reports: a digest of its loaded files (kept here, per asset)."""

    def __init__(self) -> None:
        self.digests = {ROSTERS: "r1", COURSES: "c1"}
        # The outcome of staff's checks: a blocking ERROR one and a WARN one.
        self.staff_keys_unique = True
        self.staff_grades_known = True


def _graph(warehouse: Warehouse) -> dg.Definitions:
    def raw(key: dg.AssetKey) -> dg.AssetsDefinition:
        @dg.asset(key=key)
        def load(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            return versioned(context.instance, key, warehouse.digests[key], {})

        return load

    @dg.asset(
        key=STAFF,
        deps=[ROSTERS],
        check_specs=[
            dg.AssetCheckSpec("keys_unique", asset=STAFF, blocking=True),
            dg.AssetCheckSpec("grades_known", asset=STAFF),
        ],
    )
    def staff() -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        yield dg.MaterializeResult()
        yield dg.AssetCheckResult(check_name="keys_unique", passed=warehouse.staff_keys_unique)
        yield dg.AssetCheckResult(
            check_name="grades_known",
            passed=warehouse.staff_grades_known,
            severity=dg.AssetCheckSeverity.WARN,
        )

    @dg.asset(key=TRAINING, deps=[COURSES])
    def training() -> None: ...

    @dg.asset(key=KPIS, deps=[STAFF, TRAINING])
    def kpis() -> None: ...

    return dg.Definitions(assets=[raw(ROSTERS), raw(COURSES), staff, training, kpis])


BUILT = {STAFF, TRAINING, KPIS}


@pytest.fixture
def world() -> Iterator[tuple[dg.DagsterInstance, Warehouse, dg.Definitions]]:
    warehouse = Warehouse()
    definitions = _graph(warehouse)
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance, warehouse, definitions


def _stale(instance: dg.DagsterInstance, definitions: dg.Definitions) -> set[dg.AssetKey]:
    return stale_assets(instance, definitions.resolve_asset_graph(), BUILT)


def _run(
    instance: dg.DagsterInstance, definitions: dg.Definitions, keys: set, *, succeeds: bool = True
) -> None:
    job = definitions.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=instance, asset_selection=sorted(keys), raise_on_error=False
    )
    assert result.success is succeeds


def test_an_asset_that_failed_an_error_check_stays_stale_until_it_passes(world) -> None:
    instance, warehouse, definitions = world
    _run(instance, definitions, {ROSTERS, COURSES})
    # GIVEN a build where staff's blocking check failed: staff is built, kpis held back
    warehouse.staff_keys_unique = False
    _run(instance, definitions, BUILT, succeeds=False)
    # THEN staff is built again with kpis, so that its check runs before kpis can be built
    assert _stale(instance, definitions) == {STAFF, KPIS}
    # WHEN the cause is fixed and they are built, nothing is stale
    warehouse.staff_keys_unique = True
    _run(instance, definitions, {STAFF, KPIS})
    assert _stale(instance, definitions) == set()


def test_a_failed_warning_check_does_not_make_its_asset_stale(world) -> None:
    instance, warehouse, definitions = world
    warehouse.staff_grades_known = False
    _run(instance, definitions, {ROSTERS, COURSES})
    _run(instance, definitions, BUILT)
    assert _stale(instance, definitions) == set()


def test_everything_is_stale_before_the_first_build(world) -> None:
    instance, _, definitions = world
    _run(instance, definitions, {ROSTERS, COURSES})
    assert _stale(instance, definitions) == BUILT


def test_inputs_read_again_without_change_make_nothing_stale(world) -> None:
    instance, _, definitions = world
    _run(instance, definitions, {ROSTERS, COURSES})
    _run(instance, definitions, BUILT)
    _run(instance, definitions, {ROSTERS, COURSES})  # nothing new: same digests
    assert _stale(instance, definitions) == set()


def test_a_changed_input_makes_what_follows_it_stale_and_nothing_else(world) -> None:
    instance, warehouse, definitions = world
    _run(instance, definitions, {ROSTERS, COURSES})
    _run(instance, definitions, BUILT)
    warehouse.digests[ROSTERS] = "r2"  # a new roster loaded
    _run(instance, definitions, {ROSTERS, COURSES})
    assert _stale(instance, definitions) == {STAFF, KPIS}
    _run(instance, definitions, {ROSTERS})  # read again, nothing new: the change still stands
    assert _stale(instance, definitions) == {STAFF, KPIS}


def test_a_build_that_stopped_half_way_is_finished_by_the_next(world) -> None:
    instance, warehouse, definitions = world
    _run(instance, definitions, {ROSTERS, COURSES})
    _run(instance, definitions, BUILT)
    warehouse.digests[COURSES] = "c2"
    _run(instance, definitions, {COURSES})
    _run(instance, definitions, {TRAINING})  # the run stopped before the KPIs
    assert _stale(instance, definitions) == {KPIS}


def test_the_change_time_is_carried_over_while_the_data_stays_the_same(world) -> None:
    instance, warehouse, definitions = world
    _run(instance, definitions, {ROSTERS})
    first = instance.get_latest_materialization_event(ROSTERS).asset_materialization
    _run(instance, definitions, {ROSTERS})
    again = instance.get_latest_materialization_event(ROSTERS).asset_materialization
    assert again.metadata[DATA_CHANGED_AT] == first.metadata[DATA_CHANGED_AT]
    warehouse.digests[ROSTERS] = "r2"
    _run(instance, definitions, {ROSTERS})
    changed = instance.get_latest_materialization_event(ROSTERS).asset_materialization
    assert changed.metadata[DATA_CHANGED_AT] != first.metadata[DATA_CHANGED_AT]
    assert changed.tags["dagster/data_version"] == "r2"


def test_the_digest_follows_the_files_loaded_not_the_rows() -> None:
    con = duckdb.connect()
    ensure_ops_schema(con)
    empty, other = loaded_files_digest(con, "hr_staff"), loaded_files_digest(con, "training")
    row = (
        "insert or replace into ops.file_loads "
        "values ('hr_staff', '131016', ?, 'f.csv', ?, 'cp932', 10, 0, now())"
    )
    con.execute(row, ["2025-04-01", "aa"])
    one = loaded_files_digest(con, "hr_staff")
    con.execute(row, ["2025-04-01", "bb"])  # a corrected re-export of the same date
    corrected = loaded_files_digest(con, "hr_staff")
    assert len({empty, one, corrected}) == 3
    assert loaded_files_digest(con, "hr_staff") == corrected  # read again: the same
    assert loaded_files_digest(con, "training") == other  # another table's is its own


def test_a_new_warehouse_changes_every_digest() -> None:
    # GIVEN two warehouses holding the same loaded files (a demo run again from scratch, a
    # rebuilt warehouse): the older one's builds must not count for the new one
    digests = []
    for _ in range(2):
        con = duckdb.connect()
        ensure_ops_schema(con)
        con.execute(
            "insert into ops.file_loads values "
            "('hr_staff', '131016', '2025-04-01', 'f.csv', 'aa', 'cp932', 10, 0, now())"
        )
        digests.append(loaded_files_digest(con, "hr_staff"))
        assert loaded_files_digest(con, "hr_staff") == digests[-1]  # stable in one warehouse
    assert digests[0] != digests[1]


def test_what_was_built_before_the_warehouse_was_born_is_stale(world) -> None:
    # GIVEN everything built, then the warehouse replaced by a new one (seeds and models
    # that read no raw table included: their inputs never change)
    instance, _, definitions = world
    _run(instance, definitions, {ROSTERS, COURSES})
    _run(instance, definitions, BUILT)
    con = duckdb.connect()
    ensure_ops_schema(con)
    _, born = warehouse_identity(con)
    # THEN all of it is stale in the new warehouse, and nothing is in the old one
    assert stale_assets(instance, definitions.resolve_asset_graph(), BUILT, born) == BUILT
    assert _stale(instance, definitions) == set()
