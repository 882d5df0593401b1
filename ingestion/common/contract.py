"""Contracts: how an export's Japanese columns map to typed warehouse columns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """How a column's cells are read."""

    CODE = "code"  # NFKC-normalised text: codes, categories, numbers kept as text
    TEXT = "text"  # trimmed only: names of things (所属名, コース名), never of people
    DATE = "date"
    TIMESTAMP = "timestamp"  # a date and a time of day (回答日時); the time may be left out
    INTEGER = "integer"
    DECIMAL = "decimal"
    AMOUNT = "amount"  # yen, may carry ¥, 円 and separators
    FISCAL_YEAR = "fiscal_year"  # 2025, 令和7年度, R7
    STAFF_ID = "staff_id"  # 職員番号: replaced by a keyed pseudonym
    STAFF_ID_LIST = "staff_id_list"  # several 職員番号 separated by ・ or ;
    DROPPED = "dropped"  # personal data or free text: never read into the warehouse


# The warehouse type of each kind's column (a dropped column has none).
SQL_TYPE_OF_KIND: dict[Kind, str] = {
    Kind.CODE: "varchar",
    Kind.TEXT: "varchar",
    Kind.DATE: "date",
    Kind.TIMESTAMP: "timestamp",
    Kind.INTEGER: "integer",
    Kind.DECIMAL: "double",
    Kind.AMOUNT: "bigint",
    Kind.FISCAL_YEAR: "integer",
    Kind.STAFF_ID: "varchar",
    Kind.STAFF_ID_LIST: "varchar",
}


@dataclass(frozen=True)
class Column:
    """One column of an export.

    Attributes:
        header: The header as exported (Japanese).
        name: The warehouse column name, empty for a dropped column.
        kind: How cells are read.
        required: A row with this cell blank is rejected.
    """

    header: str
    name: str
    kind: Kind
    required: bool = False


@dataclass(frozen=True)
class DatasetContract:
    """What one dataset of one source system exports.

    Attributes:
        system: The source system's landing folder (hr, training, proposals).
        dataset: The dataset's name in the file name (staff, course...).
        columns: The export's columns, in any order in the file.
        key: Warehouse columns identifying a record within a ward (and reference date
            for a full snapshot).
        full_snapshot: The export lists every record in force on its reference date.
        may_be_empty: An export with a header and no row is a real answer ("nothing"), not a
            broken file: a register with no project yet, a survey nobody answered.
    """

    system: str
    dataset: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    full_snapshot: bool = False
    may_be_empty: bool = False

    @property
    def table(self) -> str:
        """The raw table name, e.g. `training_enrollment`."""
        return f"{self.system}_{self.dataset}"

    @property
    def kept_columns(self) -> tuple[Column, ...]:
        """The columns that reach the warehouse."""
        return tuple(column for column in self.columns if column.kind is not Kind.DROPPED)

    @property
    def warehouse_columns(self) -> list[tuple[str, str]]:
        """(name, warehouse type) of the raw table's own columns, in the export's order.

        A list of staff numbers (`<x>_ids`) is followed by its size (`<x>_count`).
        """
        columns: list[tuple[str, str]] = []
        for column in self.kept_columns:
            columns.append((column.name, SQL_TYPE_OF_KIND[column.kind]))
            if column.kind is Kind.STAFF_ID_LIST:
                columns.append((list_count_name(column.name), "integer"))
        return columns


def list_count_name(list_name: str) -> str:
    """The column counting the staff of a list column: `proposer_ids` -> `proposer_count`."""
    return list_name.removesuffix("_ids") + "_count"
