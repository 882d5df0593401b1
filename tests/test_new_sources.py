"""The ten new datasets (HR registers, DX-office registers, surveys) on their tricky inputs,
through the real path: a landing file, `ingest_exports` with row rules, the raw table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from expectations import build_suite, run_suite_per_file
from expectations.row_rules import RULE_CODES, broken_row_rules, row_rules
from expectations.suites import rules_for
from ingestion.common.contract import DatasetContract
from ingestion.common.ingest import ExportOutcome, Status, ingest_exports
from ingestion.common.loader import ensure_ops_schema
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.schema import ensure_raw_schema
from ingestion.dx_office.contract import BPR_MEASUREMENT, DX_PROJECT, SYSTEM_MIGRATION
from ingestion.hr.contract import (
    DX_LEADER_CERTIFICATION,
    EXTERNAL_SPECIALIST,
    HR_REGULATION,
    PERSONNEL_EXCHANGE,
    SKILL_ASSESSMENT,
)
from ingestion.surveys.contract import PROCEDURE_SURVEY, STAFF_SURVEY

WARD = "131016"
DAY = "20250701"  # the exports' reference date: every date below is on or before it
PSEUDONYMS = Pseudonymiser(b"some-test-key-16")
LOADED_AT = datetime(2025, 7, 2, 9, 0)
# With the default 5% breaker, one bad row needs 20 rows in its file, two need 40.
ROWS_PER_BAD_ROW = 20

NEW_CONTRACTS = (
    SKILL_ASSESSMENT,
    DX_LEADER_CERTIFICATION,
    EXTERNAL_SPECIALIST,
    PERSONNEL_EXCHANGE,
    HR_REGULATION,
    DX_PROJECT,
    BPR_MEASUREMENT,
    SYSTEM_MIGRATION,
    STAFF_SURVEY,
    PROCEDURE_SURVEY,
)

# The 20 standardised core business systems (sources.md).
SYSTEMS = (
    "住民基本台帳",
    "固定資産税",
    "個人住民税",
    "法人住民税",
    "軽自動車税",
    "国民健康保険",
    "国民年金",
    "介護保険",
    "障害者福祉",
    "後期高齢者医療",
    "児童手当",
    "子ども・子育て支援",
    "生活保護",
    "健康管理",
    "就学",
    "選挙人名簿管理",
    "印鑑登録",
    "戸籍",
    "戸籍附票",
    "児童扶養手当",
)

# How each system writes its files (sources.md): legacy HR in CP932, surveys UTF-8 with a BOM.
ENCODING = {"hr": "cp932", "dx_office": "cp932", "surveys": "utf-8-sig"}
# Little-endian with its BOM, whatever the byte order of the machine running the tests.
UTF16LE_BOM = "utf-16-le+bom"

# A valid row number i of each dataset, with a key no test row uses.
FILLER: dict[str, Callable[[int], str]] = {
    "hr_skill_assessment": lambda i: f"{900000 + i},2025/4/1,S{1 + i % 22:02d},{1 + i % 4}",
    "hr_dx_leader_certification": lambda i: f"{900000 + i},F{i:04d},2024/4/1,",
    "hr_external_specialist": lambda i: f"F{i:04d},{900000 + i},CIO補佐官,2025/4/1,2026/3/31,新規",
    "hr_personnel_exchange": lambda i: f"F{i:04d},{900000 + i},民間企業,株式会社サンプル,2025/4/1,",
    "hr_hr_regulation": lambda i: f"F{i:04d},職員研修規程,研修,2024/4/1,",
    "dx_office_dx_project": lambda i: (
        f"F{i:04d},電子申請の拡充,0100,{900000 + i},2024/4/1,,実施中,無,0"
    ),
    "dx_office_bpr_measurement": lambda i: f"F{i:04d},住民票の交付,改善前,2025/4/1,10,1000",
    "surveys_staff_survey": lambda i: f"F{i:04d},2025/6/1,D01,係員,4,",
    "surveys_procedure_survey": lambda i: f"F{i:04d},P01,住民票の写しの交付請求,2025-06-01 10:00,4",
}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    ensure_raw_schema(connection)
    ensure_ops_schema(connection)
    yield connection
    connection.close()


def header(contract: DatasetContract) -> str:
    return ",".join(column.header for column in contract.columns)


def write_export(
    landing: Path,
    contract: DatasetContract,
    rows: list[str],
    encoding: str | None = None,
) -> Path:
    """Write `landing/<system>/131016_<dataset>_20250701.csv` as its system writes it."""
    path = landing / contract.system / f"{WARD}_{contract.dataset}_{DAY}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\r\n".join([header(contract), *rows, ""])
    encoding = encoding or ENCODING[contract.system]
    if encoding == UTF16LE_BOM:
        path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    else:
        path.write_bytes(text.encode(encoding))
    return path


def padded(contract: DatasetContract, rows: list[str], total: int) -> list[str]:
    """`rows` first (lines 2, 3...), then valid filler rows up to `total` rows."""
    return rows + [FILLER[contract.table](i) for i in range(total - len(rows))]


def ingest(con: duckdb.DuckDBPyConnection, path: Path, contract: DatasetContract) -> ExportOutcome:
    (outcome,) = ingest_exports(
        con,
        [path],
        contract,
        run_suite_per_file,
        PSEUDONYMS,
        LOADED_AT,
        row_rules=broken_row_rules,
    )
    return outcome


def load(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    contract: DatasetContract,
    rows: list[str],
    total: int | None = None,
    encoding: str | None = None,
) -> ExportOutcome:
    """Write `rows` (padded with valid rows up to `total`) and ingest them."""
    lines = padded(contract, rows, total) if total else rows
    return ingest(con, write_export(tmp_path, contract, lines, encoding), contract)


def quarantined(outcome: ExportOutcome) -> set[tuple[int | None, str, str]]:
    return {(f.line, f.column, f.rule) for f in outcome.findings() if f.severity == "quarantine"}


def raw_value(
    con: duckdb.DuckDBPyConnection, contract: DatasetContract, column: str, line: int
) -> object:
    (value,) = con.execute(
        f"select {column} from raw.{contract.table} where source_row = ?", [line]
    ).fetchone()
    return value


def raw_texts(con: duckdb.DuckDBPyConnection, contract: DatasetContract) -> str:
    """Every varchar value of the dataset's raw table, joined."""
    names = [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? and data_type = 'VARCHAR'",
            [contract.table],
        ).fetchall()
    ]
    rows = con.execute(f"select {', '.join(names)} from raw.{contract.table}").fetchall()
    return "\n".join(str(value) for row in rows for value in row)


def assert_loaded(outcome: ExportOutcome, rows: int) -> None:
    assert outcome.status is Status.LOADED, outcome.reason
    assert outcome.rows_loaded == rows


# --- Surveys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract", "row"),
    [
        pytest.param(STAFF_SURVEY, "A1,2025/6/3,D01,係員,5,とても良い", id="staff_survey"),
        pytest.param(PROCEDURE_SURVEY, "A1,P01,転入届,2025-06-03 14:22,5", id="procedure_survey"),
    ],
)
@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        pytest.param("utf-8-sig", "utf-8-sig", id="utf-8-bom"),
        pytest.param(UTF16LE_BOM, "utf-16", id="utf-16le-bom"),
    ],
)
def test_survey_with_a_bom_loads(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    contract: DatasetContract,
    row: str,
    encoding: str,
    detected: str,
) -> None:
    outcome = load(con, tmp_path, contract, [row], encoding=encoding)
    assert_loaded(outcome, 1)
    assert outcome.encoding == detected
    assert raw_value(con, contract, "response_id", 2) == "A1"
    assert raw_value(con, contract, "satisfaction", 2) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2025-06-03 14:22", datetime(2025, 6, 3, 14, 22), id="iso"),
        pytest.param("2025/6/3 9:05:00", datetime(2025, 6, 3, 9, 5), id="slashes-seconds"),
        pytest.param("令和7年6月3日 14時22分", datetime(2025, 6, 3, 14, 22), id="wareki-kanji"),
        pytest.param("令和7年6月3日14時22分", datetime(2025, 6, 3, 14, 22), id="kanji-no-space"),
        pytest.param("2025/6/3 9時5分", datetime(2025, 6, 3, 9, 5), id="kanji-one-digit-minute"),
        pytest.param("2025/6/3 14時", datetime(2025, 6, 3, 14, 0), id="kanji-hour-only"),
        pytest.param("R7.6.3", datetime(2025, 6, 3), id="wareki-letter-date-only"),
        pytest.param("２０２５／６／３　１４：２２", datetime(2025, 6, 3, 14, 22), id="full-width"),
        pytest.param("2026-03-31 23:30", datetime(2026, 3, 31, 23, 30), id="fiscal-year-end"),
    ],
)
def test_answered_at_spellings(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, text: str, expected: datetime
) -> None:
    outcome = load(con, tmp_path, PROCEDURE_SURVEY, [f"A1,P01,転入届,{text},4"])
    assert_loaded(outcome, 1)
    assert raw_value(con, PROCEDURE_SURVEY, "answered_at", 2) == expected


def test_hour_25_quarantines_its_row(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = ["A1,P01,転入届,2025-06-03 10:00,4", "A2,P01,転入届,2025-06-03 25:00,4"]
    outcome = load(con, tmp_path, PROCEDURE_SURVEY, rows, total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(3, "回答日時", "invalid_time")}


@pytest.mark.parametrize(
    ("contract", "row"),
    [
        pytest.param(STAFF_SURVEY, "A1,2025/6/3,D01,係員,,", id="staff_survey"),
        pytest.param(PROCEDURE_SURVEY, "A1,P01,転入届,2025-06-03 14:22,", id="procedure_survey"),
    ],
)
def test_blank_satisfaction_loads_as_null(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, contract: DatasetContract, row: str
) -> None:
    outcome = load(con, tmp_path, contract, [row])
    assert_loaded(outcome, 1)
    assert outcome.findings() == []
    assert raw_value(con, contract, "satisfaction", 2) is None


@pytest.mark.parametrize("score", ["9", "0", "９"])
@pytest.mark.parametrize(
    ("contract", "row", "column"),
    [
        pytest.param(
            STAFF_SURVEY, "A1,2025/6/3,D01,係員,{},", "デジタル業務環境満足度", id="staff"
        ),
        pytest.param(PROCEDURE_SURVEY, "A1,P01,転入届,2025-06-03,{}", "満足度", id="procedure"),
    ],
)
def test_satisfaction_outside_1_to_5_is_quarantined(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    contract: DatasetContract,
    row: str,
    column: str,
    score: str,
) -> None:
    outcome = load(con, tmp_path, contract, [row.format(score)], total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(2, column, "value_out_of_range")}


def test_free_text_never_reaches_raw(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # GIVEN a free comment naming a colleague, quoted over two lines with a comma in it
    comment = '"総務課の山田花子さんに\n助けてもらいました, 感謝"'
    outcome = load(con, tmp_path, STAFF_SURVEY, [f"A1,2025/6/3,D01,係員,4,{comment}"])
    # THEN the response loads, and no raw text value (nor any finding) holds the comment
    assert_loaded(outcome, 1)
    texts = raw_texts(con, STAFF_SURVEY)
    assert "A1" in texts and "D01" in texts  # the scan does see the row's text
    assert "山田" not in texts and "感謝" not in texts
    assert not any("山田" in f.message for f in outcome.findings())


@pytest.mark.parametrize("contract", [STAFF_SURVEY, PROCEDURE_SURVEY], ids=lambda c: c.dataset)
@pytest.mark.parametrize("encoding", ["utf-8-sig", UTF16LE_BOM])
def test_header_only_survey_loads_no_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, contract: DatasetContract, encoding: str
) -> None:
    outcome = load(con, tmp_path, contract, [], encoding=encoding)
    assert_loaded(outcome, 0)
    assert outcome.rows_read == 0
    loads = con.execute("select rows_loaded from ops.file_loads").fetchall()
    assert loads == [(0,)]


# --- DX office: projects ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param('"￥1,200,000"', id="full-width-yen-sign"),
        pytest.param('"１，２００，０００円"', id="full-width-digits-and-en"),
        pytest.param("1200000", id="plain"),
        pytest.param('"\\1,200,000"', id="cp932-backslash-yen"),
    ],
)
def test_savings_amount_spellings(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, amount: str
) -> None:
    row = f"J1,RPA導入,0100,001234,2024/4/1,2025/3/31,完了,有,{amount}"
    outcome = load(con, tmp_path, DX_PROJECT, [row])
    assert_loaded(outcome, 1)
    assert raw_value(con, DX_PROJECT, "annual_savings_yen", 2) == 1_200_000


def test_project_name_naming_a_person_never_reaches_raw(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    row = "J1,山田係長によるRPA導入,0100,001234,2024/4/1,,実施中,無,"
    assert_loaded(load(con, tmp_path, DX_PROJECT, [row]), 1)
    texts = raw_texts(con, DX_PROJECT)
    assert "J1" in texts and "0100" in texts  # the scan does see the row's text
    assert "山田" not in texts and "RPA" not in texts


@pytest.mark.parametrize(
    ("row", "column", "rule"),
    [
        pytest.param(
            "J1,RPA導入,0100,001234,2024/4/1,,完了,有,0",
            "終了日",
            "required_value_missing",
            id="completed-without-end",
        ),
        pytest.param(
            "J1,RPA導入,0100,001234,2024/4/1,,保留,有,0",
            "状態",
            "value_not_in_set",
            id="status-outside-set",
        ),
        pytest.param(
            "J1,RPA導入,0100,001234,2025/4/1,2025/3/31,完了,有,0",
            "終了日",
            "values_out_of_order",
            id="ends-before-it-starts",
        ),
    ],
)
def test_project_row_rules_quarantine(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, row: str, column: str, rule: str
) -> None:
    outcome = load(con, tmp_path, DX_PROJECT, [row], total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(2, column, rule)}


def test_full_width_leader_number_gets_the_same_pseudonym(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [
        "J1,RPA導入,0100,００１２３４,2024/4/1,,実施中,無,",
        "J2,AI-OCR導入,0100,001234,2024/4/1,,実施中,無,",
    ]
    assert_loaded(load(con, tmp_path, DX_PROJECT, rows), 2)
    expected = PSEUDONYMS.pseudonym(WARD, "001234")
    assert raw_value(con, DX_PROJECT, "leader_staff_id", 2) == expected
    assert raw_value(con, DX_PROJECT, "leader_staff_id", 3) == expected
    assert "001234" not in raw_texts(con, DX_PROJECT)


# --- DX office: BPR measurements --------------------------------------------------------------


def test_bpr_counts_and_minutes_are_normalised(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = [
        'B1,住民票の交付,改善前,2025/4/1,12.5,"1,200"',
        "B1,住民票の交付,改善後,2025/6/1,１２．５,１２００",
    ]
    assert_loaded(load(con, tmp_path, BPR_MEASUREMENT, rows), 2)
    for line in (2, 3):
        assert raw_value(con, BPR_MEASUREMENT, "annual_cases", line) == 1200
        assert raw_value(con, BPR_MEASUREMENT, "minutes_per_case", line) == 12.5


def test_bpr_repeated_key_quarantines_both_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # GIVEN the same task, type and day twice, the day spelt two ways
    rows = ["B1,住民票の交付,改善前,2025/4/1,10,1000", "Ｂ１,住民票の交付,改善前,R7.4.1,12,1000"]
    outcome = load(con, tmp_path, BPR_MEASUREMENT, rows, total=2 * ROWS_PER_BAD_ROW)
    # THEN neither can be told to be the real one: both are set aside
    assert_loaded(outcome, 2 * ROWS_PER_BAD_ROW - 2)
    assert quarantined(outcome) == {
        (2, "業務コード", "duplicate_key"),
        (3, "業務コード", "duplicate_key"),
    }


def test_bpr_same_task_and_type_on_two_days_both_load(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = ["B1,住民票の交付,改善後,2025/4/1,10,1000", "B1,住民票の交付,改善後,2025/5/1,8,1000"]
    outcome = load(con, tmp_path, BPR_MEASUREMENT, rows)
    assert_loaded(outcome, 2)
    assert outcome.findings() == []


def test_bpr_measurement_type_outside_set_is_quarantined(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = ["B1,住民票の交付,改善中,2025/4/1,10,1000"]
    outcome = load(con, tmp_path, BPR_MEASUREMENT, rows, total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(2, "計測区分", "value_not_in_set")}


# --- DX office: the 20 standardised systems ---------------------------------------------------


def migration_rows(count: int = 20, status: str = "移行完了", day: str = "2025/3/1") -> list[str]:
    return [f"{i + 1:02d},{name},{status},{day}" for i, name in enumerate(SYSTEMS[:count])]


def test_twenty_systems_load_without_finding(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    outcome = load(con, tmp_path, SYSTEM_MIGRATION, migration_rows())
    assert_loaded(outcome, 20)
    assert outcome.findings() == []


def test_completed_migration_without_its_day_is_quarantined(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = ["01,住民基本台帳,移行完了,", *migration_rows()[1:]]
    outcome = load(con, tmp_path, SYSTEM_MIGRATION, rows)
    assert_loaded(outcome, 19)
    assert quarantined(outcome) == {(2, "移行完了日", "required_value_missing")}


def test_a_planned_day_of_a_migration_in_progress_loads(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = ["01,住民基本台帳,移行中,2026/1/4", *migration_rows()[1:]]
    assert_loaded(load(con, tmp_path, SYSTEM_MIGRATION, rows), 20)


def test_nineteen_systems_load_with_a_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    outcome = load(con, tmp_path, SYSTEM_MIGRATION, migration_rows(19))
    assert_loaded(outcome, 19)
    assert [(f.severity, f.rule) for f in outcome.findings()] == [
        ("warning", "table_row_count_to_be_between")
    ]


# --- HR: skill assessments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "rule"),
    [
        pytest.param("001234,2025/4/1,S01,5", "レベル", "value_out_of_range", id="level-5"),
        pytest.param("001234,2025/4/1,S1,2", "スキル項目コード", "value_format", id="code-S1"),
        pytest.param("001234,2025/4/1,S23X,2", "スキル項目コード", "value_format", id="code-long"),
    ],
)
def test_skill_row_rules_quarantine(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, row: str, column: str, rule: str
) -> None:
    outcome = load(con, tmp_path, SKILL_ASSESSMENT, [row], total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(2, column, rule)}


def test_full_width_skill_code_is_normalised(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    outcome = load(con, tmp_path, SKILL_ASSESSMENT, ["001234,2025/4/1,Ｓ０１,３"])
    assert_loaded(outcome, 1)
    assert raw_value(con, SKILL_ASSESSMENT, "skill_item_code", 2) == "S01"
    assert raw_value(con, SKILL_ASSESSMENT, "skill_level", 2) == 3


def test_repeated_skill_assessment_quarantines_both_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # GIVEN one staff member, day and item twice: number, day and code each spelt two ways
    rows = ["001234,2025/4/1,S01,2", "００１２３４,令和7年4月1日,Ｓ０１,3"]
    outcome = load(con, tmp_path, SKILL_ASSESSMENT, rows, total=2 * ROWS_PER_BAD_ROW)
    assert_loaded(outcome, 2 * ROWS_PER_BAD_ROW - 2)
    assert quarantined(outcome) == {
        (2, "職員番号", "duplicate_key"),
        (3, "職員番号", "duplicate_key"),
    }


# --- HR: DX leader certifications -------------------------------------------------------------


def test_lapse_before_certification_is_quarantined(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = ["001234,C0001,2024/4/1,2024/3/31"]
    outcome = load(con, tmp_path, DX_LEADER_CERTIFICATION, rows, total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(2, "失効年月日", "values_out_of_order")}


def test_certification_wareki_dates(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # GIVEN 和暦 dates, one printed in 平成 after 平成 had ended
    rows = [
        "000001,C0001,令和元年5月1日,",
        "000002,C0002,H31.4.30,R7.4.30",
        "000003,C0003,平成31年5月1日,",
        "000004,C0004,Ｒ７．４．１,",
    ]
    outcome = load(con, tmp_path, DX_LEADER_CERTIFICATION, rows, total=ROWS_PER_BAD_ROW)
    # THEN that one row is refused for it, the others load with their Western dates
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(4, "認定年月日", "date_after_era_ended")}
    certified = {
        line: raw_value(con, DX_LEADER_CERTIFICATION, "certified_on", line) for line in (2, 3, 5)
    }
    assert certified == {2: date(2019, 5, 1), 3: date(2019, 4, 30), 5: date(2025, 4, 1)}
    assert raw_value(con, DX_LEADER_CERTIFICATION, "lapsed_on", 3) == date(2025, 4, 30)


# --- HR: external specialists, exchanges, regulations -----------------------------------------


def test_contract_type_outside_set_is_quarantined(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = ["K0001,001234,CIO補佐官,2025/4/1,2026/3/31,再契約"]
    outcome = load(con, tmp_path, EXTERNAL_SPECIALIST, rows, total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(2, "契約区分", "value_not_in_set")}


def test_open_ended_specialist_term_loads(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = ["K0001,001234,ＤＸ推進マネージャー,2025/4/1,,更新"]
    outcome = load(con, tmp_path, EXTERNAL_SPECIALIST, rows)
    assert_loaded(outcome, 1)
    assert outcome.findings() == []
    assert raw_value(con, EXTERNAL_SPECIALIST, "term_end", 2) is None
    assert raw_value(con, EXTERNAL_SPECIALIST, "role", 2) == "DX推進マネージャー"


def test_counterpart_type_outside_set_is_quarantined(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = ["X0001,001234,大学,東京大学,2025/4/1,"]
    outcome = load(con, tmp_path, PERSONNEL_EXCHANGE, rows, total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(2, "交流先区分", "value_not_in_set")}


def test_regulation_in_force_loads(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    rows = ["R0001,デジタル専門職の任用に関する規程,デジタル専門職キャリアパス,令和6年4月1日,"]
    outcome = load(con, tmp_path, HR_REGULATION, rows)
    assert_loaded(outcome, 1)
    assert outcome.findings() == []
    assert raw_value(con, HR_REGULATION, "repealed_on", 2) is None
    assert raw_value(con, HR_REGULATION, "effective_on", 2) == date(2024, 4, 1)


def test_regulation_without_effective_day_is_quarantined(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows = ["R0001,デジタル専門職の任用に関する規程,デジタル専門職キャリアパス,,"]
    outcome = load(con, tmp_path, HR_REGULATION, rows, total=ROWS_PER_BAD_ROW)
    assert_loaded(outcome, ROWS_PER_BAD_ROW - 1)
    assert quarantined(outcome) == {(2, "施行日", "required_value_missing")}


# --- Empty registers and the breaker ----------------------------------------------------------


@pytest.mark.parametrize(
    "contract", [c for c in NEW_CONTRACTS if c.may_be_empty], ids=lambda c: c.dataset
)
def test_header_only_register_loads_no_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, contract: DatasetContract
) -> None:
    assert_loaded(load(con, tmp_path, contract, []), 0)


@pytest.mark.parametrize(
    ("contract", "bad_row"),
    [
        pytest.param(DX_PROJECT, "J{},RPA導入,0100,001234,2024/4/1,,保留,有,0", id="dx_project"),
        pytest.param(PERSONNEL_EXCHANGE, "X{},001234,大学,東大,2025/4/1,", id="personnel_exchange"),
        pytest.param(PROCEDURE_SURVEY, "A{},P01,転入届,2025-06-03,9", id="procedure_survey"),
    ],
)
def test_two_bad_rows_of_ten_refuse_the_register(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, contract: DatasetContract, bad_row: str
) -> None:
    # GIVEN 2 of 10 rows breaking a row rule: 20%, above the 5% a file may have set aside
    rows = [bad_row.format(1), bad_row.format(2)]
    outcome = load(con, tmp_path, contract, rows, total=10)
    # THEN the whole file is refused, its row findings kept, nothing written
    assert outcome.status is Status.REJECTED
    assert outcome.rows_loaded == 0 and outcome.rows_quarantined == 2
    assert [f.rule for f in outcome.findings() if f.severity == "refusal"] == [
        "too_many_rows_quarantined"
    ]
    assert "2 of 10 rows (20%)" in outcome.reason
    assert con.execute(f"select count(*) from raw.{contract.table}").fetchone() == (0,)


# --- Suites -----------------------------------------------------------------------------------


@pytest.mark.parametrize("contract", NEW_CONTRACTS, ids=lambda c: c.table)
def test_suite_builds_with_every_rule(contract: DatasetContract) -> None:
    suite = build_suite(contract.table)
    assert len(suite.expectations) == len(rules_for(contract.table))


# The row rules the tests above rely on: (dataset, quarantine rule code, column).
RELIED_ON = [
    ("hr_skill_assessment", "value_out_of_range", "skill_level"),
    ("hr_skill_assessment", "value_format", "skill_item_code"),
    ("hr_skill_assessment", "duplicate_key", "staff_id"),
    ("hr_dx_leader_certification", "values_out_of_order", "lapsed_on"),
    ("hr_external_specialist", "value_not_in_set", "contract_type"),
    ("hr_personnel_exchange", "value_not_in_set", "counterpart_type"),
    ("hr_hr_regulation", "required_value_missing", "effective_on"),
    ("dx_office_dx_project", "required_value_missing", "ended_on"),
    ("dx_office_dx_project", "value_not_in_set", "project_status"),
    ("dx_office_dx_project", "values_out_of_order", "ended_on"),
    ("dx_office_bpr_measurement", "duplicate_key", "task_code"),
    ("dx_office_bpr_measurement", "value_not_in_set", "measurement_type"),
    ("dx_office_system_migration", "required_value_missing", "migrated_on"),
    ("surveys_staff_survey", "value_out_of_range", "satisfaction"),
    ("surveys_procedure_survey", "value_out_of_range", "satisfaction"),
]


@pytest.mark.parametrize(
    ("dataset", "code", "column"), [pytest.param(*r, id=f"{r[0]}-{r[1]}-{r[2]}") for r in RELIED_ON]
)
def test_row_rules_hold_the_rules_relied_on(dataset: str, code: str, column: str) -> None:
    found = {(RULE_CODES[rule.expectation], rule.column) for rule in row_rules(dataset)}
    assert (code, column) in found


def test_twenty_systems_rule_warns_and_is_no_row_rule() -> None:
    count_rules = [
        rule
        for rule in rules_for("dx_office_system_migration")
        if rule.expectation == "expect_table_row_count_to_be_between" and rule.severity == "warning"
    ]
    assert any(rule.kwargs["min_value"] == 20 for rule in count_rules)
    assert not any(
        rule.expectation == "expect_table_row_count_to_be_between"
        for rule in row_rules("dx_office_system_migration")
    )
