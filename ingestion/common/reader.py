"""Turning one export file into a typed frame and the list of rows it had to reject."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from ingestion.common.contract import Column, DatasetContract, Kind, list_count_name
from ingestion.common.dates import parse_date, parse_datetime, parse_fiscal_year
from ingestion.common.landing import LandingFile
from ingestion.common.loader import ExportIdentity
from ingestion.common.problems import WARNING, ExportError, Finding, RowProblem, ValueProblem
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.text import (
    check_is_text,
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
# What may stand between two numbers in one cell (a group ID, or a list where one is expected).
_ANY_SEPARATOR = re.compile(r"[・;,、/\s]+")
# 職員番号 as the wards' HR systems issue them. sources.md names the column but not its shape;
# a ward whose numbers look otherwise sets DXKPI_STAFF_NUMBER_PATTERN (a regular expression).
DEFAULT_STAFF_NUMBER_PATTERN = r"[0-9]{6}"
# A header is taken for the header, even with columns missing, when it names this many.
MIN_HEADER_MATCHES = 2
_OTHER_DELIMITERS = {"\t": "tabs", ";": "semicolons", "|": "vertical bars"}
_PANDAS_DTYPES = {
    Kind.CODE: "str",
    Kind.TEXT: "str",
    Kind.STAFF_ID: "str",
    Kind.STAFF_ID_LIST: "str",
    Kind.DATE: "datetime64[s]",
    Kind.TIMESTAMP: "datetime64[s]",
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
        warnings: What loads but deserves a look, e.g. a column the contract does not know.
    """

    frame: pd.DataFrame
    problems: list[RowProblem]
    encoding: str
    rows_read: int
    warnings: list[Finding] = field(default_factory=list)


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
                    f"{reader.line_num - start + 1} lines (an unbalanced quote?)",
                    rule="unbalanced_quote",
                    line=start,
                )
            records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as error:
        raise ExportError(
            f"{file_name}: line {reader.line_num}: malformed CSV ({error})",
            rule="malformed_csv",
            line=reader.line_num,
        ) from None
    return records


@dataclass(frozen=True)
class _Header:
    index: int  # of the header record
    cells: list[str]  # normalised
    warnings: list[Finding]


def _find_header(
    records: list[tuple[int, list[str]]], contract: DatasetContract, text: str, file_name: str
) -> _Header:
    """Find the header record: the first one naming every column the warehouse reads.

    A title row above it is tolerated and column order is free. Columns the contract does
    not know load with a warning (schema drift); a missing column that is never read (a name
    column) is a warning too.

    Raises:
        ExportError: no header in the first rows, naming the cause: another delimiter, a
            column renamed or missing (which one), or no row looking like a header at all.
    """
    expected = {normalise_header(column.header): column for column in contract.columns}
    read = {name for name, column in expected.items() if column.kind is not Kind.DROPPED}
    best: tuple[int, int] | None = None  # (matches, index)
    for index, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS]):
        names = [normalise_header(cell) for cell in cells]
        if read <= set(names):
            return _Header(index, names, _header_warnings(names, expected, contract))
        matches = len(expected.keys() & set(names))
        if best is None or matches > best[0]:
            best = (matches, index)
    if best is not None and best[0] >= MIN_HEADER_MATCHES:
        line, cells = records[best[1]]
        names = [normalise_header(cell) for cell in cells]
        raise _incomplete_header(file_name, line, names, read, expected)
    _refuse_other_delimiter(text, expected, contract, file_name)
    raise ExportError(
        f"{file_name}: header not found: no row among the first {HEADER_SEARCH_ROWS} names the "
        f"columns of {contract.system}/{contract.dataset} "
        f"({', '.join(column.header for column in contract.columns)})",
        rule="header_not_found",
    )


def _header_warnings(
    names: list[str], expected: dict[str, Column], contract: DatasetContract
) -> list[Finding]:
    dataset = f"{contract.system}/{contract.dataset}"
    warnings = [
        Finding(
            None,
            name,
            "unexpected_column",
            WARNING,
            f"column {name} is not in the contract of {dataset}: not read (schema drift)",
        )
        for name in dict.fromkeys(names)
        if name and name not in expected
    ]
    warnings += [
        Finding(
            None,
            name,
            "unread_column_missing",
            WARNING,
            f"column {name} is missing; it is never read, so the file loads",
        )
        for name in expected
        if name not in names
    ]
    return warnings


def _incomplete_header(
    file_name: str, line: int, names: list[str], read: set[str], expected: dict[str, Column]
) -> ExportError:
    """The refusal of a header that names some expected columns but not all that are read."""
    missing = [name for name in expected if name in read and name not in names]
    unknown = [name for name in dict.fromkeys(names) if name and name not in expected]
    listed = ", ".join(missing)
    if len(missing) == 1 and len(unknown) == 1:
        return ExportError(
            f"{file_name}: header on line {line}: column {missing[0]} is missing and "
            f"{unknown[0]} is not a column of the export: renamed? (expected {missing[0]})",
            rule="header_column_renamed",
            line=line,
        )
    extra = f"; unknown column(s): {', '.join(unknown)}" if unknown else ""
    return ExportError(
        f"{file_name}: header on line {line}: missing column(s) {listed}{extra}",
        rule="header_column_missing",
        line=line,
    )


def _refuse_other_delimiter(
    text: str, expected: dict[str, Column], contract: DatasetContract, file_name: str
) -> None:
    """Raise when the header is there but its cells are separated by something else."""
    for number, line in enumerate(text.splitlines()[:HEADER_SEARCH_ROWS], start=1):
        for delimiter, name in _OTHER_DELIMITERS.items():
            cells = {normalise_header(cell) for cell in line.split(delimiter)}
            if len(expected.keys() & cells) >= MIN_HEADER_MATCHES:
                raise ExportError(
                    f"{file_name}: wrong delimiter: the header on line {number} is separated "
                    f"by {name}; {contract.system}/{contract.dataset} exports are comma-separated",
                    rule="wrong_delimiter",
                    line=number,
                )


def _refuse_truncated_last_row(
    text: str, records: list[tuple[int, list[str]]], width: int, file_name: str
) -> None:
    """A file that ends in the middle of a row was cut off while it was copied: refuse it.

    Without a final line break and one cell short or with an open quote, the last row is
    not a row the source system wrote.
    """
    if not records or text.endswith(("\n", "\r")):
        return
    line, cells = records[-1]
    if len(cells) < width or text.count('"') % 2:
        raise ExportError(
            f"{file_name}: truncated last row: the file ends inside the row on line {line} "
            f"({len(cells)} of {width} cells, no final line break): an interrupted copy?",
            rule="truncated_last_row",
            line=line,
        )


def staff_number_pattern() -> re.Pattern[str]:
    """The shape of a 職員番号 (DXKPI_STAFF_NUMBER_PATTERN, six digits by default)."""
    return re.compile(os.environ.get("DXKPI_STAFF_NUMBER_PATTERN", DEFAULT_STAFF_NUMBER_PATTERN))


def _checked_staff_number(number: str, shape: re.Pattern[str]) -> str:
    if shape.fullmatch(number):
        return number
    parts = [part for part in _ANY_SEPARATOR.split(number) if part]
    if len(parts) > 1 and all(shape.fullmatch(part) for part in parts):
        raise ValueProblem(
            "several_staff_numbers",
            f"the cell holds {len(parts)} staff numbers where one is expected (a group ID?): "
            "refused rather than counted as one person",
        )
    raise ValueProblem(
        "staff_number_shape", f"not a staff number of the expected shape ({shape.pattern})"
    )


def _parser_for(column: Column, ward_code: str, pseudonyms: Pseudonymiser) -> Callable[[str], Any]:
    shape = staff_number_pattern()

    def staff_number(text: str) -> str | None:
        number = normalise_code(text)
        if not number:
            return None
        return pseudonyms.pseudonym(ward_code, _checked_staff_number(number, shape))

    def staff_list(text: str) -> str | None:
        numbers = [n for n in _STAFF_LIST_SEPARATORS.split(normalise_code(text)) if n.strip()]
        checked = [_checked_staff_number(n.strip(), shape) for n in numbers]
        return ";".join(pseudonyms.pseudonym(ward_code, n) for n in checked) or None

    parsers: dict[Kind, Callable[[str], Any]] = {
        Kind.CODE: lambda text: normalise_code(text) or None,
        Kind.TEXT: lambda text: text.strip() or None,
        Kind.DATE: parse_date,
        Kind.TIMESTAMP: parse_datetime,
        Kind.INTEGER: parse_integer,
        Kind.AMOUNT: parse_integer,
        Kind.DECIMAL: parse_decimal,
        Kind.FISCAL_YEAR: parse_fiscal_year,
        Kind.STAFF_ID: staff_number,
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
    if kind in (Kind.DATE, Kind.TIMESTAMP):
        # datetime is a subclass of date: both become Timestamps, a blank NaT.
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
            count_name = list_count_name(column.name)
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
        ExportError: the file is empty, binary, undecodable, cut off, or has no header with
            every column read; the error's `rule` and message name which.
    """
    file_name = landing_file.name
    raw = landing_file.path.read_bytes() if raw is None else raw
    try:
        check_is_text(raw)
        text, encoding = decode_export(raw)
    except ExportError as error:
        raise ExportError(f"{file_name}: {error}", error.rule, error.line) from None
    records = _records_with_lines(text, file_name)
    found = _find_header(records, contract, text, file_name)
    header = found.cells
    rows = [
        (line, cells) for line, cells in records[found.index + 1 :] if any(map(str.strip, cells))
    ]
    _refuse_truncated_last_row(text, rows, len(header), file_name)
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
    frame = pd.concat([lineage, accepted], axis=1)
    return ExportRead(frame, problems, encoding, len(rows), found.warnings)
