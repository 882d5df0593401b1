"""mart_training_completion_by_department: デジタル基礎研修 completion by 所属 (department).

One table per ward x fiscal year: the population members of each 所属コード (department code
of the roster snapshot that defines the population) who completed every mandatory デジタル基礎
course of the year and who did not, with the 計 (total) row; cells under the threshold and
their complements withheld by `disclosure.suppress_frame`.
"""

from typing import Any

import duckdb
import pandas as pd

from disclosure import suppress_frame
from disclosure.wide import percent, wide_table

TOTAL = "計"
TABLE_KEYS = ["ward_code", "fiscal_year"]
# Column label of the interior cells (and of the row total) -> column of the mart.
COUNT_COLUMNS = {"completed": "completed", "not_completed": "not_completed", TOTAL: "staff"}
DTYPES = {
    "ward_code": "str",
    "fiscal_year": "Int32",
    "department_code": "str",
    "is_total": "bool",
    "staff": "Int64",
    "completed": "Int64",
    "not_completed": "Int64",
    "completion_rate": "Float64",
    "is_suppressed": "bool",
}


def model(dbt: Any, session: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The published table: suppressed counts in wide form, the rate where its counts are."""
    cells = dbt.ref("int_breakdown_training_completion_by_department").df()
    published = suppress_frame(
        cells,
        by=TABLE_KEYS,
        row="department_code",
        column="completion_status",
        total_label=TOTAL,
        # The 計 row is the indicator's numerator and denominator, published in fct_kpi_values.
        public_total_row=True,
        column_order=["completed", "not_completed"],
    )
    table = wide_table(
        published, TABLE_KEYS, "department_code", "completion_status", COUNT_COLUMNS, TOTAL
    )
    table["completion_rate"] = percent(table["completed"], table["staff"])
    return table[list(DTYPES)].astype(DTYPES)
