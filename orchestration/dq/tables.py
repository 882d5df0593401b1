"""The tables of the `dq` schema each publication writes beside the marts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.common.problems import safe_reason
from ingestion.common.reference import load_wards
from orchestration.dq.readings import (
    DqSnapshot,
    FileRecord,
    WardDatasetStatus,
    freshness_states,
    read_snapshot,
    ward_dataset_statuses,
)

# The publication's dq tables ----------------------------------------------------------------


@dataclass(frozen=True)
class DqTable:
    """A table of the `dq` schema of the serving file.

    Attributes:
        name: Schema-qualified, e.g. `dq.file_outcomes`.
        columns: Its DuckDB columns, `name type, ...` (the publication adds `published_at`).
        comment: What one row is, for `COMMENT ON TABLE`.
        rows: One mapping of column name to value per row.
    """

    name: str
    columns: str
    comment: str
    rows: list[dict[str, Any]]

    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
        return [part.split()[0] for part in self.columns.split(",")]

    @property
    def column_comments(self) -> dict[str, str]:
        """What each column holds, for `COMMENT ON COLUMN` (a name means the same in every
        dq table)."""
        return {name: DQ_COLUMN_COMMENTS[name] for name in self.column_names}


DQ_COLUMN_COMMENTS = {
    "path": "The file's path under the landing zone, e.g. hr/131016_staff_20250401.csv.",
    "system": "The source system (landing folder): hr, training, proposals, dx_office, surveys.",
    "ward_code": "The ward (6-digit local government code), from the file name.",
    "ward_name_en": "The ward's name in English.",
    "dataset": "The raw table the dataset loads into, e.g. hr_staff.",
    "reference_date": "The export's 基準日 (reference date), from the file name.",
    "sha256": "SHA-256 of the file version's bytes.",
    "is_current": "True for the newest version of its path.",
    "state": "The file version's outcome in the landing ledger (loaded, rejected, ...).",
    "reason": "Why it was refused or not read: the rule and file line, never a cell value.",
    "rows_read": "Data rows read from the file; null when it was not read.",
    "rows_loaded": "Rows written to the warehouse.",
    "rows_quarantined": "Rows set aside by row rules (ops.row_problems says which and why).",
    "run_id": "The Dagster run that processed the file version.",
    "first_seen": "When the ledger first saw this version (UTC).",
    "updated_at": "When its outcome was last recorded (UTC).",
    "rule": "The rule found broken (a reader rule, an expectation or a row rule).",
    "severity": "refusal (file refused), quarantine (rows set aside) or warning (loaded).",
    "finding_count": "How many findings of this rule and severity in the file version.",
    "first_line": "The file line of the first finding (1 = header); null: the whole file.",
    "columns": "The columns the rule read, comma-separated.",
    "message": "The first finding's message: file, rule and counts, never cell text.",
    "last_file": "The last file received for the ward and dataset, whatever its outcome.",
    "last_file_seen_at": "When that file was first seen (UTC).",
    "last_state": "Its outcome in the landing ledger.",
    "last_reason": "Why it was refused or not read, if it was.",
    "last_loaded_file": "The last file of the ward and dataset that loaded.",
    "last_loaded_seen_at": "When that file was first seen (UTC).",
    "open_incidents": "Incidents open about the ward's files of this dataset.",
    "open_dataset_incidents": "Incidents open about the dataset as a whole (its checks).",
    "freshness_state": "fresh, warn, overdue or never_received at publication (freshness.yaml).",
    "id": "The incident's number in the alert store.",
    "key": "What the incident is about, e.g. file:<path> or check:<asset>:<check>.",
    "kind": "file, check, run or freshness.",
    "title": "One line for the operator: the file or check and what happened.",
    "action": "What the operator should do (the runbook's line).",
    "link": "Where to look: the Dagster run or asset, or the Data Docs page.",
    "file": "The file the incident is about, if any.",
    "is_open": "True until the incident resolves.",
    "opened_at": "When the incident opened (UTC).",
    "resolved_at": "When it resolved (UTC); null while open.",
    "resolution": "How it resolved: the corrected file loaded, the file removed, ...",
}


FILE_OUTCOMES_COLUMNS = (
    "path varchar, system varchar, ward_code varchar, dataset varchar, reference_date date, "
    "sha256 varchar, is_current boolean, state varchar, reason varchar, rows_read bigint, "
    "rows_loaded bigint, rows_quarantined bigint, run_id varchar, first_seen timestamptz, "
    "updated_at timestamptz"
)
FILE_OUTCOMES_COMMENT = (
    "One row per file version the landing ledger saw (path x sha256): ward, dataset (raw "
    "table) and reference date read from the name; state (loaded, replaced, unchanged, "
    "rejected, still_rejected, superseded, vanished, not_recognised, run_failed, requested, "
    "settling); reason, cut before any quoted cell value; rows read, loaded and quarantined "
    "(null when not read); is_current: the newest version of its path. Times in UTC."
)
FINDINGS_COLUMNS = (
    "path varchar, sha256 varchar, rule varchar, severity varchar, finding_count bigint, "
    "first_line bigint, columns varchar, message varchar"
)
FINDINGS_COMMENT = (
    "One row per file version x rule x severity (refusal: the file was refused; quarantine: "
    "rows set aside; warning: loaded, worth a look): how many findings, the first file line "
    "(null: the whole file), the columns, and the message of the first one. Never cell text."
)
WARD_STATUS_COLUMNS = (
    "ward_code varchar, ward_name_en varchar, dataset varchar, last_file varchar, "
    "last_file_seen_at timestamptz, last_state varchar, last_reason varchar, "
    "rows_loaded bigint, rows_quarantined bigint, last_loaded_file varchar, "
    "last_loaded_seen_at timestamptz, open_incidents bigint, open_dataset_incidents bigint, "
    "freshness_state varchar"
)
WARD_STATUS_COMMENT = (
    "One row per ward x dataset (raw table): the last file received (whatever its outcome) "
    "and when, its outcome and rows, the last file that loaded, incidents open about the "
    "ward's files and about the dataset as a whole (checks), and the freshness of the ward's "
    "exports at publication (fresh, warn, overdue, never_received; orchestration/"
    "freshness.yaml). Times in UTC."
)
INCIDENTS_COLUMNS = (
    "id bigint, key varchar, kind varchar, severity varchar, title varchar, message varchar, "
    "action varchar, link varchar, ward_code varchar, dataset varchar, file varchar, "
    "rule varchar, is_open boolean, opened_at timestamptz, resolved_at timestamptz, "
    "resolution varchar"
)
INCIDENTS_COMMENT = (
    "One row per alert incident, open or resolved: a refused file, a failed check or run, an "
    "overdue source. Titles and messages name files, rules and counts only. Times in UTC."
)


def _file_outcome_row(record: FileRecord, current: bool) -> dict[str, Any]:
    row = asdict(record)
    row.update(is_current=current, reason=safe_reason(record.reason))
    return row


def file_outcomes_table(snapshot: DqSnapshot) -> DqTable:
    """`dq.file_outcomes`: one row per file version."""
    current = {(r.path, r.sha256) for r in snapshot.current().values()}
    rows = [_file_outcome_row(r, (r.path, r.sha256) in current) for r in snapshot.files]
    return DqTable("dq.file_outcomes", FILE_OUTCOMES_COLUMNS, FILE_OUTCOMES_COMMENT, rows)


def findings_summary_table(snapshot: DqSnapshot) -> DqTable:
    """`dq.findings_summary`: one row per file version, rule and severity."""
    rows = [
        {**asdict(f), "finding_count": f.count, "message": safe_reason(f.message)}
        for f in snapshot.findings
    ]
    return DqTable("dq.findings_summary", FINDINGS_COLUMNS, FINDINGS_COMMENT, rows)


def _ward_status_row(status: WardDatasetStatus) -> dict[str, Any]:
    last, loaded = status.last, status.last_received
    return {
        "ward_code": status.ward.code,
        "ward_name_en": status.ward.name_en,
        "dataset": status.dataset,
        "last_file": last and last.path,
        "last_file_seen_at": last and last.first_seen,
        "last_state": last and last.state,
        "last_reason": last and safe_reason(last.reason),
        "rows_loaded": last and last.rows_loaded,
        "rows_quarantined": last and last.rows_quarantined,
        "last_loaded_file": loaded and loaded.path,
        "last_loaded_seen_at": loaded and loaded.first_seen,
        "open_incidents": status.open_incidents,
        "open_dataset_incidents": status.open_dataset_incidents,
        "freshness_state": status.freshness,
    }


def ward_dataset_status_table(statuses: Sequence[WardDatasetStatus]) -> DqTable:
    """`dq.ward_dataset_status`: one row per ward and dataset."""
    rows = [_ward_status_row(status) for status in statuses]
    return DqTable("dq.ward_dataset_status", WARD_STATUS_COLUMNS, WARD_STATUS_COMMENT, rows)


def incidents_table(snapshot: DqSnapshot) -> DqTable:
    """`dq.incidents`: every incident, open or resolved."""
    rows = [
        {
            **asdict(i),
            "ward_code": i.ward,
            "message": safe_reason(i.message),
            "is_open": i.is_open,
        }
        for i in snapshot.incidents
    ]
    return DqTable("dq.incidents", INCIDENTS_COLUMNS, INCIDENTS_COMMENT, rows)


def landing_tables() -> list[str]:
    """The raw tables of the landing zone's datasets (`hr_staff`, ...), sorted."""
    from ingestion.registry import FILE_CONTRACTS

    return sorted(FILE_CONTRACTS)


def publication_tables(ledger_path: Path, now: datetime | None = None) -> list[DqTable]:
    """The `dq` tables of a publication, read from the ledger and incident store now."""
    snapshot = read_snapshot(ledger_path)
    wards, tables = load_wards(), landing_tables()
    codes = [ward.code for ward in wards]
    freshness = freshness_states(snapshot, codes, tables, now or datetime.now(UTC))
    return [
        file_outcomes_table(snapshot),
        findings_summary_table(snapshot),
        ward_dataset_status_table(ward_dataset_statuses(snapshot, wards, tables, freshness)),
        incidents_table(snapshot),
    ]
