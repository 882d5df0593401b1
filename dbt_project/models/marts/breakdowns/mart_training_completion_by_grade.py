"""mart_training_completion_by_grade: デジタル基礎研修 completion by 職層 (grade).

One table per ward x fiscal year: the population members of each grade who completed every
mandatory デジタル基礎 course of the year and who did not, with the 計 (total) row; cells under
the threshold and their complements withheld by `disclosure.suppress_frame`.

One more sum of this table is public: fct_kpi_values prints the number of staff at 係長級 and
above (the denominator of m2_ksi_certified_dx_leader_ratio), so the staff of those grades add
up to a known number, and so do the staff of the other grades. The two groups of grades are
therefore first protected as tables of their own, their margins taken as known (a stronger
intruder than the real one), and what they withhold is forced into the table of all grades.

The 計 row is public too (the indicator's numerator and denominator): it is never withheld,
and the grades are protected knowing it.
"""

from collections.abc import Hashable
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
    "grade": "str",
    "grade_rank": "Int32",
    "is_total": "bool",
    "staff": "Int64",
    "completed": "Int64",
    "not_completed": "Int64",
    "completion_rate": "Float64",
    "is_suppressed": "bool",
}


def model(dbt: Any, session: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The published table: suppressed counts in wide form, the rate where its counts are."""
    cells = dbt.ref("int_breakdown_training_completion_by_grade").df()
    ranks = cells.drop_duplicates("grade").set_index("grade")["grade_rank"]
    layout = {
        "row": "grade",
        "column": "completion_status",
        "total_label": TOTAL,
        "row_order": grades_by_rank(ranks),
        "column_order": ["completed", "not_completed"],
    }
    by_group = suppress_frame(cells, by=[*TABLE_KEYS, "is_kakaricho_plus"], **layout)
    withheld_in_groups = by_group[by_group["is_suppressed"] & (by_group["grade"] != TOTAL)]
    published = suppress_frame(
        cells.drop(columns=["grade_rank", "is_kakaricho_plus"]),
        by=TABLE_KEYS,
        forced=withheld_in_groups[[*TABLE_KEYS, "grade", "completion_status"]],
        public_total_row=True,
        **layout,
    )
    table = wide_table(published, TABLE_KEYS, "grade", "completion_status", COUNT_COLUMNS, TOTAL)
    table["grade_rank"] = table["grade"].map(ranks)
    table["completion_rate"] = percent(table["completed"], table["staff"])
    return table[list(DTYPES)].astype(DTYPES)


def grades_by_rank(ranks: pd.Series) -> list[Hashable]:
    """Grades from 係員 up to 部長級 (grade_levels), then the unmapped ones by name."""
    frame = ranks.rename("grade_rank").reset_index()
    frame["unmapped"] = frame["grade_rank"].isna()
    return frame.sort_values(["unmapped", "grade_rank", "grade"])["grade"].tolist()
