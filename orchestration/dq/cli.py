"""`dxkpi-dq status | explain | reprocess`: the arguments, the output and the commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingestion.common.ledger import (
    RECEIVED_STATES,
    RUN_FAILED,
    Ledger,
    ReprocessRequest,
    file_sha256,
)
from ingestion.common.problems import Finding, reason_lines, safe_reason
from ingestion.common.reference import Ward, load_wards
from orchestration.alerts.incidents import ERROR
from orchestration.dq.readings import (
    ATTENTION_STATES,
    REFUSED_STATES,
    DqSnapshot,
    FileRecord,
    IncidentRecord,
    WardDatasetStatus,
    _moment,
    attention_files,
    data_docs_link,
    freshness_states,
    next_step,
    read_findings,
    read_snapshot,
    ward_dataset_statuses,
)
from orchestration.dq.summary import _count_text
from orchestration.dq.tables import landing_tables
from orchestration.settings import Settings, load_settings

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_USAGE = 2
DEFAULT_PROBLEM_ROWS = 20
FIRST_LINES_SHOWN = 5
SEVERITY_ORDER = {"refusal": 0, "quarantine": 1, "warning": 2}


# The command: reading the arguments ----------------------------------------------------------


class UsageError(Exception):
    """The arguments name no ward, dataset or file this deployment knows (exit code 2)."""


def resolve_ward(text: str, wards: Sequence[Ward]) -> Ward:
    """A ward by code, English or Japanese name (`131016`, `chiyoda`, `千代田区`)."""
    wanted = text.strip().casefold()
    for ward in wards:
        names = {ward.code, ward.name_en.casefold(), ward.name_ja, ward.name_ja.removesuffix("区")}
        if wanted in names:
            return ward
    raise UsageError(f"unknown ward {text!r}: give a code or name of the municipality list")


def resolve_dataset(text: str, tables: Sequence[str]) -> str:
    """A raw table from `hr_staff`, `hr/staff` or a dataset name of one system (`staff`)."""
    wanted = text.strip().replace("/", "_", 1)
    if wanted in tables:
        return wanted
    matches = [table for table in tables if table.split("_", 1)[1] == wanted]
    if len(matches) == 1:
        return matches[0]
    raise UsageError(f"unknown dataset {text!r}: one of {', '.join(tables)}")


def _under(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def resolve_file(text: str, landing: Path, known: Collection[str]) -> str:
    """A landing path (relative to the landing zone) from what the operator typed.

    Accepts a path relative to the landing zone, an absolute path or one relative to the
    working directory inside the landing zone, or a bare file name found in the ledger
    (`known`) or in a system folder of the landing zone.
    """
    given = Path(text)
    relative = _under(given, landing) if given.is_absolute() or given.exists() else None
    if given.is_absolute():
        if relative is None:
            raise UsageError(f"{text} is not inside the landing zone {landing}")
        return relative
    if "/" in text:
        return relative or given.as_posix()
    found = sorted({path for path in known if path.rsplit("/", 1)[-1] == text})
    if not found and landing.is_dir():
        found = sorted(p.relative_to(landing).as_posix() for p in landing.glob(f"*/{text}"))
    if len(found) > 1:
        raise UsageError(f"{text} is ambiguous: {', '.join(found)}; give its folder too")
    if not found:
        raise UsageError(f"{text}: no such file in the ledger or the landing zone {landing}")
    return found[0]


# Output helpers -----------------------------------------------------------------------------


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"dxkpi-dq: {text}\n")


def _when(moment: datetime | None) -> str:
    """A time as the operator reads it: local, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "-"


def _number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows as aligned text columns (numbers right-aligned)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w)
            if str(c).replace(",", "").replace("-", "").isdigit()
            else str(c).ljust(w)
            for c, w in zip(cells, widths, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _json(document: Mapping[str, Any]) -> None:
    _out(json.dumps(document, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# dxkpi-dq status ----------------------------------------------------------------------------


@dataclass
class StatusReport:
    """Everything `status` shows, filtered by ward and dataset."""

    statuses: list[WardDatasetStatus]
    attention: list[FileRecord]
    incidents: list[IncidentRecord]
    files_by_state: dict[str, int]
    rows_loaded: int
    rows_quarantined: int
    pending_reprocess: int

    @property
    def refused(self) -> list[FileRecord]:
        """The files refused or lost to failing runs (not the unrecognised ones)."""
        return [record for record in self.attention if record.state in REFUSED_STATES]

    @property
    def needs_attention(self) -> bool:
        """A file is refused, or an ERROR incident is open."""
        return bool(self.refused) or any(i.severity == ERROR for i in self.incidents)


@dataclass(frozen=True)
class Scope:
    """What `status` looks at: every ward and dataset, or one ward, or one dataset, or both.

    Attributes:
        wards: The wards shown.
        tables: The raw tables shown.
        ward: The one ward asked for (`--ward`), None for all.
        table: The one raw table asked for (`--dataset`), None for all.
    """

    wards: Sequence[Ward]
    tables: Sequence[str]
    ward: str | None = None
    table: str | None = None

    def covers(self, ward: str | None, table: str | None) -> bool:
        """A file or incident of `ward` and `table` is in scope (all are, without a filter)."""
        return (self.ward is None or ward == self.ward) and (
            self.table is None or table == self.table
        )


def status_report(
    snapshot: DqSnapshot,
    landing: Path,
    scope: Scope,
    freshness: Mapping[tuple[str, str], str] | None = None,
) -> StatusReport:
    """What `status` shows of `scope`: its pairs, files and incidents, and their counts."""
    current = [r for r in snapshot.current().values() if scope.covers(r.ward_code, r.dataset)]
    received = [r for r in current if r.state in RECEIVED_STATES]
    return StatusReport(
        statuses=ward_dataset_statuses(snapshot, scope.wards, scope.tables, freshness),
        attention=[
            r for r in attention_files(snapshot, landing) if scope.covers(r.ward_code, r.dataset)
        ],
        incidents=[i for i in snapshot.open_incidents() if scope.covers(i.ward, i.dataset)],
        files_by_state=dict(Counter(r.state for r in current)),
        rows_loaded=sum(r.rows_loaded or 0 for r in received),
        rows_quarantined=sum(r.rows_quarantined or 0 for r in received),
        pending_reprocess=len(snapshot.pending_reprocess),
    )


def _status_row(status: WardDatasetStatus) -> list[str]:
    last = status.last
    row = [
        status.ward.code,
        status.ward.name_en,
        status.dataset,
        last.name if last else "-",
        _when(last.first_seen if last else None),
        last.state if last else "never received",
        _number(last.rows_loaded if last else None),
        _number(last.rows_quarantined if last else None),
    ]
    if status.freshness is not None:
        row.append(status.freshness)
    return row


_STATUS_HEADER = ["ward", "", "dataset", "last file", "received", "outcome", "loaded", "quar."]
_PROBLEM_ORDER = {"rejected": 0, "still_rejected": 0, RUN_FAILED: 1, "overdue": 2}


def _ward_section(report: StatusReport, show_all: bool) -> list[str]:
    header = _STATUS_HEADER + (
        ["freshness"] if report.statuses[:1] and report.statuses[0].freshness else []
    )
    if show_all:
        return [
            f"Wards x datasets ({len(report.statuses)})",
            *_table(header, [_status_row(s) for s in report.statuses]),
        ]
    problems = sorted(
        (s for s in report.statuses if s.problem),
        key=lambda s: (_PROBLEM_ORDER.get(s.problem or "", 3), s.ward.code, s.dataset),
    )
    lines = [f"Wards x datasets needing a look ({len(problems)} of {len(report.statuses)})"]
    if problems:
        lines += _table(header, [_status_row(s) for s in problems[:DEFAULT_PROBLEM_ROWS]])
    if len(problems) > DEFAULT_PROBLEM_ROWS:
        lines.append(
            f"  … and {len(problems) - DEFAULT_PROBLEM_ROWS} more (--all lists every pair)"
        )
    lines += _never_received_lines(report.statuses)
    return lines


def _never_received_lines(statuses: Sequence[WardDatasetStatus]) -> list[str]:
    missing: dict[str, list[str]] = {}
    for status in statuses:
        if status.last is None:
            missing.setdefault(status.dataset, []).append(status.ward.code)
    if not missing:
        return []
    return ["  No file yet:"] + [
        f"    {table} from {_plural(len(codes), 'ward')} ({', '.join(codes[:8])}"
        f"{', …' if len(codes) > 8 else ''})"
        for table, codes in sorted(missing.items())
    ]


def _plural(count: int, noun: str) -> str:
    """`1 file`, `2 files`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _attention_section(report: StatusReport) -> list[str]:
    lines = [f"Files refused or not recognised ({len(report.attention)})"]
    for record in report.attention:
        lines.append(
            f"  {record.state:<15} {record.path}  since {_when(record.first_seen)}: "
            f"{safe_reason(record.reason, 200) or 'no reason recorded'}"
        )
    return lines


def _incident_section(incidents: Sequence[IncidentRecord]) -> list[str]:
    lines = [f"Open incidents ({len(incidents)})"]
    for incident in incidents:
        lines.append(
            f"  {incident.severity:<5} {incident.key}  {incident.title}  "
            f"since {_when(incident.opened_at)}"
        )
    return lines


def _summary_line(report: StatusReport) -> list[str]:
    files = sum(report.files_by_state.values())
    severities = Counter(i.severity for i in report.incidents)
    return [
        f"Summary: {_plural(files, 'file')} ({_count_text(report.files_by_state) or 'none'}); "
        f"rows loaded {report.rows_loaded:,}, quarantined {report.rows_quarantined:,}; "
        f"{len(report.attention)} refused or not recognised; "
        f"{_plural(len(report.incidents), 'incident')} open"
        + (f" ({_count_text(severities)})" if severities else "")
        + (
            f"; {_plural(report.pending_reprocess, 'reprocess request')} pending"
            if report.pending_reprocess
            else ""
        ),
        "More: dxkpi-dq explain <file>; dxkpi-dq status --all",
    ]


def render_status(report: StatusReport, show_all: bool) -> str:
    """The text of `dxkpi-dq status`."""
    sections = [
        _ward_section(report, show_all),
        _attention_section(report),
        _incident_section(report.incidents),
        _summary_line(report),
    ]
    return "\n\n".join("\n".join(section) for section in sections)


def _status_json(report: StatusReport) -> dict[str, Any]:
    return {
        "needs_attention": report.needs_attention,
        "wards_datasets": [
            {
                "ward_code": s.ward.code,
                "ward_name_en": s.ward.name_en,
                "dataset": s.dataset,
                "last_file": _file_json(s.last) if s.last else None,
                "last_loaded_file": s.last_received.path if s.last_received else None,
                "open_incidents": s.open_incidents,
                "open_dataset_incidents": s.open_dataset_incidents,
                "freshness": s.freshness,
                "problem": s.problem,
            }
            for s in report.statuses
        ],
        "attention_files": [_file_json(record) for record in report.attention],
        "open_incidents": [_incident_json(incident) for incident in report.incidents],
        "summary": {
            "files_by_state": report.files_by_state,
            "rows_loaded": report.rows_loaded,
            "rows_quarantined": report.rows_quarantined,
            "pending_reprocess": report.pending_reprocess,
        },
    }


def _file_json(record: FileRecord) -> dict[str, Any]:
    document = asdict(record)
    document["reason"] = safe_reason(record.reason)
    return document


def _incident_json(incident: IncidentRecord) -> dict[str, Any]:
    return {**asdict(incident), "message": safe_reason(incident.message)}


def command_status(args: argparse.Namespace, settings: Settings) -> int:
    """`dxkpi-dq status`: per ward and dataset, refused files, incidents, counts."""
    scope = _scope(args.ward, args.dataset)
    snapshot = read_snapshot(settings.ledger_path)
    freshness = None
    if args.freshness:
        codes = [ward.code for ward in scope.wards]
        freshness = freshness_states(snapshot, codes, scope.tables, datetime.now(UTC))
    report = status_report(snapshot, settings.landing_dir, scope, freshness)
    if args.json:
        _json(_status_json(report))
    else:
        _out(f"dxkpi-dq status: {settings.ledger_path} (times {_when_zone()})")
        _out()
        _out(render_status(report, args.all))
    return EXIT_ATTENTION if report.needs_attention else EXIT_OK


def _scope(ward_text: str | None, dataset_text: str | None) -> Scope:
    wards, tables = load_wards(), landing_tables()
    ward = resolve_ward(ward_text, wards) if ward_text else None
    table = resolve_dataset(dataset_text, tables) if dataset_text else None
    return Scope([ward] if ward else wards, [table] if table else tables, ward and ward.code, table)


def _when_zone() -> str:
    return datetime.now().astimezone().tzname() or "local"


# dxkpi-dq explain ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFindings:
    """The findings of one rule, severity and column in a file version."""

    rule: str
    severity: str
    column: str
    count: int
    first_lines: list[int]
    message: str


def group_findings(findings: Iterable[Finding]) -> list[RuleFindings]:
    """Findings grouped by rule, severity and column: refusals first, then by count."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.rule, finding.severity, finding.column), []).append(finding)
    grouped = [
        RuleFindings(
            rule,
            severity,
            column,
            len(items),
            sorted(f.line for f in items if f.line is not None)[:FIRST_LINES_SHOWN],
            safe_reason(items[0].message, 200),
        )
        for (rule, severity, column), items in groups.items()
    ]
    return sorted(grouped, key=lambda g: (SEVERITY_ORDER.get(g.severity, 3), -g.count, g.rule))


@dataclass
class Explanation:
    """Everything `explain` shows about one landing path."""

    path: str
    versions: list[FileRecord]
    findings: list[RuleFindings]
    in_landing: bool
    landing_sha256: str | None
    pending_reprocess: list[ReprocessRequest]
    incidents: list[IncidentRecord]

    @property
    def current(self) -> FileRecord:
        """The newest version (by first seen)."""
        return self.versions[-1]

    @property
    def next_step(self) -> str:
        """What to do about the current version."""
        if self.in_landing and self.landing_sha256 not in {v.sha256 for v in self.versions}:
            return (
                "The landing zone holds new bytes the ledger has not seen yet: the landing "
                "sensor reads them at its next tick."
            )
        current = self.current
        if not self.in_landing and current.state in ATTENTION_STATES:
            return "The file is no longer in the landing zone: nothing waits for it."
        return next_step(current.state, current.path, current.rows_quarantined)

    @property
    def data_docs(self) -> str | None:
        """The Data Docs link of the current version's reason, if it names one."""
        return data_docs_link(self.current.reason)


def explain(path: str, snapshot: DqSnapshot, ledger_path: Path, landing: Path) -> Explanation:
    """Gather what the ledger and the landing zone say of one landing path."""
    versions = [record for record in snapshot.files if record.path == path]
    on_disk = landing / path
    in_landing = on_disk.is_file()
    current = versions[-1]
    return Explanation(
        path=path,
        versions=versions,
        findings=group_findings(read_findings(ledger_path, current.path, current.sha256)),
        in_landing=in_landing,
        landing_sha256=file_sha256(on_disk) if in_landing else None,
        pending_reprocess=[p for p in snapshot.pending_reprocess if p.path == path],
        incidents=[i for i in snapshot.open_incidents() if i.file == path],
    )


def render_explanation(explanation: Explanation) -> str:
    """The text of `dxkpi-dq explain`."""
    current = explanation.current
    lines = [f"{explanation.path}  (times {_when_zone()})"]
    if current.ward_code:
        lines.append(
            f"  ward {current.ward_code}, dataset {current.dataset}, "
            f"reference date {current.reference_date}"
        )
    where = "in the landing zone" if explanation.in_landing else "no longer in the landing zone"
    if explanation.landing_sha256:
        where += f", sha256 {explanation.landing_sha256[:12]}"
    lines += [f"  {where}", "", f"Versions ({len(explanation.versions)}, oldest first)"]
    lines += _table(
        ["sha256", "first seen", "updated", "state", "reason"],
        [
            [
                v.sha256[:12],
                _when(v.first_seen),
                _when(v.updated_at),
                v.state,
                safe_reason(v.reason, 120) or "-",
            ]
            for v in explanation.versions
        ],
    )
    lines += ["", f"Current version {current.sha256[:12]}: {current.state}"]
    lines += [f"  reason: {line}" for line in reason_lines(current.reason)]
    lines.append(
        f"  rows read {_number(current.rows_read)}, loaded {_number(current.rows_loaded)}, "
        f"quarantined {_number(current.rows_quarantined)}"
    )
    if current.run_id:
        lines.append(f"  run: {current.run_id}")
    lines += ["", *_findings_lines(explanation.findings)]
    lines += ["", f"Next: {explanation.next_step}"]
    if explanation.data_docs:
        lines.append(f"Data Docs: {explanation.data_docs}")
    for request in explanation.pending_reprocess:
        lines.append(
            f"Reprocess request #{request.id} pending since {_when(_moment(request.requested_at))}."
        )
    for incident in explanation.incidents:
        lines.append(
            f"Open incident: {incident.severity} {incident.title} (since "
            f"{_when(incident.opened_at)}) {incident.link}"
        )
    return "\n".join(lines)


def _where_found(group: RuleFindings) -> str:
    """`whole file`, `line 5`, `lines 4, 8, …`."""
    if not group.first_lines:
        return "whole file"
    more = ", …" if group.count > len(group.first_lines) else ""
    noun = "line" if group.count == 1 else "lines"
    return f"{noun} {', '.join(map(str, group.first_lines))}{more}"


def _findings_lines(findings: Sequence[RuleFindings]) -> list[str]:
    if not findings:
        return ["Findings: none recorded"]
    lines = [f"Findings by rule ({sum(f.count for f in findings):,})"]
    for group in findings:
        lines.append(
            f"  {group.severity:<10} {group.rule}  column {group.column or '(file)'}  "
            f"{_plural(group.count, 'time')}, {_where_found(group)}"
        )
        lines.append(f"             {group.message}")
    return lines


def _explanation_json(explanation: Explanation) -> dict[str, Any]:
    return {
        "path": explanation.path,
        "in_landing_zone": explanation.in_landing,
        "landing_sha256": explanation.landing_sha256,
        "versions": [_file_json(version) for version in explanation.versions],
        "current": _file_json(explanation.current),
        "findings": [asdict(group) for group in explanation.findings],
        "next_step": explanation.next_step,
        "data_docs": explanation.data_docs,
        "pending_reprocess": [asdict(request) for request in explanation.pending_reprocess],
        "open_incidents": [_incident_json(incident) for incident in explanation.incidents],
    }


def command_explain(args: argparse.Namespace, settings: Settings) -> int:
    """`dxkpi-dq explain <file>`: every version, findings by rule, what to do next."""
    snapshot = read_snapshot(settings.ledger_path)
    known = {record.path for record in snapshot.files}
    path = resolve_file(args.file, settings.landing_dir, known)
    if path not in known:
        landed = (settings.landing_dir / path).is_file()
        raise UsageError(
            f"{path}: no entry in the ledger {settings.ledger_path} yet"
            + (" (it is in the landing zone: the landing sensor records it)" if landed else "")
        )
    explanation = explain(path, snapshot, settings.ledger_path, settings.landing_dir)
    if args.json:
        _json(_explanation_json(explanation))
    else:
        _out(render_explanation(explanation))
    return EXIT_OK


# dxkpi-dq reprocess -------------------------------------------------------------------------


def command_reprocess(args: argparse.Namespace, settings: Settings) -> int:
    """`dxkpi-dq reprocess <file>`: ask the landing sensor to read a file again."""
    snapshot = read_snapshot(settings.ledger_path)
    known = {record.path for record in snapshot.files}
    path = resolve_file(args.file, settings.landing_dir, known)
    if not (settings.landing_dir / path).is_file():
        raise UsageError(f"{path} is not in the landing zone {settings.landing_dir}")
    pending = [p for p in snapshot.pending_reprocess if p.path == path]
    if pending:
        _out(
            f"{path}: request #{pending[0].id} is already pending (since "
            f"{_when(_moment(pending[0].requested_at))}); "
            "the landing sensor reads the file again at its next tick."
        )
        return EXIT_OK
    request_id = Ledger(settings.ledger_path).request_reprocess(path)
    _out(
        f"{path}: reprocess request #{request_id} recorded. The landing sensor reads the file "
        "again at its next tick (every 5 s while the daemon runs) and asks for a run; see the "
        f"outcome with `dxkpi-dq explain {path}`."
    )
    return EXIT_OK


# Entry point --------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dxkpi-dq",
        description="The operator's data-quality loop: what came in, what was refused and why, "
        "and asking for a file to be read again. Reads the landing ledger and the alert "
        "incidents only (never the warehouse), so it works while the pipeline runs.",
        epilog="Exit codes: 0 all well, 1 needs attention (status: a refused file or an open "
        "ERROR incident), 2 usage error or unknown file.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="per ward and dataset; refused files; incidents")
    status.add_argument("--ward", help="one ward: code or name (131016, Chiyoda, 千代田区)")
    status.add_argument("--dataset", help="one dataset: hr_staff, hr/staff or staff")
    status.add_argument("--all", action="store_true", help="list every ward x dataset")
    status.add_argument(
        "--freshness",
        action="store_true",
        help="evaluate each ward's freshness (orchestration/freshness.yaml; loads Dagster, ~4 s)",
    )
    status.add_argument("--json", action="store_true", help="JSON for scripts")
    explain_command = commands.add_parser("explain", help="one file: versions, findings, next step")
    explain_command.add_argument("file", help="path in the landing zone, file name, or absolute")
    explain_command.add_argument("--json", action="store_true", help="JSON for scripts")
    reprocess = commands.add_parser(
        "reprocess", help="ask the landing sensor to read a file again (after a rule change)"
    )
    reprocess.add_argument("file", help="path in the landing zone, file name, or absolute")
    return parser


COMMANDS = {"status": command_status, "explain": command_explain, "reprocess": command_reprocess}


def main(argv: list[str] | None = None) -> int:
    """Entry point of `dxkpi-dq`; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return int(stop.code or 0)
    try:
        return COMMANDS[args.command](args, load_settings())
    except UsageError as error:
        _err(str(error))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
