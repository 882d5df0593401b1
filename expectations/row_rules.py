"""Row rules: the expectations of a suite that judge one row at a time, evaluated per row.

A suite mixes rules about the file (its columns, its row count, its ward code) with rules
about rows (a grade in the value set, a completion not before its application). A row that
breaks a row rule does not make the whole export untrustworthy: it is set aside in the
quarantine and the rest of the file loads. This module finds those rows with vectorised
pandas, from the same `Rule` data the GX suites are built from, so the two never disagree
on what a rule means; the suite then runs on the remaining rows as the gate of the load.

Only error-severity rules on the dataset's own columns quarantine: lineage columns
(`ward_code`, `reference_date`, `source_row`...) are the file's, and warnings are reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from expectations.suites import Rule, rules_for
from ingestion.common.schema import LINEAGE_COLUMNS

_LINEAGE = frozenset(name for name, _ in LINEAGE_COLUMNS)

# The machine name a quarantined row's rule gets, by expectation.
RULE_CODES = {
    "expect_column_values_to_not_be_null": "required_value_missing",
    "expect_column_values_to_be_in_set": "value_not_in_set",
    "expect_column_values_to_be_between": "value_out_of_range",
    "expect_column_values_to_match_regex": "value_format",
    "expect_column_pair_values_a_to_be_greater_than_b": "values_out_of_order",
    "expect_compound_columns_to_be_unique": "duplicate_key",
}


def _not_null(rule: Rule, frame: pd.DataFrame) -> pd.Series:
    return frame[rule.column].isna()


def _in_set(rule: Rule, frame: pd.DataFrame) -> pd.Series:
    values = frame[rule.column]
    return values.notna() & ~values.isin(list(rule.kwargs["value_set"]))


def _between(rule: Rule, frame: pd.DataFrame) -> pd.Series:
    values = frame[rule.column]
    failing = pd.Series(False, index=frame.index)
    low, high = rule.kwargs.get("min_value"), rule.kwargs.get("max_value")
    if low is not None:
        failing |= (values < low).fillna(False).astype(bool)
    if high is not None:
        failing |= (values > high).fillna(False).astype(bool)
    return failing


def _matches(rule: Rule, frame: pd.DataFrame) -> pd.Series:
    values = frame[rule.column]
    pattern = re.compile(rule.kwargs["regex"])
    matched = values.map(lambda v: bool(pattern.search(v)) if isinstance(v, str) else True)
    return values.notna() & ~matched.astype(bool)


def _ordered(rule: Rule, frame: pd.DataFrame) -> pd.Series:
    greater, lesser = frame[rule.kwargs["column_A"]], frame[rule.kwargs["column_B"]]
    return (greater < lesser).fillna(False).astype(bool)


def _unique(rule: Rule, frame: pd.DataFrame) -> pd.Series:
    # Every row of a repeated key: which of them is the real record cannot be told.
    columns = list(rule.kwargs["column_list"])
    present = frame[columns].notna().all(axis=1)
    return present & frame.duplicated(subset=columns, keep=False)


_EVALUATORS: dict[str, Callable[[Rule, pd.DataFrame], pd.Series]] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_match_regex": _matches,
    "expect_column_pair_values_a_to_be_greater_than_b": _ordered,
    "expect_compound_columns_to_be_unique": _unique,
}


def is_row_rule(rule: Rule) -> bool:
    """Tell whether a rule judges single rows of the dataset's own columns, and blocks."""
    return (
        rule.severity == "error"
        and rule.expectation in _EVALUATORS
        and rule.column is not None
        and rule.column not in _LINEAGE
    )


def row_rules(dataset: str) -> list[Rule]:
    """The rules of a dataset's suite that quarantine rows."""
    return [rule for rule in rules_for(dataset) if is_row_rule(rule)]


def rows_breaking_rules(dataset: str, frame: pd.DataFrame) -> list[tuple[Rule, pd.Series]]:
    """Each row rule a frame breaks, with the `source_row`s that break it.

    Args:
        dataset: The raw table name whose suite holds the rules.
        frame: An export's typed frame (lineage columns included).

    Returns:
        (rule, source rows) for every rule with at least one failing row, in suite order.
    """
    broken = []
    for rule in row_rules(dataset):
        try:
            failing = _EVALUATORS[rule.expectation](rule, frame)
        except (TypeError, KeyError):
            # A column of the wrong type or missing: a file-level fault the suite refuses.
            continue
        if rule.when is not None:
            column, value = rule.when
            failing &= (frame[column] == value).fillna(False).astype(bool)
        if failing.any():
            broken.append((rule, frame.loc[failing.to_numpy(), "source_row"]))
    return broken


@dataclass(frozen=True)
class BrokenRowRule:
    """A row rule some rows of an export break.

    Attributes:
        code: The rule's machine name, e.g. `value_not_in_set`.
        column: The warehouse column the rule is about.
        message: The rule as a sentence, e.g. `grade in {係員, ...}`.
        source_rows: The file lines of the rows that break it.
    """

    code: str
    column: str
    message: str
    source_rows: list[int]


def broken_row_rules(dataset: str, frame: pd.DataFrame) -> list[BrokenRowRule]:
    """The row rules an export's frame breaks, ready for the quarantine (see `ingest`)."""
    return [
        BrokenRowRule(
            RULE_CODES[rule.expectation],
            str(rule.column),
            f"breaks the rule '{rule.rule}'",
            [int(row) for row in rows],
        )
        for rule, rows in rows_breaking_rules(dataset, frame)
    ]
