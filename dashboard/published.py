"""Reading a publication: the marts, dq and meta tables of the serving file, read-only.

Everything is read once into plain rows (dicts) and small dataclasses; the pages then only
arrange them. Only `marts.mart_kpi_scorecard` is required: the other tables are shown where
they were published and said to be missing where they were not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

Row = dict[str, Any]

SCORECARD = "marts.mart_kpi_scorecard"
BENCHMARK = "marts.mart_ward_benchmark"
DIM_INDICATOR = "marts.dim_indicator"
WARD_STATUS = "dq.ward_dataset_status"
FILE_OUTCOMES = "dq.file_outcomes"
INCIDENTS = "dq.incidents"
PUBLICATION = "meta.publication"


@dataclass(frozen=True)
class Indicator:
    """An indicator as the dashboard lists it (from the scorecard's label columns)."""

    indicator_id: str
    name_ja: str
    name_en: str
    measure: str
    measure_name_ja: str
    measure_name_en: str
    tier: str
    display_order: int
    unit: str
    direction: str
    catalogue_target: float | None = None


@dataclass(frozen=True)
class Ward:
    """A ward as the scorecard names it."""

    code: str
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class PublicationInfo:
    """What a viewer needs to know about the publication they look at.

    Attributes:
        published_at: When the publication was written (meta.publication).
        run_ids: The runs that published (one in practice).
        release_id: The release directory's id, when meta.publication carries one.
        table_rows: Rows per published table.
    """

    published_at: datetime | None
    run_ids: tuple[str, ...]
    release_id: str | None
    table_rows: dict[str, int]


@dataclass
class Published:
    """The content of one serving file, as the dashboard reads it."""

    publication: PublicationInfo
    scorecard: list[Row]
    benchmark: list[Row] | None
    ward_status: list[Row] | None
    file_outcomes: list[Row] | None
    incidents: list[Row] | None
    breakdowns: dict[str, list[Row]] = field(default_factory=dict)
    catalogue_targets: dict[str, float | None] = field(default_factory=dict)
    # breakdowns grouped by ward, per mart, on first use (see `breakdown_rows`)
    _by_ward: dict[str, dict[str, list[Row]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def fiscal_years(self) -> list[int]:
        """The scorecard's fiscal years, oldest first."""
        return sorted({row["fiscal_year"] for row in self.scorecard})

    @property
    def latest_fiscal_year(self) -> int | None:
        """The newest fiscal year of the scorecard (it may still be provisional)."""
        years = self.fiscal_years
        return years[-1] if years else None

    def indicators(self) -> list[Indicator]:
        """Every indicator of the scorecard, in the catalogue's display order."""
        seen: dict[str, Indicator] = {}
        for row in self.scorecard:
            if row["indicator_id"] not in seen:
                seen[row["indicator_id"]] = _indicator(row, self.catalogue_targets)
        return sorted(seen.values(), key=lambda i: (i.display_order, i.indicator_id))

    def breakdown_rows(self, table: str, ward_code: str) -> list[Row]:
        """The rows of one breakdown mart for one ward. The mart is grouped by ward once:
        filtering it for each ward's page cost time quadratic in the wards (200
        municipalities: most of a publication)."""
        if table not in self._by_ward:
            grouped: dict[str, list[Row]] = {}
            for row in self.breakdowns.get(table, []):
                grouped.setdefault(row["ward_code"], []).append(row)
            self._by_ward[table] = grouped
        return self._by_ward[table].get(ward_code, [])

    def wards(self) -> list[Ward]:
        """Every ward of the scorecard, in ward-code order (千代田区 first)."""
        seen = {
            row["ward_code"]: Ward(row["ward_code"], row["ward_name_ja"], row["ward_name_en"])
            for row in self.scorecard
        }
        return [seen[code] for code in sorted(seen)]

    def as_of_range(self, fiscal_year: int) -> tuple[date | None, date | None]:
        """The oldest and newest as-of date among the wards' values of a fiscal year."""
        dates = [
            row["as_of_date"]
            for row in self.scorecard
            if row["fiscal_year"] == fiscal_year and row.get("as_of_date") is not None
        ]
        return (min(dates), max(dates)) if dates else (None, None)


def _indicator(row: Row, catalogue_targets: dict[str, float | None]) -> Indicator:
    return Indicator(
        indicator_id=row["indicator_id"],
        name_ja=row["indicator_name_ja"],
        name_en=row.get("indicator_name_en") or "",
        measure=str(row.get("measure") or ""),
        measure_name_ja=row.get("measure_name_ja") or "",
        measure_name_en=row.get("measure_name_en") or "",
        tier=row.get("tier") or "",
        display_order=int(row.get("display_order") or 0),
        unit=row.get("unit") or "count",
        direction=row.get("direction") or "higher_is_better",
        catalogue_target=catalogue_targets.get(row["indicator_id"]),
    )


# Breakdown marts: schema-qualified name -> the columns that order its rows.
BREAKDOWN_TABLES = (
    "marts.mart_training_completion_by_grade",
    "marts.mart_training_completion_by_department",
    "marts.mart_skill_levels_by_item",
    "marts.mart_staff_satisfaction_by_grade",
)


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    return {name for (name,) in rows}


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[Row]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _optional(
    con: duckdb.DuckDBPyConnection, tables: set[str], table: str, order_by: str = ""
) -> list[Row] | None:
    if table not in tables:
        return None
    return _rows(con, f"select * from {table} {order_by}")


def _publication(rows: Iterable[Row]) -> PublicationInfo:
    rows = list(rows)
    stamps = [row["published_at"] for row in rows if row.get("published_at") is not None]
    run_ids = sorted({str(row["run_id"]) for row in rows if row.get("run_id")})
    releases = sorted({str(row["release_id"]) for row in rows if row.get("release_id")})
    return PublicationInfo(
        published_at=max(stamps) if stamps else None,
        run_ids=tuple(run_ids),
        release_id=releases[-1] if releases else None,
        table_rows={
            str(row["table_name"]): int(row["row_count"])
            for row in rows
            if row.get("table_name") is not None and row.get("row_count") is not None
        },
    )


def _catalogue_targets(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dict[str, float | None]:
    if DIM_INDICATOR not in tables:
        return {}
    rows = con.execute(f"select indicator_id, target_value from {DIM_INDICATOR}").fetchall()
    return {indicator_id: target for indicator_id, target in rows}


class NothingPublishedYet(ValueError):
    """The scorecard exists but holds no row: no export has been loaded yet."""


def read_published(serving_file: Path) -> Published:
    """Read everything the dashboard shows from a serving file, read-only.

    Args:
        serving_file: The published DuckDB file (schemas marts, dq, meta).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file has no `marts.mart_kpi_scorecard`.
        NothingPublishedYet: it is empty.
    """
    if not serving_file.is_file():
        raise FileNotFoundError(f"no serving file at {serving_file}")
    with duckdb.connect(str(serving_file), read_only=True) as con:
        tables = _existing_tables(con)
        if SCORECARD not in tables:
            raise ValueError(f"{serving_file} has no {SCORECARD}: nothing to show")
        if not con.execute(f"select count(*) from {SCORECARD}").fetchone()[0]:
            raise NothingPublishedYet(f"{SCORECARD} of {serving_file} is empty: nothing to show")
        return Published(
            publication=_publication(_optional(con, tables, PUBLICATION) or []),
            scorecard=_rows(
                con, f"select * from {SCORECARD} order by fiscal_year, ward_code, indicator_id"
            ),
            benchmark=_optional(con, tables, BENCHMARK, "order by indicator_id, fiscal_year, rank"),
            ward_status=_optional(con, tables, WARD_STATUS, "order by dataset, ward_code"),
            file_outcomes=_optional(con, tables, FILE_OUTCOMES, "order by dataset, path"),
            incidents=_optional(con, tables, INCIDENTS, "order by opened_at desc nulls last, id"),
            breakdowns={
                table: rows
                for table in BREAKDOWN_TABLES
                if (rows := _optional(con, tables, table)) is not None
            },
            catalogue_targets=_catalogue_targets(con, tables),
        )
