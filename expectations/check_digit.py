"""A custom GX 1.x column-map expectation: local-government codes with a valid check digit.

Importing this module registers, through GX's metaclasses, the metric
`column_values.valid_ward_code` (pandas only) and the expectation
`expect_column_values_to_be_valid_ward_code`. Like every column-map expectation it ignores
missing values, honours `mostly` and row conditions, and reports unexpected values and rows.
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from expectations.suites import ward_code_is_valid


class ColumnValuesValidWardCode(ColumnMapMetricProvider):
    """Map metric: True where a value is a 6-digit code whose check digit is right."""

    condition_metric_name = "column_values.valid_ward_code"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        # A file holds one ward (or a few in the catalogue), so check each distinct value once
        # and map back instead of running Python per row.
        codes = column.astype(str)
        verdicts = {code: ward_code_is_valid(code) for code in codes.unique()}
        return codes.map(verdicts).astype(bool)


class ExpectColumnValuesToBeValidWardCode(ColumnMapExpectation):
    """Expect values to be 全国地方公共団体コード with a valid check digit.

    d6 = (11 - (6*d1 + 5*d2 + 4*d3 + 3*d4 + 2*d5) mod 11) mod 10. A value that is not six
    ASCII digits has no valid check digit and is unexpected too.
    """

    map_metric = "column_values.valid_ward_code"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict[str, object]] = {
        "maturity": "experimental",
        "tags": ["dxkpi", "column map expectation"],
        "contributors": ["dxkpi"],
    }
