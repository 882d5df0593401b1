"""One export from the landing zone to its raw table: read, check, load or refuse."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from ingestion.common.contract import DatasetContract
from ingestion.common.landing import parse_landing_path
from ingestion.common.loader import current_load, load_export, record_rejection, was_rejected
from ingestion.common.problems import ExportError, RowProblem
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.reader import read_export


class CheckOutcome(Protocol):
    """What a suite run tells: passed or not, and a description naming file, rule and rows."""

    @property
    def success(self) -> bool: ...

    def describe(self, source_file: str) -> str: ...


class Validator(Protocol):
    """Runs a dataset's suite on a frame before anything is written."""

    def __call__(self, dataset: str, frame: pd.DataFrame) -> CheckOutcome: ...


class Status(Enum):
    """What happened to an export."""

    LOADED = "loaded"
    REPLACED = "replaced"  # a corrected re-export replaced an earlier file's rows
    UNCHANGED = "unchanged"  # these exact bytes were loaded already
    REJECTED = "rejected"  # unreadable or failed its suite: nothing written, file kept
    STILL_REJECTED = "still_rejected"  # refused before; waits for a corrected re-export


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


def ingest_export(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    contract: DatasetContract,
    validate: Validator,
    pseudonyms: Pseudonymiser,
    loaded_at: datetime,
) -> ExportOutcome:
    """Read, check and load one export; never write anything for a file that fails.

    The file itself is never moved or changed: a refused file stays in the landing zone, and
    its digest is recorded so that it is reported once, until a corrected export replaces it.
    """
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source_file = f"{path.parent.name}/{path.name}"
    if was_rejected(con, source_file, digest):
        return ExportOutcome(source_file, Status.STILL_REJECTED)
    try:
        landing_file = parse_landing_path(path)
        loaded = current_load(con, contract.table, landing_file)
        if loaded is not None and loaded.file_sha256 == digest:
            return ExportOutcome(source_file, Status.UNCHANGED)
        export = read_export(landing_file, contract, pseudonyms, loaded_at)
    except ExportError as error:
        record_rejection(con, contract.table, source_file, digest, str(error))
        return ExportOutcome(source_file, Status.REJECTED, reason=str(error))
    check = validate(contract.table, export.frame)
    if not check.success:
        reason = check.describe(source_file)
        record_rejection(con, contract.table, source_file, digest, reason)
        return ExportOutcome(
            source_file, Status.REJECTED, 0, export.problems, check, reason, export.encoding
        )
    load_export(
        con, contract.table, landing_file, digest, export.frame, export.problems, export.encoding
    )
    status = Status.LOADED if loaded is None else Status.REPLACED
    return ExportOutcome(
        source_file, status, len(export.frame), export.problems, check, "", export.encoding
    )
