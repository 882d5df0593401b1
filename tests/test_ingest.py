"""Loading exports: checked before writing, idempotent, replaced by corrected re-exports."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from expectations import run_suite_per_file
from expectations.row_rules import broken_row_rules
from ingestion.common.ingest import ExportOutcome, Status, ingest_export, ingest_exports
from ingestion.common.loader import ensure_ops_schema
from ingestion.common.pseudonym import (
    DEMO_KEY,
    KeyChangedError,
    MissingKeyError,
    Pseudonymiser,
)
from ingestion.common.schema import ensure_raw_schema
from ingestion.hr.contract import STAFF

HEADER = "職員番号,氏名,氏名カナ,所属コード,所属名,職層,職名,任用形態,採用年月日,退職年月日"
PSEUDONYMS = Pseudonymiser(b"ingest-test-key")


def staff_row(number: str, grade: str = "係員", hired: str = "2015/4/1") -> str:
    return f"{number},山田太郎,ヤマダ,0100,総務部総務課,{grade},主事,正規,{hired},"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    ensure_raw_schema(connection)
    ensure_ops_schema(connection)
    yield connection
    connection.close()


def write_staff(landing: Path, rows: list[str], day: str = "20250401") -> Path:
    path = landing / "hr" / f"131016_staff_{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r\n".join([HEADER, *rows]).encode("cp932"))
    return path


def ingest(con: duckdb.DuckDBPyConnection, path: Path) -> ExportOutcome:
    return ingest_export(con, path, STAFF, run_suite_per_file, PSEUDONYMS, datetime(2025, 5, 1))


def raw_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select ward_code, reference_date, staff_id, grade, source_file, file_sha256, source_row "
        "from raw.hr_staff order by staff_id"
    ).fetchall()


def test_load_records_lineage_on_every_row(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_staff(tmp_path, [staff_row("000001"), staff_row("000002", "主任")])
    outcome = ingest(con, path)
    assert outcome.status is Status.LOADED and outcome.rows_loaded == 2
    rows = con.execute(
        "select source_file, file_sha256, source_row, loaded_at from raw.hr_staff order by 3"
    ).fetchall()
    assert [(r[0], r[2]) for r in rows] == [("hr/131016_staff_20250401.csv", 2)] + [
        ("hr/131016_staff_20250401.csv", 3)
    ]
    assert all(len(r[1]) == 64 and r[3] is not None for r in rows)


def test_same_file_twice_changes_nothing(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_staff(tmp_path, [staff_row("000001"), staff_row("000002")])
    ingest(con, path)
    before = raw_rows(con)
    loads_before = con.execute("select * from ops.file_loads").fetchall()
    outcome = ingest(con, path)
    assert outcome.status is Status.UNCHANGED
    assert raw_rows(con) == before
    assert con.execute("select * from ops.file_loads").fetchall() == loads_before


def test_corrected_reexport_replaces_the_old_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # GIVEN a roster loaded for 2025-04-01
    path = write_staff(tmp_path, [staff_row("000001"), staff_row("000002")])
    ingest(con, path)
    # WHEN HR sends a corrected export for the same ward, dataset and date
    write_staff(tmp_path, [staff_row("000001", "係長級"), staff_row("000003")])
    outcome = ingest(con, path)
    # THEN only the corrected rows remain for that date
    assert outcome.status is Status.REPLACED
    rows = raw_rows(con)
    assert len(rows) == 2
    assert {r[2] for r in rows} == {
        PSEUDONYMS.pseudonym("131016", "000001"),
        PSEUDONYMS.pseudonym("131016", "000003"),
    }
    assert {r[3] for r in rows} == {"係長級", "係員"}
    assert con.execute("select count(*) from ops.file_loads").fetchone()[0] == 1


def test_other_reference_dates_are_kept(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest(con, write_staff(tmp_path, [staff_row("000001")], "20250401"))
    ingest(con, write_staff(tmp_path, [staff_row("000001")], "20250501"))
    dates = con.execute("select distinct reference_date from raw.hr_staff order by 1").fetchall()
    assert [str(d[0]) for d in dates] == ["2025-04-01", "2025-05-01"]


def test_failed_suite_writes_nothing_and_keeps_the_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # GIVEN a loaded roster, then a re-export with a grade outside the value set
    path = write_staff(tmp_path, [staff_row("000001")])
    ingest(con, path)
    before = raw_rows(con)
    bad = write_staff(tmp_path, [staff_row("000001"), staff_row("000002", "課長代理")])
    # WHEN it is ingested
    outcome = ingest(con, bad)
    # THEN nothing is written, the file stays, and the reason names file, rule, row and value
    assert outcome.status is Status.REJECTED
    assert raw_rows(con) == before
    assert bad.exists()
    assert "hr/131016_staff_20250401.csv" in outcome.reason
    assert "grade" in outcome.reason and "3" in outcome.reason and "課長代理" in outcome.reason
    rejection = con.execute("select source_file, reason from ops.file_rejections").fetchall()
    assert rejection[0][0] == "hr/131016_staff_20250401.csv"
    # AND the same bytes are not reported again, but a corrected export is taken
    assert ingest(con, bad).status is Status.STILL_REJECTED
    write_staff(tmp_path, [staff_row("000001"), staff_row("000002", "課長級")])
    assert ingest(con, bad).status is Status.REPLACED


def test_unreadable_file_is_refused_with_its_reason(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "hr" / "131016_staff_20250401.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("職員番号,氏名\r\n1,甲".encode("cp932"))
    outcome = ingest(con, path)
    assert outcome.status is Status.REJECTED
    assert "missing column(s) 所属コード" in outcome.reason
    assert con.execute("select count(*) from raw.hr_staff").fetchone()[0] == 0


def test_a_load_that_fails_midway_leaves_the_previous_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_staff(tmp_path, [staff_row("000001")])
    ingest(con, path)
    before = raw_rows(con)
    write_staff(tmp_path, [staff_row("000009")])

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("ingestion.common.loader._record_load", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(con, path)
    assert raw_rows(con) == before


def test_another_pseudonym_key_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest(con, write_staff(tmp_path, [staff_row("000001")], "20250401"))
    path = write_staff(tmp_path, [staff_row("000001")], "20250501")
    with pytest.raises(KeyChangedError, match="DXKPI_PSEUDONYM_KEY"):
        ingest_export(
            con, path, STAFF, run_suite_per_file, Pseudonymiser(b"another-key!"), datetime.now()
        )
    assert con.execute("select count(*) from raw.hr_staff").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("key", "environment"),
    [
        pytest.param("change-me", "local", id="placeholder"),
        pytest.param(DEMO_KEY, "prod", id="demo-key-in-prod"),
    ],
)
def test_unfit_keys_are_refused(
    monkeypatch: pytest.MonkeyPatch, key: str, environment: str
) -> None:
    monkeypatch.setenv("DXKPI_PSEUDONYM_KEY", key)
    monkeypatch.setenv("DXKPI_ENV", environment)
    with pytest.raises(MissingKeyError):
        Pseudonymiser.from_environment()


def ingest_with_row_rules(
    con: duckdb.DuckDBPyConnection, path: Path, again: bool = False
) -> ExportOutcome:
    (outcome,) = ingest_exports(
        con,
        [path],
        STAFF,
        run_suite_per_file,
        PSEUDONYMS,
        datetime(2025, 5, 1),
        row_rules=broken_row_rules,
        again={path} if again else (),
    )
    return outcome


def numbered(count: int) -> list[str]:
    return [staff_row(f"{n:06d}") for n in range(1, count + 1)]


def test_rows_breaking_a_rule_are_quarantined_and_the_rest_loads(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    bad = [staff_row("000901", grade="局長"), staff_row("000902", hired="平成31年5月1日")]
    path = write_staff(tmp_path, numbered(38) + bad)  # 2 of 40: 5%, the most allowed

    outcome = ingest_with_row_rules(con, path)

    assert outcome.status is Status.LOADED
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (40, 38, 2)
    assert {(p.source_row, p.column, p.rule) for p in outcome.row_problems} == {
        (40, "職層", "value_not_in_set"),
        (41, "採用年月日", "date_after_era_ended"),
    }
    assert len(raw_rows(con)) == 38


def test_more_than_the_allowed_share_refuses_the_file_with_its_causes(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = [staff_row(f"00090{n}", grade="局長") for n in range(3)]
    path = write_staff(tmp_path, numbered(37) + bad)  # 3 of 40: 7.5%

    outcome = ingest_with_row_rules(con, path)

    assert outcome.status is Status.REJECTED
    assert "3 of 40 rows (8%) break row rules, more than the 5%" in outcome.reason
    assert "value_not_in_set on 職層 (3 rows, first line 39)" in outcome.reason
    assert outcome.rows_quarantined == 3 and raw_rows(con) == []
    assert [f.rule for f in outcome.findings() if f.severity == "refusal"] == [
        "too_many_rows_quarantined"
    ]

    # The share is configurable; an operator's reprocess reads the refused bytes again.
    monkeypatch.setenv("DXKPI_QUARANTINE_MAX_SHARE", "0.10")
    assert ingest_with_row_rules(con, path).status is Status.STILL_REJECTED
    outcome = ingest_with_row_rules(con, path, again=True)
    assert outcome.status is Status.LOADED and outcome.rows_loaded == 37


def test_reprocessing_a_loaded_file_reads_it_again(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_staff(tmp_path, numbered(3))
    assert ingest_with_row_rules(con, path).status is Status.LOADED
    assert ingest_with_row_rules(con, path).status is Status.UNCHANGED

    outcome = ingest_with_row_rules(con, path, again=True)

    assert outcome.status is Status.REPLACED and outcome.rows_loaded == 3
    assert len(raw_rows(con)) == 3
