"""Row rules evaluated per row agree with the GX suite they come from, and quarantining the
rows they find leaves a frame the suite passes."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from test_expectations import BROKEN, valid_frame

from expectations import run_suite
from expectations.row_rules import broken_row_rules, row_rules, rows_breaking_rules
from expectations.suites import suite_names


def _row_rule_keys(dataset: str) -> set[tuple[str, str | None]]:
    return {(rule.expectation, rule.column) for rule in row_rules(dataset)}


@pytest.mark.parametrize(("dataset", "mutate", "expected"), BROKEN)
def test_row_rules_find_the_rows_the_suite_finds(
    dataset: str,
    mutate: Callable[[pd.DataFrame], None],
    expected: list[tuple[str, str | None, list[int]]],
) -> None:
    frame = valid_frame(dataset)
    mutate(frame)

    found = {
        (rule.expectation, rule.column, tuple(sorted(rows)))
        for rule, rows in rows_breaking_rules(dataset, frame)
    }

    keys = _row_rule_keys(dataset)
    from_suite = {
        (expectation, column, tuple(sorted(rows)))
        for expectation, column, rows in expected
        if (expectation, column) in keys and rows
    }
    assert found == from_suite
    if from_suite and len(from_suite) == len(expected):
        quarantined = {row for _, _, rows in found for row in rows}
        rest = frame[~frame["source_row"].isin(list(quarantined))]
        assert run_suite(dataset, rest).success


@pytest.mark.parametrize("dataset", suite_names())
def test_a_valid_frame_breaks_no_row_rule(dataset: str) -> None:
    assert broken_row_rules(dataset, valid_frame(dataset)) == []


def test_only_blocking_rules_on_the_datasets_own_columns_quarantine() -> None:
    rules = row_rules("training_enrollment")
    assert all(rule.severity == "error" for rule in rules)
    assert not {rule.column for rule in rules} & {"ward_code", "source_row", "reference_date"}
    assert ("expect_column_pair_values_a_to_be_greater_than_b", "completed_on") in {
        (rule.expectation, rule.column) for rule in rules
    }
