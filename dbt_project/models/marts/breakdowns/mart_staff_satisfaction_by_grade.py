"""mart_staff_satisfaction_by_grade: 職員のデジタル業務環境満足度 by 職層区分 (grade class).

One table per ward x fiscal year: the staff-survey answers the KGI counts, per grade class of
the survey, satisfied (4 or 5 on 1-5) or not, with the 計 (total) row; cells under the threshold
and their complements withheld by `disclosure.suppress_frame`.
"""

from typing import Any

import duckdb
import pandas as pd

from disclosure import suppress_frame
from disclosure.wide import percent, wide_table

TOTAL = "計"
TABLE_KEYS = ["ward_code", "fiscal_year"]
# Column label of the interior cells (and of the row total) -> column of the mart.
COUNT_COLUMNS = {"satisfied": "satisfied", "not_satisfied": "not_satisfied", TOTAL: "respondents"}
DTYPES = {
    "ward_code": "str",
    "fiscal_year": "Int32",
    "grade_class": "str",
    "is_total": "bool",
    "respondents": "Int64",
    "satisfied": "Int64",
    "not_satisfied": "Int64",
    "satisfied_share": "Float64",
    "is_suppressed": "bool",
}


def model(dbt: Any, session: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The published table: suppressed counts in wide form, the share where its counts are."""
    cells = dbt.ref("int_breakdown_staff_satisfaction_by_grade_class").df()
    published = suppress_frame(
        cells,
        by=TABLE_KEYS,
        row="grade_class",
        column="satisfaction_class",
        total_label=TOTAL,
        # The 計 row is the indicator's numerator and denominator, published in fct_kpi_values.
        public_total_row=True,
        column_order=["satisfied", "not_satisfied"],
    )
    table = wide_table(
        published, TABLE_KEYS, "grade_class", "satisfaction_class", COUNT_COLUMNS, TOTAL
    )
    table["satisfied_share"] = percent(table["satisfied"], table["respondents"])
    return table[list(DTYPES)].astype(DTYPES)
