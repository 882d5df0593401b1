"""mart_skill_levels_by_item: デジタルスキルマップ levels by スキル項目 (skill item).

One table per ward x fiscal year: per skill item (S01..S22), the population members whose
latest assessment of the item in the year is at level 1, 2, 3 or 4, with the 計 (total) row;
cells under the threshold and their complements withheld by `disclosure.suppress_frame`.
"""

from typing import Any

import duckdb
import pandas as pd

from disclosure import suppress_frame
from disclosure.wide import wide_table

TOTAL = "計"
TABLE_KEYS = ["ward_code", "fiscal_year"]
SKILL_LEVELS = [1, 2, 3, 4]
# Column label of the interior cells (and of the row total) -> column of the mart.
COUNT_COLUMNS = {**{level: f"level_{level}" for level in SKILL_LEVELS}, TOTAL: "assessed"}
DTYPES = {
    "ward_code": "str",
    "fiscal_year": "Int32",
    "skill_item": "str",
    "is_total": "bool",
    "assessed": "Int64",
    "level_1": "Int64",
    "level_2": "Int64",
    "level_3": "Int64",
    "level_4": "Int64",
    "is_suppressed": "bool",
}


def model(dbt: Any, session: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The published table: suppressed counts in wide form."""
    cells = dbt.ref("int_breakdown_skill_levels_by_item").df()
    published = suppress_frame(
        cells,
        by=TABLE_KEYS,
        row="skill_item",
        column="skill_level",
        total_label=TOTAL,
        column_order=SKILL_LEVELS,
    )
    table = wide_table(published, TABLE_KEYS, "skill_item", "skill_level", COUNT_COLUMNS, TOTAL)
    return table[list(DTYPES)].astype(DTYPES)
