"""Turning one export file into a typed frame and the list of rows it had to reject."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
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


# What str.strip() removes: the characters str.isspace() accepts (none above U+3000, the
# ideographic space), and a last entry, False, standing for every code point above.
_IS_SPACE = np.array([chr(code).isspace() for code in range(0x3001)] + [False])
_CR, _LF, _QUOTE, _COMMA = (ord(char) for char in '\r\n",')
# Below this many characters the csv module is quicker than setting up a columnar parse.
COLUMNAR_MIN_CHARS = 32_768


@dataclass(frozen=True)
class _Records:
    """The records of an export, as arrays with one entry per record.

    Attributes:
        lines: The file line each record starts on.
        widths: How many cells each record has.
        blank: Whether every cell of the record is blank.
        head: The first records with their cells (for finding the header).
        cells: Given cell positions and record indices, the cells there, one array per position
            (every record asked for has a cell at every position asked for).
    """

    lines: np.ndarray
    widths: np.ndarray
    blank: np.ndarray
    head: list[tuple[int, list[str]]]
    cells: Callable[[list[int], np.ndarray], list[np.ndarray]]


def _split_records(text: str, file_name: str) -> _Records:
    """Split the text into records, column by column when that is safe, else record by record.

    Raises:
        ExportError: as `_records_with_lines`.
    """
    columnar = _records_by_columns(text, file_name) if len(text) >= COLUMNAR_MIN_CHARS else None
    return columnar or _records_by_rows(text, file_name)


def _records_by_rows(text: str, file_name: str) -> _Records:
    """The records as the csv module splits them: any CSV, a quoted cell over lines included.

    Raises:
        ExportError: as `_records_with_lines`.
    """
    records = _records_with_lines(text, file_name)

    def cells(positions: list[int], rows: np.ndarray) -> list[np.ndarray]:
        chosen = [records[row][1] for row in rows.tolist()]
        return [_object_array([record[p] for record in chosen]) for p in positions]

    return _Records(
        lines=np.array([line for line, _ in records], dtype=np.int64),
        widths=np.array([len(record) for _, record in records], dtype=np.int64),
        blank=np.array([not any(map(str.strip, record)) for _, record in records], dtype=bool),
        head=records[:HEADER_SEARCH_ROWS],
        cells=cells,
    )


def _object_array(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


@dataclass(frozen=True)
class _LineLayout:
    """Where each line of a text starts and stops (its line break excluded), and its shape."""

    starts: np.ndarray
    stops: np.ndarray
    widths: np.ndarray
    blank: np.ndarray


def _line_layout(text: str) -> _LineLayout | None:
    """Measure every line of a text of one-line records with array operations, or None when
    a record may run over lines or a quote stands where a strict CSV writer puts none.

    Line breaks are what the csv module takes for them: CRLF, LF or a lone CR. A record's
    cells are one more than its commas outside quotes (none for an empty line); it is blank
    when nothing but spaces, delimiters and the quotes around cells is left. With strict
    quoting a character is inside quotes when an odd number of quotes comes before it.
    """
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lf, cr = codes == _LF, codes == _CR
    ends = lf | cr
    quotes = np.flatnonzero(codes == _QUOTE)
    doubled = _strict_quotes(codes, quotes, np.flatnonzero(ends))
    if doubled is None:
        return None
    ends[:-1] &= ~(cr[:-1] & lf[1:])  # the CR of a CRLF does not end the line: its LF does
    last = np.flatnonzero(ends)  # the last character of every line break
    crlf = np.zeros(last.size, dtype=bool)
    after_first = last > 0
    crlf[after_first] = lf[last[after_first]] & cr[last[after_first] - 1]
    starts, stops = np.r_[0, last + 1], np.r_[last + 1 - (1 + crlf), codes.size]
    if codes.size == 0 or ends[-1]:  # nothing after the last line break: no record there
        starts, stops = starts[:-1], stops[:-1]
    if starts.size == 0:
        return _LineLayout(starts, stops, starts.copy(), np.zeros(0, dtype=bool))
    delimiters = codes == _COMMA
    filled = ~_IS_SPACE.take(np.minimum(codes, _IS_SPACE.size - 1))
    if quotes.size:
        commas = np.flatnonzero(delimiters)
        delimiters[commas[np.searchsorted(quotes, commas) % 2 == 1]] = False
        filled[quotes] = False
        filled[doubled] = True  # a quote in the cell
    filled &= ~delimiters
    # Each segment from a line's start to the next one's holds the line and its line break
    # (never a delimiter, never filled): sums per segment are sums per line.
    widths = np.add.reduceat(delimiters, starts, dtype=np.int64) + 1
    widths[stops == starts] = 0
    return _LineLayout(starts, stops, widths, ~np.logical_or.reduceat(filled, starts))


def _strict_quotes(codes: np.ndarray, quotes: np.ndarray, breaks: np.ndarray) -> np.ndarray | None:
    """Check that every quote is where a strict CSV writer puts them, on one line.

    That is: quoted cells open right after a delimiter or a line start, close right before
    one or a line end, double the quotes inside them and hold no line break. Counting quotes
    from the start then tells each one's part: after an even number a quote opens a cell (or
    is the second of a doubled one), after an odd number it closes the cell unless another
    follows (the first of a doubled one).

    Returns:
        The positions of the first quotes of doubled ones (a quote in a cell's text), or None
        when a quote is anywhere else.
    """
    if quotes.size == 0:
        return quotes
    if quotes.size % 2 or (np.searchsorted(quotes, breaks) % 2).any():
        return None  # a quote left open, or a line break inside quotes
    size, edges = codes.size, [_COMMA, _CR, _LF]
    odd, even = quotes[1::2], quotes[0::2]
    after = np.where(odd + 1 < size, codes[np.minimum(odd + 1, size - 1)], _LF)
    doubled = after == _QUOTE
    second = np.r_[False, even[1:] == odd[:-1] + 1]  # the second quote of a doubled one
    opening = even[~second]
    before = np.where(opening > 0, codes[np.maximum(opening - 1, 0)], _LF)
    if not (np.isin(after[~doubled], edges).all() and np.isin(before, edges).all()):
        return None
    return odd[doubled]


def _records_by_columns(text: str, file_name: str) -> _Records | None:
    """The records split by a columnar C parser, or None when that could split otherwise.

    Safe when every record is one line of strict CSV (no quoted cell holding a line break,
    no stray quote), no NUL and no line longer than the csv module's field limit (it would
    refuse the file): then record i is line i + 1, the csv module and pandas' C parser give
    the same cells, and line numbers stay exact.
    """
    layout = _line_layout(text) if text and "\x00" not in text else None
    if layout is None:
        return None
    count = layout.starts.size
    if count and int((layout.stops - layout.starts).max()) > csv.field_size_limit():
        return None
    head_end = layout.starts[HEADER_SEARCH_ROWS] if count > HEADER_SEARCH_ROWS else len(text)
    head = list(csv.reader(io.StringIO(text[:head_end], newline="")))
    if len(head) != min(count, HEADER_SEARCH_ROWS):
        return None

    def cells(positions: list[int], rows: np.ndarray) -> list[np.ndarray]:
        table = _parse_columns(text, positions, int(layout.widths.max(initial=1)))
        if table is None or len(table) != count:  # never seen: the csv module decides
            return _records_by_rows(text, file_name).cells(positions, rows)
        return [table[p].to_numpy(dtype=object)[rows] for p in positions]

    return _Records(
        lines=np.arange(1, count + 1, dtype=np.int64),
        widths=layout.widths,
        blank=layout.blank,
        head=list(enumerate(head, start=1)),
        cells=cells,
    )


def _parse_columns(text: str, positions: list[int], width: int) -> pd.DataFrame | None:
    """Parse the cells at `positions` of every line, as text, blank lines included."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            engine="c",
            header=None,
            names=range(width),
            usecols=positions,
            index_col=False,
            dtype=object,
            na_filter=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
            doublequote=True,
        )
    except ValueError:  # pandas' ParserError included: the csv module decides then
        return None


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
    text: str, last: tuple[int, int] | None, width: int, file_name: str
) -> None:
    """A file that ends in the middle of a row was cut off while it was copied: refuse it.

    Without a final line break and one cell short or with an open quote, the last row is
    not a row the source system wrote.

    Args:
        text: The decoded export.
        last: The line and cell count of the last non-blank row under the header, if any.
        width: The header's cell count.
        file_name: Named in the error.
    """
    if last is None or text.endswith(("\n", "\r")):
        return
    line, cells = last
    if cells < width or text.count('"') % 2:
        raise ExportError(
            f"{file_name}: truncated last row: the file ends inside the row on line {line} "
            f"({cells} of {width} cells, no final line break): an interrupted copy?",
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


@dataclass(frozen=True)
class _ParsedColumn:
    """A column parsed once per distinct cell.

    Attributes:
        codes: For each row, the index of its cell among the distinct cells.
        typed: The typed value of each distinct cell.
        rejected: For each row, whether the column rejects it (unreadable, or required and
            blank).
    """

    codes: np.ndarray
    typed: pd.Series
    rejected: np.ndarray

    def rows(self, keep: np.ndarray) -> pd.Series:
        """The typed values of the rows kept."""
        return self.typed.take(self.codes[keep]).reset_index(drop=True)


def _parse_distinct(
    distinct: np.ndarray, parse: Callable[[str], Any]
) -> tuple[dict[str, Any], dict[str, ValueProblem]]:
    """Parse each distinct cell once (exports repeat values a lot)."""
    parsed: dict[str, Any] = {}
    problems: dict[str, ValueProblem] = {}
    for value in distinct.tolist():
        try:
            parsed[value] = parse(value)
        except (ValueError, OverflowError) as error:
            parsed[value] = None
            problems[value] = (
                error
                if isinstance(error, ValueProblem)
                else ValueProblem("unreadable_value", "the value cannot be read")
            )
    return parsed, problems


_UNIX_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _instants(values: list[date | None]) -> np.ndarray:
    """Dates (or datetimes, their subclass) as instants to the second, a blank as NaT: what a
    Timestamp per value gave, built as arrays."""
    if all(type(value) is date or value is None for value in values):
        # numpy reads date objects one by one, slowly: days since 1970 are one array.
        days = [value.toordinal() - _UNIX_EPOCH_DAY if value else 0 for value in values]
        instants = np.array(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[s]")
        instants[np.array([value is None for value in values], dtype=bool)] = np.datetime64("NaT")
        return instants
    return np.array(values, dtype="datetime64[s]")


def _typed_distinct(
    distinct: np.ndarray, parsed: dict[str, Any], kind: Kind
) -> tuple[pd.Series, np.ndarray]:
    """The typed value of each distinct cell, and whether it is blank (missing).

    Each distinct cell gets the value it always got when whole columns were typed. Numbers
    still take that path: mapping the cells through `parsed`, whose values set the dtype on
    the way (whole numbers beside a blank pass through floats), then the column's dtype.
    """
    if kind in (Kind.DATE, Kind.TIMESTAMP):
        typed = pd.Series(_instants([parsed[value] for value in distinct.tolist()]))
        return typed, typed.isna().to_numpy(dtype=bool)
    if _PANDAS_DTYPES[kind] == "str":
        # Text or None: the mapping's dtype cannot matter, straight to the column's dtype.
        values = _object_array([parsed[value] for value in distinct.tolist()])
        typed = pd.Series(values, dtype="str")
        return typed, typed.isna().to_numpy(dtype=bool)
    values = pd.Series(distinct, dtype=object).map(parsed)
    return values.astype(_PANDAS_DTYPES[kind]), values.isna().to_numpy(dtype=bool)


def _read_column(
    column: Column,
    cells: np.ndarray,
    lines: np.ndarray,
    parse: Callable[[str], Any],
    file_name: str,
) -> tuple[_ParsedColumn, list[RowProblem]]:
    """Parse and type a column's cells, naming the rows it rejects and why.

    Everything per row is array work: parsing, typing and checking happen on the distinct
    cells, and rows only pick their cell's results by index.
    """
    codes, distinct = pd.factorize(cells)
    parsed, value_problems = _parse_distinct(distinct, parse)
    typed, empty = _typed_distinct(distinct, parsed, column.kind)
    unreadable = np.array([value in value_problems for value in distinct.tolist()], dtype=bool)
    blank = empty & ~unreadable & column.required
    unparsed, missing = unreadable[codes], blank[codes]
    row_lines = lines.tolist()
    problems = [
        RowProblem(file_name, row_lines[i], column.header, problem.rule, str(problem))
        for i in np.flatnonzero(unparsed).tolist()
        for problem in [value_problems[distinct[codes[i]]]]
    ]
    problems += [
        RowProblem(file_name, row_lines[i], column.header, "required_value_missing", "blank cell")
        for i in np.flatnonzero(missing).tolist()
    ]
    return _ParsedColumn(codes, typed, unparsed | missing), problems


def lineage_frame(
    export: ExportIdentity, digest: str, source_rows: pd.Series, loaded_at: datetime
) -> pd.DataFrame:
    """The lineage columns every raw row carries: ward, reference date, source, hash, row,
    load time (one row per entry of `source_rows`)."""
    count = len(source_rows)

    def repeated(value: object, dtype: str) -> pd.Series:
        # One value converted once and repeated: the same column as `[value] * count`.
        return pd.Series([value], dtype=dtype).repeat(count).reset_index(drop=True)

    return pd.DataFrame(
        {
            "ward_code": repeated(export.ward_code, "str"),
            "reference_date": repeated(pd.Timestamp(export.reference_date), "datetime64[s]"),
            "source_file": repeated(export.name, "str"),
            "file_sha256": repeated(digest, "str"),
            "source_row": source_rows.reset_index(drop=True).astype("Int64"),
            "loaded_at": repeated(pd.Timestamp(loaded_at), "datetime64[us]"),
        }
    )


def _cell_count_problems(
    file_name: str, lines: np.ndarray, widths: np.ndarray, width: int
) -> list[RowProblem]:
    wrong = widths != width
    return [
        RowProblem(file_name, line, "*", "wrong_cell_count", f"{cells} cells, header has {width}")
        for line, cells in zip(lines[wrong].tolist(), widths[wrong].tolist(), strict=True)
    ]


def _list_counts(parsed: _ParsedColumn, keep: np.ndarray) -> pd.Series:
    """The size of each kept row's list of staff (`<x>_count` of `<x>_ids`), e.g. a group
    proposal's, counted once per distinct list."""
    sizes = parsed.typed.map(lambda ids: len(ids.split(";")) if isinstance(ids, str) else 0)
    return sizes.take(parsed.codes[keep]).reset_index(drop=True).astype("Int64")


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
    records = _split_records(text, file_name)
    found = _find_header(records.head, contract, text, file_name)
    header, width = found.cells, len(found.cells)
    rows = np.flatnonzero(~records.blank)
    rows = rows[rows > found.index]
    last = (int(records.lines[rows[-1]]), int(records.widths[rows[-1]])) if rows.size else None
    _refuse_truncated_last_row(text, last, width, file_name)
    # A row with too few or too many cells has its values in the wrong columns: it is refused
    # as a whole, and none of its cells is parsed (nor quoted in a message).
    problems = _cell_count_problems(file_name, records.lines[rows], records.widths[rows], width)
    body = rows[records.widths[rows] == width]
    lines = records.lines[body]

    kept = contract.kept_columns
    positions = [header.index(normalise_header(column.header)) for column in kept]
    parsed: dict[str, _ParsedColumn] = {}
    rejected = np.zeros(body.size, dtype=bool)
    for column, cells in zip(kept, records.cells(positions, body), strict=True):
        parse = _parser_for(column, landing_file.ward_code, pseudonyms)
        parsed[column.name], column_problems = _read_column(column, cells, lines, parse, file_name)
        rejected |= parsed[column.name].rejected
        problems += column_problems

    keep = ~rejected
    columns = {name: column.rows(keep) for name, column in parsed.items()}
    for column in kept:
        if column.kind is Kind.STAFF_ID_LIST:
            columns[list_count_name(column.name)] = _list_counts(parsed[column.name], keep)
    accepted = pd.DataFrame(columns, index=pd.RangeIndex(int(keep.sum())))
    source_rows = pd.Series(lines[keep], dtype="Int64")
    lineage = lineage_frame(landing_file, hashlib.sha256(raw).hexdigest(), source_rows, loaded_at)
    problems.sort(key=lambda p: (p.source_row, p.column))
    frame = pd.concat([lineage, accepted], axis=1)
    return ExportRead(frame, problems, encoding, int(rows.size), found.warnings)
