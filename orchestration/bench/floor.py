"""The floor: the plain program a competent engineer would write by hand to compute the same
KPI values as the pipeline, as fast as it goes, to measure the pipeline against.

It reads every export of a landing zone (encoding detection, columnar CSV, NFKC, 和暦 and
HMAC pseudonyms once per distinct value, with a pseudonym cache keyed by (ward, number)),
drops the rows it cannot read or that break a row rule, loads the rest into a DuckDB file by
native frame scans, keeps the latest file per (ward, dataset, reference date), takes a
catalogue snapshot (CKAN package_search, or a packages.json file) and computes every
indicator with plain SQL into `kpi_values`. It keeps no ledger, no quarantine, no lineage and
validates nothing beyond the row rules: that is the pipeline's job, and its price.

    python -m orchestration.bench.floor --landing data/landing --database /tmp/floor.duckdb \
        --ckan-url http://127.0.0.1:8765 --timings timings.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ingestion.common.contract import Column, DatasetContract, Kind, list_count_name
from ingestion.common.landing import parse_landing_path
from ingestion.common.problems import ExportError
from ingestion.common.pseudonym import DEMO_KEY, KEY_VARIABLE
from ingestion.common.reference import GRADE_LEVELS_CSV
from ingestion.registry import FILE_CONTRACTS
from orchestration.bench import cells
from orchestration.bench.floor_kpis import compute_kpis
from orchestration.bench.floor_rules import rules_filter, unique_key

# Rows parsed before they are typed and inserted: bounds memory on the largest dataset.
BATCH_ROWS = 400_000
HEADER_SEARCH_LINES = 10
CKAN_PAGE_ROWS = 1000
JST = timedelta(hours=9)
_SQL_TYPES = {
    Kind.CODE: "varchar",
    Kind.TEXT: "varchar",
    Kind.STAFF_ID: "varchar",
    Kind.STAFF_ID_LIST: "varchar",
    Kind.DATE: "date",
    Kind.TIMESTAMP: "timestamp",
    Kind.INTEGER: "integer",
    Kind.AMOUNT: "bigint",
    Kind.FISCAL_YEAR: "integer",
    Kind.DECIMAL: "double",
}


@dataclass(frozen=True)
class Export:
    """One export file of the landing zone."""

    path: Path
    table: str
    ward_code: str
    reference_date: date


@dataclass
class StageTimes:
    """Seconds per stage, in the order the stages ran."""

    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, work: Callable[[], Any]) -> Any:
        """Run `work`, adding its duration to `stage`."""
        started = time.perf_counter()
        try:
            return work()
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


# -- the landing zone and one file ----------------------------------------------------------


def landing_exports(landing: Path) -> dict[str, list[Export]]:
    """Every export of a known dataset, by raw table, the latest file per (ward, dataset,
    reference date) (a corrected re-export replaces the earlier one), oldest first."""
    latest: dict[tuple[str, str, date], tuple[float, Export]] = {}
    for path in landing.glob("*/*.csv"):
        try:
            found = parse_landing_path(path)
        except ExportError:
            continue
        if found.table not in FILE_CONTRACTS:
            continue
        export = Export(path, found.table, found.ward_code, found.reference_date)
        key = (found.ward_code, found.table, found.reference_date)
        stamp = path.stat().st_mtime
        if key not in latest or stamp >= latest[key][0]:
            latest[key] = (stamp, export)
    by_table: dict[str, list[Export]] = {table: [] for table in FILE_CONTRACTS}
    for _, export in sorted(
        latest.values(), key=lambda item: (item[1].reference_date, item[1].path)
    ):
        by_table[export.table].append(export)
    return by_table


def decode(raw: bytes) -> str:
    """UTF-16 by its BOM, then UTF-8 (with or without BOM), then CP932."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp932")


def _header_name(cell: str) -> str:
    return re.sub(r"\s+", "", cells.nfkc(cell.replace("\ufeff", "").strip('"')))


def find_header(text: str, contract: DatasetContract) -> tuple[int, list[str]] | None:
    """The offset of the header line (a title row may sit above it) and its cells."""
    wanted = {_header_name(column.header) for column in contract.kept_columns}
    offset = 0
    for line in text[:16_384].splitlines(keepends=True)[:HEADER_SEARCH_LINES]:
        names = [_header_name(cell) for cell in line.rstrip("\r\n").split(",")]
        if wanted <= set(names):
            return offset, names
        offset += len(line)
    return None


def read_rows(path: Path, contract: DatasetContract) -> pd.DataFrame | None:
    """The kept columns of an export as text, named as the warehouse names them; None when
    the file is not readable as an export of `contract` (the floor skips it)."""
    try:
        text = decode(path.read_bytes())
    except UnicodeDecodeError:
        return None
    found = find_header(text, contract)
    if found is None:
        return None
    offset, names = found
    positions = [names.index(_header_name(c.header)) for c in contract.kept_columns]
    frame = pd.read_csv(
        io.StringIO(text[offset:]),
        header=0,
        usecols=positions,
        dtype=object,
        na_filter=False,
        skip_blank_lines=True,
        on_bad_lines="skip",
        engine="c",
    )
    # usecols keeps the file's column order: name the columns in that order.
    in_file_order = sorted(range(len(positions)), key=positions.__getitem__)
    frame.columns = [contract.kept_columns[index].name for index in in_file_order]
    return frame


# -- typing a batch of rows -------------------------------------------------------------------


@dataclass
class Typed:
    """A column read: the values and which rows are blank or unreadable."""

    values: Any
    blank: np.ndarray
    invalid: np.ndarray


def _distinct(cells_: np.ndarray, read: Callable[[str], Any]) -> tuple[np.ndarray, list[Any]]:
    # A row shorter than the header leaves NaN in its last cells: read as blank.
    codes, uniques = pd.factorize(cells_, use_na_sentinel=False)
    return codes, [read(value if isinstance(value, str) else "") for value in uniques]


def _objects(codes: np.ndarray, results: list[Any]) -> Typed:
    mapped = np.empty(len(results), dtype=object)
    mapped[:] = results
    invalid = np.fromiter((r is cells.INVALID for r in results), bool, len(results))
    blank = np.fromiter((r is None for r in results), bool, len(results))
    values = mapped[codes]
    values[invalid[codes]] = None
    return Typed(values, blank[codes], invalid[codes])


def _numbers(codes: np.ndarray, results: list[Any], dtype: str) -> Typed:
    invalid = np.fromiter((r is cells.INVALID for r in results), bool, len(results))[codes]
    blank = np.fromiter((r is None for r in results), bool, len(results))[codes]
    plain = [0 if r is None or r is cells.INVALID else r for r in results]
    values = np.array(plain, dtype="float64" if dtype == "Float64" else "int64")[codes]
    missing = blank | invalid
    if dtype == "Float64":
        return Typed(pd.arrays.FloatingArray(values, missing), blank, invalid)
    return Typed(pd.arrays.IntegerArray(values, missing), blank, invalid)


def _instants(codes: np.ndarray, results: list[int], unit: str) -> Typed:
    values = np.fromiter(results, np.int64, len(results))[codes]
    invalid = values == cells.INVALID_INT
    blank = values == cells.BLANK_INT
    values[invalid] = cells.BLANK_INT
    return Typed(values.view(f"datetime64[{unit}]").astype("datetime64[s]"), blank, invalid)


def _per_ward(
    wards: np.ndarray, cells_: np.ndarray, read: Callable[[str, str], Any]
) -> tuple[np.ndarray, list[Any]]:
    """Distinct (ward, cell) pairs: a staff number's pseudonym depends on its ward."""
    ward_codes, ward_names = pd.factorize(wards)
    cell_codes, cell_texts = pd.factorize(cells_, use_na_sentinel=False)
    width = max(len(cell_texts), 1)
    codes, pairs = pd.factorize(ward_codes.astype(np.int64) * width + cell_codes)
    texts = [text if isinstance(text, str) else "" for text in cell_texts]
    return codes, [read(ward_names[p // width], texts[p % width]) for p in pairs]


def read_column(
    column: Column, texts: np.ndarray, wards: np.ndarray, pseudonyms: cells.Pseudonyms
) -> Typed:
    """Type one column of a batch, reading each distinct cell once."""
    kind = column.kind
    if kind is Kind.STAFF_ID:
        return _objects(*_per_ward(wards, texts, pseudonyms.of_cell))
    if kind is Kind.STAFF_ID_LIST:
        return _objects(*_per_ward(wards, texts, pseudonyms.of_list))
    if kind is Kind.DATE:
        return _instants(*_distinct(texts, cells.read_date), "D")
    if kind is Kind.TIMESTAMP:
        return _instants(*_distinct(texts, cells.read_moment), "s")
    if kind is Kind.DECIMAL:
        return _numbers(*_distinct(texts, cells.read_decimal), "Float64")
    if kind in (Kind.INTEGER, Kind.AMOUNT):
        return _numbers(*_distinct(texts, cells.read_integer), "Int64")
    if kind is Kind.FISCAL_YEAR:
        return _numbers(*_distinct(texts, cells.read_fiscal_year), "Int64")
    read = cells.read_text if kind is Kind.TEXT else cells.read_code
    return _objects(*_distinct(texts, read))


def typed_batch(
    frames: list[pd.DataFrame],
    file_ids: list[int],
    exports: list[Export],
    contract: DatasetContract,
    pseudonyms: cells.Pseudonyms,
) -> pd.DataFrame:
    """The rows of several files, typed, without the rows holding an unreadable cell, a
    blank required one or a key repeated in its file."""
    sizes = np.array([len(frame) for frame in frames])
    rows = np.repeat(np.arange(len(frames)), sizes)
    text = pd.concat(frames, ignore_index=True)
    wards = np.array([e.ward_code for e in exports], dtype=object)[rows]
    days = np.array([np.datetime64(e.reference_date, "s") for e in exports])[rows]
    typed: dict[str, Any] = {
        "file_id": np.array(file_ids, dtype=np.int32)[rows],
        "ward_code": wards,
        "reference_date": days,
    }
    dropped = np.zeros(len(text), dtype=bool)
    for column in contract.kept_columns:
        found = read_column(column, text[column.name].to_numpy(dtype=object), wards, pseudonyms)
        typed[column.name] = found.values
        dropped |= found.invalid | (found.blank if column.required else False)
        if column.kind is Kind.STAFF_ID_LIST:
            typed[list_count_name(column.name)] = _list_sizes(found.values)
    frame = pd.DataFrame(typed)[~dropped]
    # A key repeated in one file drops every row holding it: which one is the record cannot
    # be told. A batch holds whole files, so the check needs no other batch.
    repeated = frame.duplicated(["file_id", *unique_key(contract.table)], keep=False)
    return frame[~repeated.to_numpy()]


def _list_sizes(values: np.ndarray) -> np.ndarray:
    return np.fromiter(
        (v.count(";") + 1 if isinstance(v, str) else 0 for v in values), np.int32, len(values)
    )


# -- loading ----------------------------------------------------------------------------------

# Every export read, empty ones included: a dataset "has spoken" through its files.
_FILE_COLUMN_TYPES = {
    "file_id": "integer",
    "raw_table": "varchar",
    "ward_code": "varchar",
    "reference_date": "date",
    "source_file": "varchar",
    "rows_read": "integer",
}
_FILE_COLUMNS = list(_FILE_COLUMN_TYPES)


def _dataset_table_ddl(contract: DatasetContract) -> str:
    columns = ["file_id integer", "ward_code varchar", "reference_date date"]
    for column in contract.kept_columns:
        columns.append(f"{column.name} {_SQL_TYPES[column.kind]}")
        if column.kind is Kind.STAFF_ID_LIST:
            columns.append(f"{list_count_name(column.name)} integer")
    return f"create or replace table {contract.table} ({', '.join(columns)})"


def _insert(con: duckdb.DuckDBPyConnection, table: str, batch: pd.DataFrame) -> None:
    """Insert the rows of a batch that break no row rule (a native scan of the frame)."""
    con.register("batch", batch)
    try:
        con.execute(f"insert into {table} by name select * from batch where {rules_filter(table)}")
    finally:
        con.unregister("batch")


def _batches(exports: list[Export], contract: DatasetContract) -> Iterator[tuple[list, list, list]]:
    """(frames, file positions, exports) of about BATCH_ROWS rows each."""
    frames: list[pd.DataFrame] = []
    positions: list[int] = []
    batch_exports: list[Export] = []
    rows = 0
    for position, export in enumerate(exports):
        frame = read_rows(export.path, contract)
        if frame is None:
            continue
        frames.append(frame)
        positions.append(position)
        batch_exports.append(export)
        rows += len(frame)
        if rows >= BATCH_ROWS:
            yield frames, positions, batch_exports
            frames, positions, batch_exports, rows = [], [], [], 0
    if frames:
        yield frames, positions, batch_exports


def load_dataset(
    con: duckdb.DuckDBPyConnection,
    contract: DatasetContract,
    exports: list[Export],
    first_file_id: int,
    pseudonyms: cells.Pseudonyms,
) -> tuple[int, int]:
    """Read, type and insert every export of one dataset into a table named after it, the
    rows breaking no rule only. Returns the files and rows read."""
    con.execute(_dataset_table_ddl(contract))
    files = []
    for frames, positions, batch_exports in _batches(exports, contract):
        ids = [first_file_id + position for position in positions]
        _insert(con, contract.table, typed_batch(frames, ids, batch_exports, contract, pseudonyms))
        files += [
            (file_id, contract.table, e.ward_code, e.reference_date, e.path.name, len(frame))
            for file_id, e, frame in zip(ids, batch_exports, frames, strict=True)
        ]
    if files:
        listed = pd.DataFrame(files, columns=_FILE_COLUMNS)
        con.register("listed", listed)
        con.execute("insert into files select * from listed")
        con.unregister("listed")
    return len(files), sum(file[-1] for file in files)


# -- the catalogue ----------------------------------------------------------------------------


def _package_rows(packages: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "package_id": [p.get("id") for p in packages],
            "organization": [(p.get("organization") or {}).get("name") for p in packages],
            "state": [p.get("state") for p in packages],
            "is_private": [bool(p.get("private")) for p in packages],
            "metadata_created": pd.to_datetime(
                [p.get("metadata_created") for p in packages], format="ISO8601"
            ),
        }
    )


def fetch_packages(ckan_url: str) -> list[dict[str, Any]]:
    """Every public package of the catalogue, by package_search pages (deduplicated by id:
    pages may shift while paging)."""
    seen: dict[str, dict[str, Any]] = {}
    start, count = 0, None
    while count is None or start < count:
        query = urllib.parse.urlencode(
            {"q": "*:*", "rows": CKAN_PAGE_ROWS, "start": start, "sort": "id asc"}
        )
        url = f"{ckan_url.rstrip('/')}/api/3/action/package_search?{query}"
        with urllib.request.urlopen(url, timeout=60) as response:
            result = json.load(response)["result"]
        count = result["count"]
        for package in result["results"]:
            seen[package["id"]] = package
        if not result["results"]:
            break
        start += CKAN_PAGE_ROWS
    return list(seen.values())


def load_catalogue(
    con: duckdb.DuckDBPyConnection, ckan_url: str | None, catalogue_file: Path | None
) -> int:
    """Snapshot the catalogue into `packages`; returns the packages read."""
    if ckan_url:
        packages = fetch_packages(ckan_url)
    elif catalogue_file is not None:
        packages = json.loads(catalogue_file.read_text(encoding="utf-8"))
    else:
        packages = []
    frame = _package_rows(packages)
    con.register("package_frame", frame)
    con.execute("create or replace table packages as select * from package_frame")
    con.unregister("package_frame")
    return len(packages)


# -- the whole program ------------------------------------------------------------------------


@dataclass
class FloorResult:
    """What a floor run measured and computed."""

    seconds: dict[str, float]
    rows: dict[str, int]
    values: dict[tuple[str, int, str], float | None]


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in _FILE_COLUMN_TYPES.items())
    con.execute(f"create or replace table files ({columns})")
    con.execute(
        "create or replace table grade_levels as select grade, is_kakaricho_plus "
        f"from read_csv('{GRADE_LEVELS_CSV}', header = true)"
    )


def run_floor(
    landing: Path,
    database: Path,
    ckan_url: str | None = None,
    catalogue_file: Path | None = None,
    snapshot_date: date | None = None,
    key: bytes | None = None,
) -> FloorResult:
    """Compute every KPI from the landing zone into `database` (replaced), timing each stage.

    Args:
        landing: The landing zone (`<system>/<ward>_<dataset>_<YYYYMMDD>.csv`).
        database: The DuckDB file to write (removed first).
        ckan_url: The catalogue's base URL; else `catalogue_file` (a packages.json) is read.
        catalogue_file: A catalogue file, when there is no URL.
        snapshot_date: The catalogue snapshot's JST date (today in Tokyo by default).
        key: The pseudonym key (DXKPI_PSEUDONYM_KEY, or the demo key, by default).
    """
    times = StageTimes()
    database.unlink(missing_ok=True)
    secret = key or os.environ.get(KEY_VARIABLE, DEMO_KEY).encode()
    pseudonyms = cells.Pseudonyms(secret, os.environ.get("DXKPI_STAFF_NUMBER_PATTERN", r"[0-9]{6}"))
    taken_on = snapshot_date or (datetime.now(UTC) + JST).date()
    rows: dict[str, int] = {}
    with duckdb.connect(str(database)) as con:
        exports = times.timed("landing scan", lambda: landing_exports(landing))
        _prepare(con)
        next_id = 0
        for table, contract in FILE_CONTRACTS.items():
            _, rows[table] = times.timed(
                table,
                lambda c=contract, t=table, n=next_id: load_dataset(
                    con, c, exports[t], n, pseudonyms
                ),
            )
            next_id += len(exports[table])
        rows["opendata_package"] = times.timed(
            "opendata_package", lambda: load_catalogue(con, ckan_url, catalogue_file)
        )
        times.timed("kpis", lambda: compute_kpis(con, taken_on.isoformat()))
        # Written to disk here rather than, untimed, when the connection closes.
        times.timed("checkpoint", lambda: con.execute("checkpoint"))
        values = {
            (ward, fiscal_year, indicator): value
            for ward, fiscal_year, indicator, value in con.execute(
                "select ward_code, fiscal_year, indicator_id, value from kpi_values"
            ).fetchall()
        }
    return FloorResult(times.seconds, rows, values)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--ckan-url", default=None, help="the catalogue's base URL")
    parser.add_argument("--catalogue", type=Path, default=None, help="or a packages.json file")
    parser.add_argument("--timings", type=Path, default=None, help="write the stage times here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m orchestration.bench.floor`."""
    args = _arguments(argv)
    result = run_floor(args.landing, args.database, args.ckan_url, args.catalogue)
    summary = {"seconds": result.seconds, "rows": result.rows, "values": len(result.values)}
    if args.timings is not None:
        args.timings.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    else:
        print(json.dumps(summary, indent=2))  # noqa: T201 (the program's output)


if __name__ == "__main__":
    main()
