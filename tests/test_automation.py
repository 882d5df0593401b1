"""dbt models and the publication follow their inputs, held back by a failed blocking check.

The automation conditions of the real definitions are evaluated tick by tick on an ephemeral
instance, with materialisations and check results reported as the raw assets' runs would.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from orchestration.definitions import defs

HR = dg.AssetKey(["raw", "hr_staff"])
COURSES = dg.AssetKey(["raw", "training_course"])
STAGED_STAFF = dg.AssetKey(["staging", "stg_hr__staff"])
STAGED_COURSES = dg.AssetKey(["staging", "stg_training__courses"])
PUBLICATION = dg.AssetKey(["serving", "kpi_marts"])


class Ticks:
    """Automation ticks over the real definitions, carrying the cursor."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self.cursor = None
        self.loads = 0

    def tick(self) -> set[dg.AssetKey]:
        """Evaluate, then materialise what was requested, as the run would; the keys."""
        result = dg.evaluate_automation_conditions(defs, self.instance, cursor=self.cursor)
        self.cursor = result.cursor
        graph = defs.resolve_asset_graph()
        requested = {k for k in graph.toposorted_asset_keys if result.get_num_requested(k)}
        for key in graph.toposorted_asset_keys:  # upstream first, like the run
            if key in requested:
                self.instance.report_runless_asset_event(dg.AssetMaterialization(key))
        return requested

    def load(self, key: dg.AssetKey, suite_passed: bool, new_data: bool = True) -> None:
        """What a raw asset's run reports: a materialisation with the data version of the
        files in its table (new when it loaded something), then its blocking suite check."""
        if new_data:
            self.loads += 1
        version = f"files-{self.loads}"
        self.instance.report_runless_asset_event(
            dg.AssetMaterialization(key, tags={"dagster/data_version": version})
        )
        self.instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=key,
                check_name="expectation_suite",
                passed=suite_passed,
                severity=dg.AssetCheckSeverity.ERROR,
            )
        )


@pytest.fixture
def ticks() -> Iterator[Ticks]:
    graph = defs.resolve_asset_graph()
    with dg.DagsterInstance.ephemeral() as instance:
        # A deployment after a good build: everything materialised, every check passed.
        for key in graph.materializable_asset_keys:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        for check in graph.asset_check_keys:
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(
                    asset_key=check.asset_key, check_name=check.name, passed=True
                )
            )
        ticks = Ticks(instance)
        assert ticks.tick() == set()  # everything built: nothing to do
        yield ticks


def test_an_updated_input_rebuilds_what_follows_through_to_publication(ticks: Ticks) -> None:
    ticks.load(HR, suite_passed=True)
    requested = ticks.tick()
    assert {STAGED_STAFF, PUBLICATION} <= requested
    assert STAGED_COURSES not in requested
    assert ticks.tick() == set()  # built once, not again while nothing changes


def test_a_run_that_loaded_nothing_new_rebuilds_nothing(ticks: Ticks) -> None:
    ticks.load(HR, suite_passed=True)
    assert STAGED_STAFF in ticks.tick()
    ticks.load(HR, suite_passed=True, new_data=False)  # the same files: same data version
    assert ticks.tick() == set()


def test_a_failed_blocking_check_holds_back_the_marts_while_other_inputs_flow(
    ticks: Ticks,
) -> None:
    ticks.load(HR, suite_passed=False)
    ticks.load(COURSES, suite_passed=True)
    requested = ticks.tick()
    assert STAGED_STAFF not in requested
    assert {STAGED_COURSES, PUBLICATION} <= requested
    assert ticks.tick() == set()  # the courses' run done; staff still held back

    ticks.load(HR, suite_passed=True)  # the corrected export
    assert {STAGED_STAFF, PUBLICATION} <= ticks.tick()


def test_a_new_deployment_is_built_through_to_publication_in_one_tick() -> None:
    """Once the first landing run and the catalogue snapshot are in, every dbt layer and the
    publication go in one run: the dbt tests of a layer built in that run do not hold the next
    layer back until a later tick (a new deployment took one run per layer)."""
    graph = defs.resolve_asset_graph()
    raw = {key for key in graph.materializable_asset_keys if key.path[0] == "raw"}
    with dg.DagsterInstance.ephemeral() as instance:
        ticks = Ticks(instance)
        for key in raw:
            ticks.load(key, suite_passed=True)
        assert ticks.tick() == graph.materializable_asset_keys - raw
        assert ticks.tick() == set()
