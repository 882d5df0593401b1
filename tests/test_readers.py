"""Readers on the exports' tricky inputs: encodings, title rows, 和暦, full-width digits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from ingestion.common.contract import DatasetContract
from ingestion.common.landing import parse_landing_path
from ingestion.common.problems import ExportError
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.common.reader import ExportRead, read_export
from ingestion.common.text import decode_export, parse_integer
from ingestion.hr.contract import STAFF
from ingestion.proposals.contract import PROPOSAL
from ingestion.training.contract import COURSE, ENROLLMENT

PSEUDONYMS = Pseudonymiser(b"reader-test-key")
LOADED_AT = datetime(2025, 5, 1, 9, 0)
STAFF_HEADER = "職員番号,氏名,氏名カナ,所属コード,所属名,職層,職名,任用形態,採用年月日,退職年月日"


def write(folder: Path, name: str, lines: list[str], encoding: str) -> Path:
    path = folder / name.split("/")[0] / name.split("/")[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def read(path: Path, contract: DatasetContract = STAFF) -> ExportRead:
    return read_export(parse_landing_path(path), contract, PSEUDONYMS, LOADED_AT)


@pytest.mark.parametrize(
    "encoding",
    [
        pytest.param("cp932", id="cp932"),
        pytest.param("utf-8-sig", id="utf-8-bom"),
        pytest.param("utf-8", id="utf-8"),
        pytest.param("utf-16", id="utf-16-bom"),
    ],
)
def test_staff_export_reads_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    # GIVEN a roster with names only CP932 (not plain Shift_JIS) can carry
    path = write(
        tmp_path,
        "hr/131016_staff_20250401.csv",
        [
            STAFF_HEADER,
            "001234,髙橋 﨑子,タカハシ,0100,総務部総務課,係長級,係長,正規,令和元年5月1日,",
        ],
        encoding,
    )
    # WHEN it is read
    export = read(path)
    # THEN the row is typed and the names are gone
    assert export.encoding == {"utf-8": "utf-8", "cp932": "cp932"}.get(encoding, encoding)
    row = export.frame.iloc[0]
    assert row["grade"] == "係長級"
    assert row["hire_date"] == pd.Timestamp("2019-05-01")
    assert "髙橋" not in export.frame.to_csv()
    assert not {"氏名", "name", "氏名カナ"} & set(export.frame.columns)


def test_title_row_blank_lines_and_column_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hr/131016_staff_20250401.csv",
        [
            "職員名簿（令和7年4月1日現在）",
            "",
            "所属コード,職員番号,氏名,氏名カナ,所属名,職層,職名,任用形態,採用年月日,退職年月日",
            "0100,001234,山田太郎,ヤマダ,総務部,主任,主任主事,正規,2010/4/1,",
            "",
            "",
        ],
        "cp932",
    )
    export = read(path)
    assert len(export.frame) == 1
    assert export.frame.loc[0, "org_code"] == "0100"
    assert export.frame.loc[0, "source_row"] == 4  # the file's own line number
    assert export.rows_read == 1


def test_full_width_staff_number_gets_the_same_pseudonym(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hr/131016_staff_20250401.csv",
        [
            STAFF_HEADER,
            "００１２３４,山田太郎,ﾔﾏﾀﾞ,０１００,総務部,係員,主事,会計年度任用（パートタイム）,R7.4.1,",
        ],
        "cp932",
    )
    row = read(path).frame.iloc[0]
    assert row["staff_id"] == PSEUDONYMS.pseudonym("131016", "001234")
    assert row["staff_id"] != "001234"
    assert row["org_code"] == "0100"
    assert row["employment_type"] == "会計年度任用(パートタイム)"


def test_rows_breaking_a_parsing_rule_are_left_out_and_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hr/131016_staff_20250401.csv",
        [
            STAFF_HEADER,
            "000001,甲,コウ,0100,総務部,係員,主事,正規,平成31年5月1日,",
            "000002,乙,オツ,0100,総務部,係員,主事,正規,2020-04-01,",
            ",丙,ヘイ,0100,総務部,係員,主事,正規,2020-04-01,",
            "000004,丁,テイ,0100,総務部,係員,主事,正規,2020-04-01",
            "000005,戊,ボ,0100,総務部,係員,主事,正規,2020-04-01,",
        ],
        "cp932",
    )
    export = read(path)
    assert len(export.frame) == 2
    found = {(p.source_row, p.column, p.rule) for p in export.problems}
    assert found == {
        (2, "採用年月日", "date_after_era_ended"),
        (4, "職員番号", "required_value_missing"),
        (5, "*", "wrong_cell_count"),
    }
    assert all(p.source_file == "hr/131016_staff_20250401.csv" for p in export.problems)


def test_missing_column_is_an_export_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "hr/131016_staff_20250401.csv", ["職員番号,氏名", "1,甲"], "cp932")
    with pytest.raises(ExportError, match="131016_staff_20250401.csv.*職層"):
        read(path)


def test_undecodable_bytes_are_an_export_error(tmp_path: Path) -> None:
    path = tmp_path / "hr" / "131016_staff_20250401.csv"
    path.parent.mkdir()
    path.write_bytes(b"\x81\x7f\xff\xfe"[1:] + b"\x80\x81\xfc\xfc" * 4)
    with pytest.raises(ExportError):
        read(path)


def test_course_fiscal_year_spellings_and_hours(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "training/131016_course_20250401.csv",
        [
            "年度,コースコード,コース名,研修区分,必修区分,形式,時間数",
            "令和7年度,ＤＢ２５０１,情報セキュリティ基礎,デジタル基礎,必修,eラーニング,１.５",
            "R7,DB2502,生成AI入門,デジタル基礎,選択,集合,2",
            "2025,DB2503,RPA,ツール活用,選択,集合,約2",
        ],
        "cp932",
    )
    export = read(path, COURSE)
    assert export.frame["fiscal_year"].tolist() == [2025, 2025]
    assert export.frame["course_code"].tolist() == ["DB2501", "DB2502"]
    assert export.frame["hours"].tolist() == [1.5, 2.0]
    assert [(p.source_row, p.rule) for p in export.problems] == [(4, "not_a_number")]


def test_enrollment_without_session_keeps_a_null_session(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "training/131016_enrollment_20250501.csv",
        [
            "受講番号,職員番号,コースコード,実施番号,申込日,受講状況,修了日",
            "E1,001234,DB2501,,2025/4/10,修了,令和7年6月1日",
        ],
        "cp932",
    )
    row = read(path, ENROLLMENT).frame.iloc[0]
    assert pd.isna(row["session_id"])
    assert row["completed_on"] == pd.Timestamp("2025-06-01")


def test_group_proposal_amounts_and_dropped_subject(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "proposals/131016_proposal_20260501.csv",
        [
            "提案番号,提出日,提案者職員番号,所属コード,提案区分,件名,審査結果,効果額",
            "P1,2025/6/1,001234・００５６７８;009999,0100,DX,山田太郎の様式電子化,採用,"
            '"¥1,200,000"',
            "P2,2025/6/2,001234,0100,DX,私物,不採用,１，２００，０００円",
        ],
        "utf-16",
    )
    export = read(path, PROPOSAL)
    first = export.frame.iloc[0]
    assert first["proposer_count"] == 3
    assert first["proposer_ids"].split(";")[1] == PSEUDONYMS.pseudonym("131016", "005678")
    assert export.frame["effect_amount_yen"].tolist() == [1_200_000, 1_200_000]
    assert "山田" not in export.frame.to_csv()


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        pytest.param("a".encode("utf-16"), "utf-16", id="utf-16-bom-first"),
        pytest.param("ａ".encode("utf-8-sig"), "utf-8-sig", id="utf-8-bom"),
        pytest.param("①".encode(), "utf-8", id="utf-8-plain"),
        pytest.param("①㈱髙".encode("cp932"), "cp932", id="cp932-last"),
    ],
)
def test_decode_export_order(raw: bytes, encoding: str) -> None:
    assert decode_export(raw)[1] == encoding


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("1200000", 1_200_000, id="plain"),
        pytest.param("¥1,200,000", 1_200_000, id="yen-sign"),
        pytest.param("１，２００，０００円", 1_200_000, id="full-width-yen"),
        pytest.param("", None, id="blank"),
    ],
)
def test_parse_integer_amounts(text: str, value: int | None) -> None:
    assert parse_integer(text) == value


def test_shifted_row_is_refused_whole_and_no_cell_text_is_quoted(tmp_path: Path) -> None:
    # GIVEN a proposal row with an extra comma in its subject: every later cell is shifted
    path = write(
        tmp_path,
        "proposals/131016_proposal_20260501.csv",
        [
            "提案番号,提出日,提案者職員番号,所属コード,提案区分,件名,審査結果,効果額",
            "P1,2025/6/1,001236,0100,DX,連絡先,携帯090-1234-5678,採用,120000",
            "P2,2025/6/2,001234,0100,DX,様式の電子化,採用,120000",
        ],
        "utf-8-sig",
    )
    export = read(path, PROPOSAL)
    assert export.frame["proposal_id"].tolist() == ["P2"]
    assert [(p.source_row, p.rule) for p in export.problems] == [(2, "wrong_cell_count")]
    # THEN no message carries the free text or a raw staff number
    messages = " ".join(p.describe() for p in export.problems)
    assert "090" not in messages and "001236" not in messages


def test_value_problems_do_not_quote_the_cell(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hr/131016_staff_20250401.csv",
        [STAFF_HEADER, "000001,甲,コウ,0100,総務部,係員,主事,正規,山田の入社日,"],
        "cp932",
    )
    (problem,) = read(path).problems
    assert problem.rule == "unparseable_date" and "山田" not in problem.describe()


@pytest.mark.parametrize(
    ("lines", "encoding", "message"),
    [
        pytest.param(
            ["提案番号,提出日,提案者職員番号,所属コード,提案区分,件名,審査結果,効果額"]
            + [
                f'P{i},2025/6/1,001234,0100,DX,"引用符の閉じ忘れ,採用,1'
                if i == 1
                else f"P{i},2025/6/1,001234,0100,DX,件名,採用,1"
                for i in range(1, 40)
            ],
            "utf-8-sig",
            "unbalanced quote",
            id="unbalanced-quote-swallows-the-file",
        ),
        pytest.param(
            [
                "提案番号,提出日,提案者職員番号,所属コード,提案区分,件名,審査結果,効果額",
                "P1,2025/6/1,001234,0100,DX,件名,採用,1",
            ],
            "utf-16-truncated",
            "BOM",
            id="truncated-utf-16",
        ),
    ],
)
def test_malformed_files_are_export_errors(
    tmp_path: Path, lines: list[str], encoding: str, message: str
) -> None:
    path = tmp_path / "proposals" / "131016_proposal_20260501.csv"
    path.parent.mkdir()
    data = "\r\n".join(lines).encode(encoding.removesuffix("-truncated"))
    path.write_bytes(data[:-1] if encoding.endswith("truncated") else data)
    with pytest.raises(ExportError, match=message):
        read(path, PROPOSAL)


def test_out_of_range_amount_is_a_row_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "proposals/131016_proposal_20260501.csv",
        [
            "提案番号,提出日,提案者職員番号,所属コード,提案区分,件名,審査結果,効果額",
            "P1,2025/6/1,001234,0100,DX,件名,採用,99999999999999999999",
        ],
        "utf-8-sig",
    )
    export = read(path, PROPOSAL)
    assert [(p.source_row, p.rule) for p in export.problems] == [(2, "out_of_range")]
    assert export.frame.empty
