"""The operator's loop, end to end: bad exports of every kind beside good ones, real runs of the
raw assets, the landing ledger's outcomes and findings, and the alert sensor posting to a real
HTTP receiver on loopback: one alert per incident, and one resolution after corrected exports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import dagster as dg
import duckdb
import pytest
from alert_loopback import Receiver, Ticker, channels_of, jsonl

from ingestion.common.ledger import Ledger
from ingestion.common.problems import QUARANTINE, REFUSAL, WARNING
from orchestration.assets.landing import landing_assets
from orchestration.resources import LandingZoneResource, WarehouseResource

STAFF_HEADER = ["職員番号", "氏名", "氏名カナ", "所属コード", "所属名", "職層", "職名", "任用形態"]
STAFF_HEADER += ["採用年月日", "退職年月日"]
ENROLLMENT_HEADER = ["受講番号", "職員番号", "コースコード", "実施番号", "申込日", "受講状況"]
ENROLLMENT_HEADER += ["修了日"]
GOOD_ROWS = 40
DAY = "20250401"


def staff_row(number: str, hired: str = "2015/4/1") -> list[str]:
    return [number, "甲", "コウ", "0100", "総務部", "係員", "主事", "正規", hired, ""]


def staff_rows(count: int = GOOD_ROWS, first: int = 1) -> list[list[str]]:
    return [staff_row(f"{n:06d}") for n in range(first, first + count)]


def csv_bytes(rows: list[list[str]], delimiter: str = ",", final_newline: bool = True) -> bytes:
    text = "\r\n".join(delimiter.join(row) for row in rows) + ("\r\n" if final_newline else "")
    return text.encode("cp932")


def roster(rows: list[list[str]] | None = None, header: list[str] = STAFF_HEADER) -> bytes:
    return csv_bytes([header, *(staff_rows() if rows is None else rows)])


def renamed(header: list[str], old: str, new: str) -> list[str]:
    return [new if cell == old else cell for cell in header]


def enrollments() -> bytes:
    rows = [
        [f"E{n:04d}", f"{n:06d}", "DB2501", "", "2025/1/10", "修了", "2025/2/1"]
        for n in range(1, GOOD_ROWS + 1)
    ]
    rows.append(["E9001", "000003", "DB2501", "", "2025/3/1", "修了", "2025/2/1"])
    return csv_bytes([ENROLLMENT_HEADER, *rows])


GOOD = {
    "hr/131016_staff_20250401.csv": roster(),
    # One cell holding two numbers, one number of the wrong shape: each row quarantined.
    "hr/131024_staff_20250401.csv": roster(
        [*staff_rows(), staff_row("000101・000102"), staff_row("12345")]
    ),
    "hr/131121_staff_20250401.csv": roster(
        [[*row, "備考"] for row in staff_rows()], [*STAFF_HEADER, "備考欄"]
    ),
    "training/131016_enrollment_20250401.csv": enrollments(),
}
missing_two = [c for c in STAFF_HEADER if c not in ("職層", "職名")]
body = staff_rows()
truncated = csv_bytes([STAFF_HEADER, *body])[:-12]  # cut inside the last row
undecodable = roster()[:200] + b"\x81\x20\x85" + roster()[200:]
nul = roster()[:150] + b"\x00\x00" + roster()[150:]
BAD = {
    # path: (bytes, expected state, rule, what the message must say)
    "hr/131041_staff_20250401.csv": (
        roster(header=renamed(STAFF_HEADER, "採用年月日", "採用日")),
        "rejected",
        "header_column_renamed",
        r"column 採用年月日 is missing and 採用日 is not a column of the export: renamed\?",
    ),
    "hr/131059_staff_20250401.csv": (
        csv_bytes([missing_two, *(r[:5] + r[7:] for r in body)]),
        "rejected",
        "header_column_missing",
        r"header on line 1: missing column\(s\) 職層, 職名",
    ),
    "hr/131067_staff_20250401.csv": (
        csv_bytes([STAFF_HEADER, *body], delimiter="\t"),
        "rejected",
        "wrong_delimiter",
        r"wrong delimiter: the header on line 1 is separated by tabs",
    ),
    "hr/131075_staff_20250401.csv": (b"", "rejected", "empty_file", r"empty file \(0 bytes\)"),
    "hr/131083_staff_20250401.csv": (
        nul,
        "rejected",
        "binary_content",
        r"binary content: NUL byte at byte 150 \(line \d+\)",
    ),
    "hr/131091_staff_20250401.csv": (
        undecodable,
        "rejected",
        "undecodable_bytes",
        r"undecodable bytes: .* breaks at byte 20[0-2] \(line \d+",
    ),
    "hr/131105_staff_20250401.csv": (
        truncated,
        "rejected",
        "truncated_last_row",
        r"truncated last row: the file ends inside the row on line 41",
    ),
    "hr/131113_staff_20250401.csv": (
        roster([staff_row(f"{n:06d}", "平成31年5月1日") for n in range(1, GOOD_ROWS + 1)]),
        "rejected",
        "too_many_rows_quarantined",
        r"40 of 40 rows \(100%\) break row rules.*date_after_era_ended on 採用年月日",
    ),
    "hr/131130_staff_20250401.csv": (
        "会議資料\r\n議題,日時\r\n予算,明日\r\n".encode("cp932"),
        "rejected",
        "header_not_found",
        r"header not found: no row among the first 10 names the columns of hr/staff",
    ),
    # Read fine, refused by the GX suite: its Data Docs page is linked.
    "hr/131148_staff_20250401.csv": (
        csv_bytes([STAFF_HEADER]),
        "rejected",
        "expectation_suite",
        r"rule 'at least 1 row' failed.*csv: Data Docs: file://",
    ),
    # A valid check digit, but no configured ward.
    "hr/139998_staff_20250401.csv": (
        roster(),
        "not_recognised",
        None,
        r"ward code 139998 is not a configured ward",
    ),
    "hr/131016_payroll_20250401.csv": (
        roster(),
        "not_recognised",
        None,
        r"dataset payroll is not an export of hr",
    ),
    "training/131016_staff_20250401.csv": (
        roster(),
        "not_recognised",
        None,
        r"dataset staff belongs in hr/, not training/",
    ),
    "hr/131016_staff_20250501.xlsx": (
        roster(),
        "not_recognised",
        None,
        r"extension \.xlsx: exports are \.csv files",
    ),
}


@pytest.fixture
def zone(tmp_path: Path) -> Iterator[tuple[Path, LandingZoneResource, WarehouseResource]]:
    landing = tmp_path / "landing"
    for name, raw in GOOD.items():
        write(landing / name, raw)
    for name, (raw, *_) in BAD.items():
        write(landing / name, raw)
    resource = LandingZoneResource(
        path=str(landing),
        ledger_path=str(tmp_path / "ledger.sqlite"),
        data_docs_dir=str(tmp_path / "data_docs"),
    )
    yield landing, resource, WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))


def write(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)


def materialise(
    instance: dg.DagsterInstance, landing: LandingZoneResource, warehouse: WarehouseResource
) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """One real run of the raw assets of the landing zone (scan mode): its check evaluations."""
    result = dg.materialize(
        landing_assets,
        instance=instance,
        resources={"landing": landing, "warehouse": warehouse},
        raise_on_error=False,
    )
    return {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}


def current(ledger: Ledger) -> dict[str, tuple[str, str, str]]:
    """path -> (state, reason, sha256) of the newest version of each path."""
    newest = {}
    for entry in ledger.entries():
        newest[entry.path] = (entry.state, entry.reason, entry.sha256)
    return newest


def test_every_file_is_accounted_for_and_alerted_once_then_resolved(
    zone: tuple[Path, LandingZoneResource, WarehouseResource], tmp_path: Path
) -> None:
    root, landing, warehouse = zone
    originals = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    receiver = Receiver()
    alerts_file = tmp_path / "alerts.jsonl"
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            checks = materialise(instance, landing, warehouse)
            ledger = landing.ledger()
            files = current(ledger)

            # Every file has one outcome, and a message naming its cause.
            assert set(files) == set(GOOD) | set(BAD)
            for name, (_, state, rule, message) in BAD.items():
                got_state, reason, digest = files[name]
                assert got_state == state, (name, reason)
                assert re.search(message, reason, re.DOTALL), (name, reason)
                if rule is not None:
                    refusals = [f for f in ledger.findings(name, digest) if f.severity == REFUSAL]
                    assert [f.rule for f in refusals] == [rule], name
            assert {files[name][0] for name in GOOD} == {"loaded"}

            # A refusal by the breaker keeps the row findings that led there.
            era = "hr/131113_staff_20250401.csv"
            era_rows = ledger.findings(era, files[era][2])
            assert {f.rule for f in era_rows if f.severity == QUARANTINE} == {
                "date_after_era_ended"
            }
            assert len([f for f in era_rows if f.severity == QUARANTINE]) == GOOD_ROWS

            # Row rules quarantine rows; the rest of the file loads.
            two = "hr/131024_staff_20250401.csv"
            counts = ledger.rows(two, files[two][2])
            assert (counts.read, counts.loaded, counts.quarantined) == (42, 40, 2)
            found = {(f.line, f.rule) for f in ledger.findings(two, files[two][2])}
            assert found == {(42, "several_staff_numbers"), (43, "staff_number_shape")}
            enrol = "training/131016_enrollment_20250401.csv"
            assert [
                (f.line, f.column, f.rule) for f in ledger.findings(enrol, files[enrol][2])
            ] == [(42, "修了日", "values_out_of_order")]
            # Schema drift: a warning, and the file loads.
            drift = "hr/131121_staff_20250401.csv"
            (warning,) = ledger.findings(drift, files[drift][2])
            assert (warning.severity, warning.rule, warning.column) == (
                WARNING,
                "unexpected_column",
                "備考欄",
            )
            assert not checks[("hr_staff", "expectation_suite")].passed
            assert not checks[("hr_staff", "file_warnings")].passed
            assert checks[("training_enrollment", "expectation_suite")].passed

            # The good rows are loaded, and no file was touched.
            with duckdb.connect(warehouse.path, read_only=True) as con:
                loaded = dict(
                    con.execute(
                        "select ward_code, count(*) from raw.hr_staff group by all"
                    ).fetchall()
                )
                enrolled = con.execute("select count(*) from raw.training_enrollment").fetchone()
            assert loaded == {"131016": 40, "131024": 40, "131121": 40}
            assert enrolled == (GOOD_ROWS,)
            assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == originals

            # Alerts: one per incident, on every channel.
            ticker = Ticker(instance, landing, channels_of(receiver, alerts_file))
            ticker.tick()
            opened = jsonl(alerts_file)
            file_keys = {f"file:{name}" for name in BAD}
            # A refusal is alerted per file (the suite's check passes again at the next run,
            # while the file stays refused); schema drift through the file_warnings check.
            check_keys = {"check:raw/hr_staff:file_warnings"}
            assert sorted(a["key"] for a in opened) == sorted(file_keys | check_keys)
            assert {a["status"] for a in opened} == {"opened"}
            assert len(receiver.bodies("/teams")) == len(receiver.bodies("/slack")) == len(opened)
            by_key = {a["key"]: a for a in opened}
            renamed_alert = by_key["file:hr/131041_staff_20250401.csv"]
            assert renamed_alert["severity"] == "ERROR"
            assert renamed_alert["ward"] == "131041" and renamed_alert["dataset"] == "hr_staff"
            assert "renamed?" in renamed_alert["message"]
            assert "dxkpi-dq explain" in renamed_alert["action"]
            assert by_key["file:hr/139998_staff_20250401.csv"]["severity"] == "WARN"
            suite_alert = by_key["file:hr/131148_staff_20250401.csv"]["message"]
            page = re.search(r"validation: file://(\S+)\)", suite_alert)
            assert page and Path(unquote(page.group(1))).is_file()
            assert "at least 1 row" in suite_alert

            # Nothing new while nothing changes, even after another run.
            materialise(instance, landing, warehouse)
            ticker.tick()
            assert len(jsonl(alerts_file)) == len(opened)

            # Corrected exports under the same names; strays removed.
            for name, (_, state, *_) in BAD.items():
                if state == "rejected":
                    write(root / name, roster())
                else:
                    (root / name).unlink()
            write(root / drift, roster())
            materialise(instance, landing, warehouse)
            ticker.tick()
            resolved = jsonl(alerts_file)[len(opened) :]
            assert sorted(a["key"] for a in resolved) == sorted(file_keys | check_keys)
            assert {a["status"] for a in resolved} == {"resolved"}
            ticker.tick()
            assert len(jsonl(alerts_file)) == 2 * len(opened)
    finally:
        receiver.stop()
