"""Turning one export file into a typed frame and the list of rows it had to reject."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from ingestion.common.contract import Column, DatasetContract, Kind
from ingestion.common.dates import parse_date, parse_fiscal_year
from ingestion.common.landing import LandingFile
from ingestion.common.loader import ExportIdentity
from ingestion.common.problems import ExportError, RowProblem, ValueProblem
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.text import (
    decode_export,
    normalise_code,
    normalise_header,
    parse_decimal,
    parse_integer,
)

HEADER_SEARCH_ROWS = 10
# Quoted cells may hold line breaks, but no real export has a record this long.
MAX_RECORD_LINES = 20
_STAFF_LIST_SEPARATORS = re.compile(r"[・;]")
_PANDAS_DTYPES = {
    Kind.CODE: "str",
    Kind.TEXT: "str",
    Kind.STAFF_ID: "str",
    Kind.STAFF_ID_LIST: "str",
    Kind.DATE: "datetime64[s]",
    Kind.INTEGER: "Int64",
    Kind.AMOUNT: "Int64",
    Kind.FISCAL_YEAR: "Int64",
    Kind.DECIMAL: "Float64",
}


@dataclass(frozen=True)
class ExportRead:
    """What reading one export gave.

    Attributes:
        frame: The accepted rows, typed, with the lineage columns first.
        problems: The rejected rows and why (file, line, column, rule).
        encoding: The encoding detected.
        rows_read: Data rows found in the file (accepted + rejected).
    """

    frame: pd.DataFrame
    problems: list[RowProblem]
    encoding: str
    rows_read: int


def _records_with_lines(text: str, file_name: str) -> list[tuple[int, list[str]]]:
    """Split the text into CSV records, each with the file line it starts on.

    Raises:
        ExportError: the CSV is malformed, or a record runs over more lines than a real one
            does: an unbalanced quote that would swallow the rest of the file.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            if reader.line_num - start + 1 > MAX_RECORD_LINES:
                raise ExportError(
                    f"{file_name}: the record starting at line {start} runs over "
                    f"{reader.line_num - start + 1} lines (an unbalanced quote?)"
                )
            records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as error:
        raise ExportError(f"{file_name}: line {reader.line_num}: malformed CSV ({error})") from None
    return records


def _find_header(
    records: list[tuple[int, list[str]]], contract: DatasetContract, file_name: str
) -> int:
    """Return the index of the header record: the first one naming every expected column."""
    expected = {normalise_header(column.header) for column in contract.columns}
    best_missing: set[str] = expected
    for index, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS]):
        missing = expected - {normalise_header(cell) for cell in cells}
        if not missing:
            return index
        if len(missing) < len(best_missing):
            best_missing = missing
    raise ExportError(
        f"{file_name}: no header row in the first {HEADER_SEARCH_ROWS} rows; "
        f"missing columns: {', '.join(sorted(best_missing))}"
    )


def _parser_for(column: Column, ward_code: str, pseudonyms: Pseudonymiser) -> Callable[[str], Any]:
    def staff_list(text: str) -> str | None:
        numbers = [n for n in _STAFF_LIST_SEPARATORS.split(normalise_code(text)) if n.strip()]
        return ";".join(pseudonyms.pseudonym(ward_code, n) for n in numbers) or None

    parsers: dict[Kind, Callable[[str], Any]] = {
        Kind.CODE: lambda text: normalise_code(text) or None,
        Kind.TEXT: lambda text: text.strip() or None,
        Kind.DATE: parse_date,
        Kind.INTEGER: parse_integer,
        Kind.AMOUNT: parse_integer,
        Kind.DECIMAL: parse_decimal,
        Kind.FISCAL_YEAR: parse_fiscal_year,
        Kind.STAFF_ID: lambda text: (
            pseudonyms.pseudonym(ward_code, text) if normalise_code(text) else None
        ),
        Kind.STAFF_ID_LIST: staff_list,
    }
    return parsers[column.kind]


def _parse_column(
    cells: pd.Series, parse: Callable[[str], Any]
) -> tuple[pd.Series, dict[Hashable, ValueProblem]]:
    """Parse each distinct cell once (exports repeat values a lot) and map them back."""
    parsed: dict[str, Any] = {}
    problems: dict[Hashable, ValueProblem] = {}
    for value in cells.unique():
        try:
            parsed[value] = parse(value)
        except (ValueError, OverflowError) as error:
            parsed[value] = None
            problems[value] = (
                error
                if isinstance(error, ValueProblem)
                else ValueProblem("unreadable_value", "the value cannot be read")
            )
    return cells.map(parsed), problems


def _typed(values: pd.Series, kind: Kind) -> pd.Series:
    if kind is Kind.DATE:
        as_timestamps = values.map(lambda d: pd.Timestamp(d) if isinstance(d, date) else pd.NaT)
        return as_timestamps.astype("datetime64[s]")
    return values.astype(_PANDAS_DTYPES[kind])


def lineage_frame(
    export: ExportIdentity, digest: str, source_rows: pd.Series, loaded_at: datetime
) -> pd.DataFrame:
    """The lineage columns every raw row carries: ward, reference date, source, hash, row,
    load time (one row per entry of `source_rows`)."""
    count = len(source_rows)
    return pd.DataFrame(
        {
            "ward_code": pd.Series([export.ward_code] * count, dtype="str"),
            "reference_date": pd.Series(
                [pd.Timestamp(export.reference_date)] * count, dtype="datetime64[s]"
            ),
            "source_file": pd.Series([export.name] * count, dtype="str"),
            "file_sha256": pd.Series([digest] * count, dtype="str"),
            "source_row": source_rows.reset_index(drop=True).astype("Int64"),
            "loaded_at": pd.Series([pd.Timestamp(loaded_at)] * count, dtype="datetime64[us]"),
        }
    )


def _cell_count_problems(
    file_name: str, body: list[tuple[int, list[str]]], width: int
) -> list[RowProblem]:
    return [
        RowProblem(
            file_name, line, "*", "wrong_cell_count", f"{len(cells)} cells, header has {width}"
        )
        for line, cells in body
        if len(cells) != width
    ]


def _read_column(
    column: Column,
    cells: pd.Series,
    lines: pd.Series,
    parse: Callable[[str], Any],
    file_name: str,
) -> tuple[pd.Series, list[RowProblem]]:
    values, value_problems = _parse_column(cells, parse)
    unparsed = cells.isin(list(value_problems))
    problems = [
        RowProblem(file_name, int(lines[i]), column.header, problem.rule, str(problem))
        for i in cells.index[unparsed]
        for problem in [value_problems[cells[i]]]
    ]
    if column.required:
        problems += [
            RowProblem(
                file_name, int(lines[i]), column.header, "required_value_missing", "blank cell"
            )
            for i in cells.index[values.isna() & ~unparsed]
        ]
    return _typed(values, column.kind), problems


def _add_list_counts(frame: pd.DataFrame, contract: DatasetContract) -> None:
    """Give every list of staff (`<x>_ids`) its size (`<x>_count`), e.g. a group proposal's."""
    for column in contract.kept_columns:
        if column.kind is Kind.STAFF_ID_LIST:
            count_name = column.name.removesuffix("_ids") + "_count"
            sizes = frame[column.name].map(
                lambda ids: len(ids.split(";")) if isinstance(ids, str) else 0
            )
            frame[count_name] = sizes.astype("Int64")


def read_export(
    landing_file: LandingFile,
    contract: DatasetContract,
    pseudonyms: Pseudonymiser,
    loaded_at: datetime,
    raw: bytes | None = None,
) -> ExportRead:
    """Read an export into typed rows, rejecting the rows that break a parsing rule.

    The header is found by name (a title row above it is tolerated, column order is free);
    codes and numbers are NFKC-normalised, dates parsed from any spelling incl. 和暦, staff
    numbers replaced by pseudonyms, and personal or free-text columns never read.

    Args:
        landing_file: The export to read.
        contract: What its columns are.
        pseudonyms: Replaces staff numbers.
        loaded_at: The load time recorded on every row.
        raw: The file's bytes when the caller has read them already (read here otherwise).

    Raises:
        ExportError: the file cannot be decoded or has no header with every expected column.
    """
    file_name = landing_file.name
    raw = landing_file.path.read_bytes() if raw is None else raw
    try:
        text, encoding = decode_export(raw)
    except ExportError as error:
        raise ExportError(f"{file_name}: {error}") from None
    records = _records_with_lines(text, file_name)
    header_index = _find_header(records, contract, file_name)
    header = [normalise_header(cell) for cell in records[header_index][1]]
    rows = [
        (line, cells) for line, cells in records[header_index + 1 :] if any(map(str.strip, cells))
    ]
    # A row with too few or too many cells has its values in the wrong columns: it is refused
    # as a whole, and none of its cells is parsed (nor quoted in a message).
    problems = _cell_count_problems(file_name, rows, len(header))
    body = [(line, cells) for line, cells in rows if len(cells) == len(header)]
    lines = pd.Series([line for line, _ in body], dtype="Int64")

    columns: dict[str, pd.Series] = {}
    for column in contract.kept_columns:
        position = header.index(normalise_header(column.header))
        cells = pd.Series([c[position] for _, c in body], dtype=object)
        parse = _parser_for(column, landing_file.ward_code, pseudonyms)
        columns[column.name], column_problems = _read_column(column, cells, lines, parse, file_name)
        problems += column_problems

    frame = pd.DataFrame(columns, index=lines.index)
    _add_list_counts(frame, contract)
    rejected_lines = {problem.source_row for problem in problems}
    keep = ~lines.isin(list(rejected_lines))
    accepted = frame[keep].reset_index(drop=True)
    lineage = lineage_frame(landing_file, hashlib.sha256(raw).hexdigest(), lines[keep], loaded_at)
    problems.sort(key=lambda p: (p.source_row, p.column))
    return ExportRead(pd.concat([lineage, accepted], axis=1), problems, encoding, len(rows))
