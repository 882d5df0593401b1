"""Exports from the landing zone to their raw table: read, check, load or refuse."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from ingestion.common.contract import DatasetContract
from ingestion.common.landing import LandingFile, parse_landing_path
from ingestion.common.loader import (
    LoadedFile,
    check_pseudonym_key,
    current_load,
    load_export,
    record_rejection,
    was_rejected,
)
from ingestion.common.problems import ExportError, RowProblem
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.reader import ExportRead, read_export

# Rows read before they are checked and loaded: bounds memory however many files wait.
CHUNK_ROWS = 250_000


class CheckOutcome(Protocol):
    """What a suite run tells: passed or not, and a description naming file, rule and rows."""

    @property
    def success(self) -> bool: ...

    @property
    def warnings(self) -> Sequence[object]: ...

    def describe(self, source_file: str) -> str: ...


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


@dataclass(frozen=True)
class _ReadExport:
    landing_file: LandingFile
    digest: str
    export: ExportRead
    previous: LoadedFile | None


def _read_if_new(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    contract: DatasetContract,
    pseudonyms: Pseudonymiser,
    loaded_at: datetime,
    expected_sha256: str | None = None,
) -> _ReadExport | ExportOutcome:
    """Read an export unless these bytes were loaded or refused already.

    With `expected_sha256` (the version a sensor asked for), other bytes are not read: the
    file was overwritten since, and the newer version gets a request of its own.
    """
    source_file = f"{path.parent.name}/{path.name}"
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
    if was_rejected(con, source_file, digest):
        return ExportOutcome(source_file, Status.STILL_REJECTED, file_sha256=digest)
    try:
        landing_file = parse_landing_path(path)
        previous = current_load(con, contract.table, landing_file)
        if previous is not None and previous.file_sha256 == digest:
            return ExportOutcome(source_file, Status.UNCHANGED, file_sha256=digest)
        export = read_export(landing_file, contract, pseudonyms, loaded_at, raw)
    except ExportError as error:
        record_rejection(con, contract.table, source_file, digest, str(error))
        return ExportOutcome(source_file, Status.REJECTED, reason=str(error), file_sha256=digest)
    return _ReadExport(landing_file, digest, export, previous)


def _check_and_load(
    con: duckdb.DuckDBPyConnection,
    contract: DatasetContract,
    pending: dict[str, _ReadExport],
    validate: Validator,
) -> list[ExportOutcome]:
    """Check every pending export, then load the ones that pass, each in its own transaction."""
    if not pending:
        return []
    checks = validate(contract.table, {name: p.export.frame for name, p in pending.items()})
    outcomes = []
    for name, item in pending.items():
        export, check = item.export, checks[name]
        if not check.success:
            reason = check.describe(name)
            record_rejection(con, contract.table, name, item.digest, reason)
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
                )
            )
            continue
        load_export(
            con,
            contract.table,
            item.landing_file,
            item.digest,
            export.frame,
            export.problems,
            export.encoding,
        )
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
            )
        )
    return outcomes


def ingest_exports(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    contract: DatasetContract,
    validate: Validator,
    pseudonyms: Pseudonymiser,
    loaded_at: datetime,
    expected: Mapping[Path, str] | None = None,
) -> list[ExportOutcome]:
    """Read, check and load exports of one dataset; never write anything for a file that fails.

    `expected` maps paths to the content hash a sensor asked for (see `_read_if_new`).

    A file is never moved or changed: a refused file stays in the landing zone, and its digest
    is recorded so that it is reported once, until a corrected export replaces it. Exports are
    read in chunks of about `CHUNK_ROWS` rows and each chunk is checked in one go.

    Raises:
        KeyChangedError: the pseudonym key is not the one the warehouse was built with.
    """
    check_pseudonym_key(con, pseudonyms.fingerprint())
    outcomes: list[ExportOutcome] = []
    pending: dict[str, _ReadExport] = {}
    rows = 0
    for path in paths:
        wanted = expected.get(path) if expected else None
        item = _read_if_new(con, path, contract, pseudonyms, loaded_at, wanted)
        if isinstance(item, ExportOutcome):
            outcomes.append(item)
            continue
        pending[item.landing_file.name] = item
        rows += len(item.export.frame)
        if rows >= CHUNK_ROWS:
            outcomes += _check_and_load(con, contract, pending, validate)
            pending, rows = {}, 0
    return outcomes + _check_and_load(con, contract, pending, validate)


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
