"""Exports from the landing zone to their raw table: read, check, load or refuse."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar

import duckdb
import pandas as pd

from ingestion.common.contract import DatasetContract
from ingestion.common.landing import LandingFile, parse_landing_path
from ingestion.common.loader import (
    CheckedExport,
    ExportIdentity,
    LoadedFile,
    check_pseudonym_key,
    current_loads,
    load_exports,
    record_rejection,
    rejected_versions,
)
from ingestion.common.problems import (
    REFUSAL,
    WARNING,
    ExportError,
    Finding,
    RowProblem,
)
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.reader import ExportRead, read_export

# Rows read before they are checked and loaded: bounds memory however many files wait. The
# suite's batch size (`expectations.runner.BATCH_ROWS`): a chunk is checked by one validation.
CHUNK_ROWS = 250_000
# A file with a larger share of rows breaking row rules is refused as a whole: such a file is
# not a good export with a few slips, and loading its remainder would mislead.
DEFAULT_MAX_QUARANTINE_SHARE = 0.05
FIRST_FINDINGS_IN_REASON = 5

P = ParamSpec("P")
T = TypeVar("T")


def max_quarantine_share() -> float:
    """The share of rows a file may have quarantined and still load (DXKPI_QUARANTINE_MAX_SHARE)."""
    return float(os.environ.get("DXKPI_QUARANTINE_MAX_SHARE", DEFAULT_MAX_QUARANTINE_SHARE))


class CheckOutcome(Protocol):
    """What a suite run tells: passed or not, and a description naming file, rule and rows."""

    @property
    def success(self) -> bool: ...

    @property
    def warnings(self) -> Sequence[object]: ...

    def describe(self, source_file: str) -> str: ...


class BrokenRowRule(Protocol):
    """A row rule some rows of an export break (see `expectations.row_rules`)."""

    @property
    def code(self) -> str: ...

    @property
    def column(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def source_rows(self) -> list[int]: ...


class RowRules(Protocol):
    """Finds the rows of an export's frame that break a row rule of its dataset."""

    def __call__(self, dataset: str, frame: pd.DataFrame) -> Sequence[BrokenRowRule]: ...


class Validator(Protocol):
    """Runs a dataset's suite on each export's frame before anything is written."""

    def __call__(
        self, dataset: str, frames: Mapping[str, pd.DataFrame]
    ) -> Mapping[str, CheckOutcome]: ...


class Status(Enum):
    """What happened to an export."""

    LOADED = "loaded"
    REPLACED = "replaced"  # a corrected re-export replaced an earlier file's rows
    UNCHANGED = "unchanged"  # these exact bytes were loaded already
    REJECTED = "rejected"  # unreadable or failed its suite: nothing written, file kept
    STILL_REJECTED = "still_rejected"  # refused before; waits for a corrected re-export
    SUPERSEDED = "superseded"  # the bytes asked for were overwritten before the run read them
    VANISHED = "vanished"  # the file was removed before the run read it


@dataclass
class ExportOutcome:
    """The result of ingesting one export."""

    source_file: str
    status: Status
    rows_loaded: int = 0
    row_problems: list[RowProblem] = field(default_factory=list)
    check: CheckOutcome | None = None
    reason: str = ""
    encoding: str = ""
    file_sha256: str = ""
    rows_read: int = 0
    warnings: list[Finding] = field(default_factory=list)
    refusal: Finding | None = None
    # Set by `summary()`, which drops the rows behind the count.
    quarantined: int | None = None

    @property
    def rows_quarantined(self) -> int:
        """Rows set aside by a row rule (of a loaded file, or that led to a refusal)."""
        if self.quarantined is not None:
            return self.quarantined
        return len({problem.source_row for problem in self.row_problems})

    def summary(self) -> ExportOutcome:
        """This outcome without its row problems and warnings, their counts kept: what a run
        holds of each file once the findings are recorded, so that its memory does not grow
        with the rows of a large batch (a 1% dirty national history has about 600k)."""
        return replace(self, row_problems=[], warnings=[], quarantined=self.rows_quarantined)

    def findings(self) -> list[Finding]:
        """Everything found in the file: why it was refused, rows set aside, warnings."""
        found = [self.refusal] if self.refusal else []
        found += [problem.finding() for problem in self.row_problems]
        found += self.warnings
        if self.check is not None:
            found += [_suite_warning(w) for w in self.check.warnings]
        return found


def _suite_warning(failure: object) -> Finding:
    """A warning-severity expectation that failed on a loaded file, as a file finding."""
    column = getattr(failure, "column", None) or ""
    rule = str(getattr(failure, "expectation", "suite_warning")).removeprefix("expect_")
    describe = getattr(failure, "describe", None)
    return Finding(None, column, rule, WARNING, describe() if describe else str(failure))


@dataclass(frozen=True)
class _ReadExport:
    landing_file: LandingFile
    digest: str
    export: ExportRead
    previous: LoadedFile | None


class _Bookkeeping:
    """What the warehouse records of one dataset's exports: the file loaded per key
    (`ops.file_loads`) and the versions refused (`ops.file_rejections`).

    Read once when a run starts and kept current as the run loads and refuses, rather than
    queried for each export: a run may look at every file of the landing zone, and a query
    per file was most of the cost of a run with nothing new. `load_exports` still reads each
    key's load inside the transaction that writes it.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        self.con = con
        self.table = table
        self._loads = current_loads(con, table)
        self._rejected = rejected_versions(con, table)

    def previous(self, export: ExportIdentity) -> LoadedFile | None:
        """The file loaded for the export's key, if any."""
        return self._loads.get((export.ward_code, export.reference_date))

    def was_rejected(self, source_file: str, digest: str) -> bool:
        """Whether these exact bytes of this file were refused before."""
        return (source_file, digest) in self._rejected

    def reject(self, source_file: str, digest: str, reason: str) -> None:
        """Record that these bytes were refused, and why."""
        record_rejection(self.con, self.table, source_file, digest, reason)
        self._rejected.add((source_file, digest))

    def load(self, items: Sequence[_ReadExport]) -> None:
        """Load checked exports in one transaction (see `load_exports`)."""
        checked = [
            CheckedExport(
                item.landing_file,
                item.digest,
                item.export.frame,
                item.export.problems,
                item.export.encoding,
            )
            for item in items
        ]
        load_exports(self.con, self.table, checked)
        for item in items:
            key = (item.landing_file.ward_code, item.landing_file.reference_date)
            self._loads[key] = LoadedFile(item.landing_file.name, item.digest)


def _read_if_new(
    books: _Bookkeeping,
    path: Path,
    contract: DatasetContract,
    pseudonyms: Pseudonymiser,
    loaded_at: datetime,
    expected_sha256: str | None = None,
    again: bool = False,
) -> _ReadExport | ExportOutcome:
    """Read an export unless these bytes were loaded or refused already.

    With `expected_sha256` (the version a sensor asked for), other bytes are not read: the
    file was overwritten since, and the newer version gets a request of its own. With `again`
    (an operator's reprocess request) the bytes are read even if they were loaded or refused:
    the rules or the reference data may have changed since.
    """
    source_file = f"{path.parent.name}/{path.name}"
    if expected_sha256 is not None and not again:
        # The version asked for is known already: its bytes need not be read to say so (a
        # scan of a dataset's history would read every export of it).
        seen = _seen_before(books, path, source_file, expected_sha256)
        if seen is not None:
            return seen
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ExportOutcome(source_file, Status.VANISHED, file_sha256=expected_sha256 or "")
    digest = hashlib.sha256(raw).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        return ExportOutcome(
            source_file,
            Status.SUPERSEDED,
            reason=f"overwritten before it was read (now {digest[:12]})",
            file_sha256=expected_sha256,
        )
    if not again and expected_sha256 is None:
        # (With `expected_sha256`, these bytes are the ones already looked up above.)
        seen = _seen_before(books, path, source_file, digest)
        if seen is not None:
            return seen
    try:
        landing_file = parse_landing_path(path)
        previous = books.previous(landing_file)
        export = read_export(landing_file, contract, pseudonyms, loaded_at, raw)
    except ExportError as error:
        books.reject(source_file, digest, str(error))
        refusal = Finding(error.line, "", error.rule, REFUSAL, str(error))
        return ExportOutcome(
            source_file, Status.REJECTED, reason=str(error), file_sha256=digest, refusal=refusal
        )
    return _ReadExport(landing_file, digest, export, previous)


def _seen_before(
    books: _Bookkeeping, path: Path, source_file: str, digest: str
) -> ExportOutcome | None:
    """The outcome of these bytes when they were loaded or refused already, else None."""
    if books.was_rejected(source_file, digest):
        return ExportOutcome(source_file, Status.STILL_REJECTED, file_sha256=digest)
    try:
        previous = books.previous(parse_landing_path(path))
    except ExportError:
        return None  # a name that says no key: reading it will say why
    if previous is not None and previous.file_sha256 == digest:
        return ExportOutcome(source_file, Status.UNCHANGED, file_sha256=digest)
    return None


def _quarantine(
    item: _ReadExport, contract: DatasetContract, row_rules: RowRules | None
) -> _ReadExport:
    """Set aside the rows that break a row rule of the dataset's suite."""
    if row_rules is None:
        return item
    export = item.export
    broken = row_rules(contract.table, export.frame)
    if not broken:
        return item
    headers = {column.name: column.header for column in contract.columns}
    name = item.landing_file.name
    problems = [
        RowProblem(name, row, headers.get(rule.column, rule.column), rule.code, rule.message)
        for rule in broken
        for row in rule.source_rows
    ]
    lines = {problem.source_row for problem in problems}
    keep = ~export.frame["source_row"].isin(list(lines))
    frame = export.frame[keep.to_numpy()].reset_index(drop=True)
    merged = sorted(export.problems + problems, key=lambda p: (p.source_row, p.column))
    return replace(item, export=replace(export, frame=frame, problems=merged))


def _breaker_refusal(item: _ReadExport, max_share: float) -> str | None:
    """The reason to refuse a file whose share of quarantined rows is above `max_share`."""
    export = item.export
    lines = {problem.source_row for problem in export.problems}
    if not export.rows_read or len(lines) <= max_share * export.rows_read:
        return None
    by_rule: dict[tuple[str, str], list[int]] = {}
    for problem in export.problems:
        by_rule.setdefault((problem.rule, problem.column), []).append(problem.source_row)
    ranked = sorted(by_rule.items(), key=lambda entry: -len(entry[1]))
    causes = "; ".join(
        f"{rule} on {column} ({len(rows)} rows, first line {min(rows)})"
        for (rule, column), rows in ranked[:FIRST_FINDINGS_IN_REASON]
    )
    return (
        f"{item.landing_file.name}: {len(lines)} of {export.rows_read} rows "
        f"({len(lines) / export.rows_read:.0%}) break row rules, more than the "
        f"{max_share:.0%} a file may have quarantined: refused as untrustworthy. "
        f"Causes: {causes}"
    )


def _refuse_untrustworthy(books: _Bookkeeping, item: _ReadExport, reason: str) -> ExportOutcome:
    """Refuse a file tripped by the quarantine's circuit breaker, keeping its row findings."""
    name = item.landing_file.name
    books.reject(name, item.digest, reason)
    export = item.export
    return ExportOutcome(
        name,
        Status.REJECTED,
        0,
        export.problems,
        None,
        reason,
        export.encoding,
        item.digest,
        export.rows_read,
        export.warnings,
        Finding(None, "", "too_many_rows_quarantined", REFUSAL, reason),
    )


def _check_and_load(
    books: _Bookkeeping, pending: dict[str, _ReadExport], validate: Validator
) -> list[ExportOutcome]:
    """Check every pending export, then load the ones that pass, in one transaction."""
    if not pending:
        return []
    checks = validate(books.table, {name: p.export.frame for name, p in pending.items()})
    books.load([item for name, item in pending.items() if checks[name].success])
    outcomes = []
    for name, item in pending.items():
        export, check = item.export, checks[name]
        if not check.success:
            reason = check.describe(name)  # names the Data Docs page when there is one
            books.reject(name, item.digest, reason)
            outcomes.append(
                ExportOutcome(
                    name,
                    Status.REJECTED,
                    0,
                    export.problems,
                    check,
                    reason,
                    export.encoding,
                    item.digest,
                    export.rows_read,
                    export.warnings,
                    Finding(None, "", "expectation_suite", REFUSAL, reason),
                )
            )
            continue
        status = Status.LOADED if item.previous is None else Status.REPLACED
        outcomes.append(
            ExportOutcome(
                name,
                status,
                len(export.frame),
                export.problems,
                check,
                "",
                export.encoding,
                item.digest,
                export.rows_read,
                export.warnings,
            )
        )
    return outcomes


def iter_ingest_exports(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    contract: DatasetContract,
    validate: Validator,
    pseudonyms: Pseudonymiser,
    loaded_at: datetime,
    expected: Mapping[Path, str] | None = None,
    row_rules: RowRules | None = None,
    max_share: float | None = None,
    again: Collection[Path] = (),
) -> Iterator[ExportOutcome]:
    """Read, check and load exports of one dataset; never write anything for a file that fails.

    Yields each file's outcome once it is final (after its chunk is checked and loaded), so a
    caller can record and drop them as they come.

    `expected` maps paths to the content hash a sensor asked for (see `_read_if_new`).
    Rows that break a parsing rule or one of `row_rules` are quarantined (left out, named in
    `ops.row_problems` and in the outcome) and the rest of the file loads, unless more than
    `max_share` of its rows (default `max_quarantine_share()`) are: then the whole file is
    refused, its row findings kept with the refusal. Paths in `again` are read even when
    their bytes were loaded or refused before (reprocessing).

    A file is never moved or changed: a refused file stays in the landing zone, and its digest
    is recorded so that it is reported once, until a corrected export replaces it. Exports are
    read in chunks of at most `CHUNK_ROWS` rows (or one larger file) and each chunk is checked
    in one go.

    Raises:
        KeyChangedError: the pseudonym key is not the one the warehouse was built with.
    """
    check_pseudonym_key(con, pseudonyms.fingerprint())
    books = _Bookkeeping(con, contract.table)
    share = max_quarantine_share() if max_share is None else max_share
    pending: dict[str, _ReadExport] = {}
    rows = 0
    for path in paths:
        wanted = expected.get(path) if expected else None
        item = _read_if_new(books, path, contract, pseudonyms, loaded_at, wanted, path in again)
        if isinstance(item, ExportOutcome):
            yield item
            continue
        item = _quarantine(item, contract, row_rules)
        refusal = _breaker_refusal(item, share)
        if refusal is not None:
            yield _refuse_untrustworthy(books, item, refusal)
            continue
        if pending and rows + len(item.export.frame) > CHUNK_ROWS:
            # Check what waits before this file would take the chunk past its size: a chunk
            # then fits one batch of the suite, not one batch and a file left over.
            yield from _check_and_load(books, pending, validate)
            pending, rows = {}, 0
        pending[item.landing_file.name] = item
        rows += len(item.export.frame)
    yield from _check_and_load(books, pending, validate)


def _collected(produce: Callable[P, Iterator[T]]) -> Callable[P, list[T]]:
    """`produce`, returning its items as a list."""

    def collect(*args: P.args, **kwargs: P.kwargs) -> list[T]:
        return list(produce(*args, **kwargs))

    collect.__doc__ = f"`{produce.__name__}` as a list: {produce.__doc__}"
    return collect


ingest_exports = _collected(iter_ingest_exports)


def ingest_export(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    contract: DatasetContract,
    validate: Validator,
    pseudonyms: Pseudonymiser,
    loaded_at: datetime,
) -> ExportOutcome:
    """Ingest a single export (see `ingest_exports`)."""
    return ingest_exports(con, [path], contract, validate, pseudonyms, loaded_at)[0]
