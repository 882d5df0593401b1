"""`dxkpi-dq`: status, explain and reprocess read a hand-built landing ledger and incident store,
name files, reasons, rules and counts, and exit 0 / 1 / 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion.common.ledger import FileOutcome, FileVersion, Ledger, RowCounts
from ingestion.common.problems import QUARANTINE, REFUSAL, WARNING, Finding, safe_reason
from orchestration.alerts.incidents import (
    ERROR,
    WARN,
    Incident,
    IncidentStore,
    Transition,
    alerts_db_path,
)
from orchestration.dq import main
from orchestration.dq.cli import EXIT_ATTENTION, EXIT_OK, EXIT_USAGE, resolve_dataset
from orchestration.dq.readings import data_docs_link, read_snapshot
from orchestration.dq.summary import render_summary

LOADED = "hr/131016_staff_20250401.csv"
REFUSED = "hr/131024_staff_20250401.csv"
STRAY = "hr/staff_list.xlsx"
REFUSAL_REASON = (
    "error: rule 'staff_number_shape' failed on column 職員番号 at rows 3, 7 (2 rows): "
    "values 1234567, 7654321"
)
DOCS = "file:///srv/dxkpi/data_docs/validations/hr_staff/run-1.html"


class Landing:
    """A landing zone, its ledger and incident store in tmp_path, named by the environment."""

    def __init__(self, root: Path) -> None:
        self.root = root / "landing"
        self.root.mkdir()
        self.ledger = Ledger(root / "landing_ledger.sqlite")
        self.incidents = IncidentStore(alerts_db_path(self.ledger.path))

    def drop(self, path: str, text: str = "header\nrow\n") -> Path:
        file = self.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        return file

    def record(
        self,
        path: str,
        state: str,
        reason: str = "",
        rows: RowCounts | None = None,
        findings: list[Finding] | None = None,
    ) -> FileVersion:
        file = self.root / path
        version = self.ledger.hash_files(self.root, [file])[file]
        self.ledger.record_outcomes([FileOutcome(version, state, reason, rows, findings)])
        return version

    def open_incident(self, severity: str, key: str, **fields: str) -> None:
        incident = Incident(
            key, "file", severity, f"Title of {key}", "msg", "act", "link", **fields
        )
        self.incidents.apply([Transition(incident, opens=True)], [], datetime.now(UTC))


def quarantine(line: int, rule: str = "grade_known", column: str = "職層") -> Finding:
    return Finding(line, column, rule, QUARANTINE, f"{column} is not a known grade")


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Landing:
    world = Landing(tmp_path)
    monkeypatch.setenv("DXKPI_LANDING", str(world.root))
    monkeypatch.setenv("DXKPI_LEDGER", str(world.ledger.path))
    return world


@pytest.fixture
def mixed(landing: Landing) -> Landing:
    """One loaded roster with two quarantined rows, one refused roster, one stray file."""
    landing.drop(LOADED)
    landing.record(
        LOADED, "loaded", rows=RowCounts(100, 98, 2), findings=[quarantine(5), quarantine(9)]
    )
    landing.drop(REFUSED)
    refusal = Finding(None, "職員番号", "staff_number_shape", REFUSAL, "職員番号 is not 7 digits")
    landing.record(REFUSED, "rejected", f"{REFUSAL_REASON}\nData Docs: {DOCS}", findings=[refusal])
    landing.drop(STRAY)
    landing.record(STRAY, "not_recognised", "extension .xlsx: exports are .csv files")
    return landing


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# status ---------------------------------------------------------------------------------------


def test_status_names_refused_and_stray_files_with_reasons_and_exits_1(
    mixed: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "status")
    assert code == EXIT_ATTENTION
    assert REFUSED in out and "staff_number_shape" in out and "職員番号" in out
    assert STRAY in out and "extension .xlsx" in out
    # the loaded roster with quarantined rows is a pair needing a look, with its counts
    line = next(line for line in out.splitlines() if "131016_staff_20250401.csv" in line)
    assert "loaded" in line and "98" in line and "2" in line.split()[-1]
    assert "1234567" not in out  # cell values quoted by the suite are never shown
    assert "Summary: 3 files" in out and "quarantined 2" in out


def test_status_of_a_clean_ledger_exits_0_and_all_lists_every_ward_and_dataset(
    landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    landing.drop(LOADED)
    landing.record(LOADED, "loaded", rows=RowCounts(10, 10, 0), findings=[])
    code, out = run(capsys, "status")
    assert code == EXIT_OK
    assert "needing a look (0 of 345)" in out
    assert "hr_staff from 22 wards" in out
    code, out = run(capsys, "status", "--all")
    assert code == EXIT_OK
    rows = [line for line in out.splitlines() if line.startswith("  13")]
    assert len(rows) == 23 * 15
    assert any("Chiyoda" in row and "131016_staff_20250401.csv" in row for row in rows)


def test_open_error_incident_needs_attention_but_a_warning_does_not(
    landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    landing.open_incident(WARN, "check:raw/hr_staff:rejected_rows", dataset="hr_staff")
    code, out = run(capsys, "status")
    assert code == EXIT_OK and "check:raw/hr_staff:rejected_rows" in out
    landing.open_incident(ERROR, "run:dxkpi_everything:manual")
    code, out = run(capsys, "status")
    assert code == EXIT_ATTENTION
    assert "Open incidents (2)" in out and "ERROR run:dxkpi_everything:manual" in out


@pytest.mark.parametrize(
    ("argv", "expected_code", "shows_refused"),
    [
        pytest.param(["--ward", "Chuo"], EXIT_ATTENTION, True, id="ward-by-name"),
        pytest.param(["--ward", "131016"], EXIT_OK, False, id="other-ward-by-code"),
        pytest.param(["--dataset", "hr/staff"], EXIT_ATTENTION, True, id="dataset-path"),
        pytest.param(["--dataset", "training_course"], EXIT_OK, False, id="other-dataset"),
    ],
)
def test_status_filters_by_ward_and_dataset(
    mixed: Landing,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected_code: int,
    shows_refused: bool,
) -> None:
    code, out = run(capsys, "status", *argv)
    assert code == expected_code
    assert (REFUSED in out) == shows_refused


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["status", "--ward", "Yokohama"], id="unknown-ward"),
        pytest.param(["status", "--dataset", "payroll"], id="unknown-dataset"),
        pytest.param(["explain", "131099_staff_20250401.csv"], id="unknown-file"),
        pytest.param(["explain", "/elsewhere/hr/131016_staff_20250401.csv"], id="outside"),
        pytest.param([], id="no-command"),
    ],
)
def test_usage_errors_exit_2(
    mixed: Landing, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out = run(capsys, *argv)
    assert code == EXIT_USAGE
    assert out  # says why


def test_status_json_for_scripts(mixed: Landing, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "status", "--json")
    document = json.loads(out)
    assert code == EXIT_ATTENTION and document["needs_attention"] is True
    assert document["summary"]["files_by_state"] == {
        "loaded": 1,
        "rejected": 1,
        "not_recognised": 1,
    }
    assert document["summary"]["rows_quarantined"] == 2
    assert [f["path"] for f in document["attention_files"]] == [REFUSED, STRAY]
    assert "1234567" not in out
    chuo = next(
        p
        for p in document["wards_datasets"]
        if (p["ward_code"], p["dataset"]) == ("131024", "hr_staff")
    )
    assert chuo["problem"] == "rejected" and chuo["last_loaded_file"] is None


def test_a_refused_file_removed_from_the_landing_zone_no_longer_needs_attention(
    mixed: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    (mixed.root / REFUSED).unlink()
    (mixed.root / STRAY).unlink()
    code, out = run(capsys, "status")
    assert code == EXIT_OK
    assert "Files refused or not recognised (0)" in out


def test_status_without_a_ledger_reads_empty_and_creates_nothing(
    landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "status")
    assert code == EXIT_OK and "Summary: 0 files" in out
    assert not landing.ledger.path.exists()
    assert not alerts_db_path(landing.ledger.path).exists()


# explain --------------------------------------------------------------------------------------


def test_explain_shows_every_version_its_findings_by_rule_and_what_to_do(
    landing: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a roster refused, then corrected under the same name and loaded with set-aside rows
    landing.drop(LOADED, "v1\n")
    first = landing.record(LOADED, "rejected", "error: rule 'header_present' failed")
    landing.drop(LOADED, "v2\n")
    findings = [quarantine(line) for line in (4, 8, 15, 16, 23, 42)]
    findings.append(Finding(None, "", "roster_volume", WARNING, "half of last month's rows"))
    second = landing.record(LOADED, "loaded", rows=RowCounts(50, 44, 6), findings=findings)
    # WHEN the operator asks by bare file name
    code, out = run(capsys, "explain", "131016_staff_20250401.csv")
    # THEN both versions, the current counts, the rules grouped with first lines, the next step
    assert code == EXIT_OK
    assert first.sha256[:12] in out and second.sha256[:12] in out
    assert "header_present" in out and "rejected" in out
    assert "rows read 50, loaded 44, quarantined 6" in out
    assert "grade_known  column 職層  6 times, lines 4, 8, 15, 16, 23, …" in out
    assert "roster_volume" in out and "whole file" in out
    assert "6 rows were set aside" in out
    assert "ward 131016, dataset hr_staff, reference date 2025-04-01" in out


def test_explain_a_refused_file_says_to_ask_the_ward_or_reprocess_and_links_data_docs(
    mixed: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "explain", str(mixed.root / REFUSED))  # an absolute path
    assert code == EXIT_OK
    assert "staff_number_shape" in out and "refusal" in out
    assert "corrected export under the same name" in out
    assert f"dxkpi-dq reprocess {REFUSED}" in out
    assert f"Data Docs: {DOCS}" in out
    assert "1234567" not in out


def test_explain_json(mixed: Landing, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "explain", LOADED, "--json")
    document = json.loads(out)
    assert code == EXIT_OK
    assert document["current"]["rows_loaded"] == 98
    assert document["findings"] == [
        {
            "rule": "grade_known",
            "severity": "quarantine",
            "column": "職層",
            "count": 2,
            "first_lines": [5, 9],
            "message": "職層 is not a known grade",
        }
    ]
    assert document["data_docs"] is None and document["in_landing_zone"] is True


def test_explain_names_new_bytes_the_ledger_has_not_seen(
    mixed: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    mixed.drop(REFUSED, "corrected\n")
    code, out = run(capsys, "explain", REFUSED)
    assert code == EXIT_OK and "new bytes the ledger has not seen yet" in out


# reprocess ------------------------------------------------------------------------------------


def test_reprocess_records_one_request_for_the_sensor(
    mixed: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "reprocess", "131024_staff_20250401.csv")
    pending = mixed.ledger.pending_reprocess()
    assert code == EXIT_OK
    assert [request.path for request in pending] == [REFUSED]
    assert f"request #{pending[0].id} recorded" in out and "next tick" in out
    # asking again does not queue a second request
    code, out = run(capsys, "reprocess", REFUSED)
    assert code == EXIT_OK and "already pending" in out
    assert len(mixed.ledger.pending_reprocess()) == 1
    # and explain shows it
    _, out = run(capsys, "explain", REFUSED)
    assert f"Reprocess request #{pending[0].id} pending" in out


def test_reprocess_refuses_a_file_not_in_the_landing_zone(
    mixed: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    (mixed.root / REFUSED).unlink()
    code, out = run(capsys, "reprocess", REFUSED)
    assert code == EXIT_USAGE and "not in the landing zone" in out
    assert mixed.ledger.pending_reprocess() == []


# helpers and the summary ----------------------------------------------------------------------


def test_safe_reason_cuts_quoted_values_and_data_docs_link_is_found() -> None:
    reason = f"{REFUSAL_REASON}\nerror: rule 'grade_known' failed: values 課長\nsee {DOCS}."
    assert safe_reason(reason) == (
        "error: rule 'staff_number_shape' failed on column 職員番号 at rows 3, 7 (2 rows); "
        f"error: rule 'grade_known' failed; see {DOCS}."
    )
    assert len(safe_reason("x" * 1000, 50)) == 50
    assert data_docs_link(reason) == DOCS
    assert data_docs_link("no link") is None


@pytest.mark.parametrize(
    ("text", "table"),
    [("hr_staff", "hr_staff"), ("hr/staff", "hr_staff"), ("enrollment", "training_enrollment")],
)
def test_resolve_dataset(text: str, table: str) -> None:
    tables = ["hr_staff", "training_course", "training_enrollment"]
    assert resolve_dataset(text, tables) == table


def test_summary_lists_refused_files_with_reasons_at_most_ten(landing: Landing) -> None:
    for day in range(1, 13):
        path = f"training/131016_course_202504{day:02d}.csv"
        landing.drop(path)
        landing.record(path, "rejected", f"error: rule 'course_code_unique' failed: values C{day}")
    landing.drop(LOADED)
    landing.record(LOADED, "loaded", rows=RowCounts(10, 7, 3), findings=[quarantine(4)])
    text = render_summary(read_snapshot(landing.ledger.path), landing.root)
    # The summary reads no finding: `dxkpi-run` reads the ledger without them, same text
    light = read_snapshot(landing.ledger.path, findings_too=False)
    assert light.findings == [] and read_snapshot(landing.ledger.path).findings != []
    assert render_summary(light, landing.root) == text
    assert "files loaded: 1 of 13" in text
    assert "files refused: 12, not recognised: 0" in text
    assert text.count("course_code_unique") == 10 and "… and 2 more" in text
    assert "rows quarantined: 3 in 1 loaded files" in text
    assert "incidents open: 0" in text and "dxkpi-dq status" in text
    assert "values C" not in text


def test_status_and_explain_write_nothing(
    mixed: Landing, capsys: pytest.CaptureFixture[str]
) -> None:
    mixed.open_incident(ERROR, f"file:{REFUSED}", file=REFUSED)
    # (a WAL reader may create the -wal and -shm companions: the databases stay as they were)
    databases = [mixed.ledger.path, alerts_db_path(mixed.ledger.path)]
    before = [database.read_bytes() for database in databases]
    run(capsys, "status", "--all")
    run(capsys, "explain", REFUSED, "--json")
    assert [database.read_bytes() for database in databases] == before
    for database in databases:
        assert not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size == 0
