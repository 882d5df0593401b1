"""Suppressed tables in the wide shape the breakdown marts publish.

`suppress_frame` returns one row per cell; a mart shows one row per table x row label (the
total row last) with one column per count, which is what these helpers build. They live here,
not beside the marts, because a dbt Python model cannot import another file of `models/`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import pandas as pd


def wide_table(
    published: pd.DataFrame,
    by: Sequence[str],
    row: str,
    column: str,
    count_columns: Mapping[Hashable, str],
    total_label: Hashable = "計",
    count: str = "people",
) -> pd.DataFrame:
    """One row per table x row label, one count column per column label.

    Args:
        published: The output of :func:`disclosure.suppress_frame`.
        by: The columns naming a table (e.g. ward and fiscal year).
        row: The row-label column.
        column: The column-label column.
        count_columns: Column label (the total label included) -> name of its mart column.
        total_label: Label of the margins.
        count: The count column of ``published``.

    Returns:
        ``by``, ``row``, one column per count (<NA> where withheld), ``is_suppressed`` (any
        count of the row withheld) and ``is_total`` (the total row); rows in the order of
        ``published``.
    """
    index = [*by, row]
    order = pd.MultiIndex.from_frame(published[index].drop_duplicates())
    counts = (
        published.pivot(index=index, columns=column, values=count)
        .reindex(index=order, columns=list(count_columns))
        .rename(columns=dict(count_columns))
    )
    counts["is_suppressed"] = published.groupby(index)["is_suppressed"].any().reindex(order)
    table = counts.reset_index()
    table.columns.name = None
    table["is_total"] = table[row] == total_label
    return table


def percent(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 * part / whole; <NA> when either count is withheld or the whole is 0: a rate of a
    withheld count would give the count back."""
    return 100 * part.astype("Float64") / whole.astype("Float64").replace(0, pd.NA)
