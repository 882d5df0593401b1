"""The reader's fast paths give what the record-by-record reading gives, to the row and message.

The columnar parse (pandas' C parser) is taken when every record is one line of strict CSV;
the csv module reads anything else. Dates are typed once per distinct value, and pseudonyms
are computed once per key, ward and staff number in the process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from ingestion.common import reader
from ingestion.common.contract import DatasetContract
from ingestion.common.landing import parse_landing_path
from ingestion.common.problems import ExportError
from ingestion.common.pseudonym import PseudonymCache, Pseudonymiser
from ingestion.common.reader import ExportRead, read_export
from ingestion.common.text import decode_export
from ingestion.hr.contract import STAFF
from ingestion.proposals.contract import PROPOSAL
from ingestion.surveys.contract import PROCEDURE_SURVEY

PSEUDONYMS = Pseudonymiser(b"reader-speed-test-key")
LOADED_AT = datetime(2025, 5, 1, 9, 0)
STAFF_HEADER = "職員番号,氏名,氏名カナ,所属コード,所属名,職層,職名,任用形態,採用年月日,退職年月日"
PROPOSAL_HEADER = "提案番号,提出日,提案者職員番号,所属コード,提案区分,件名,審査結果,効果額"
SURVEY_HEADER = "回答ID,手続コード,手続名,回答日時,満足度"
STAFF_ROW = "000001,甲,コウ,0100,総務部,係員,主事,正規,2015/4/1,"


@dataclass(frozen=True)
class Export:
    """A file to read: where it lands, its lines, how they end, how it is encoded."""

    name: str
    lines: list[str]
    newline: str = "\r\n"
    encoding: str = "cp932"
    final_newline: bool = True

    @property
    def contract(self) -> DatasetContract:
        folder = self.name.split("/")[0]
        return {"hr": STAFF, "proposals": PROPOSAL, "surveys": PROCEDURE_SURVEY}[folder]

    def write(self, landing: Path) -> Path:
        path = landing / self.name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.newline.join(self.lines) + (self.newline if self.final_newline else "")
        path.write_bytes(text.encode(self.encoding))
        return path


def staff(lines: list[str], **how: object) -> Export:
    return Export("hr/131016_staff_20250401.csv", lines, **how)  # type: ignore[arg-type]


def proposals(lines: list[str], **how: object) -> Export:
    return Export("proposals/131016_proposal_20260501.csv", lines, **how)  # type: ignore[arg-type]


TRICKY = [
    pytest.param(staff([STAFF_HEADER, STAFF_ROW]), id="crlf-cp932"),
    pytest.param(staff([STAFF_HEADER, STAFF_ROW], newline="\n"), id="lf"),
    pytest.param(staff([STAFF_HEADER, STAFF_ROW], newline="\r"), id="lone-cr"),
    pytest.param(staff([STAFF_HEADER, STAFF_ROW], final_newline=False), id="no-final-newline"),
    pytest.param(staff([STAFF_HEADER, STAFF_ROW], encoding="utf-8-sig"), id="utf-8-bom"),
    pytest.param(staff([STAFF_HEADER, STAFF_ROW], encoding="utf-16"), id="utf-16-bom"),
    pytest.param(
        staff(["職員名簿（令和7年4月1日現在）", "", STAFF_HEADER, "", STAFF_ROW, "", ""]),
        id="title-row-and-blank-rows",
    ),
    pytest.param(
        staff([STAFF_HEADER, STAFF_ROW, ",,,,,,,,,", " , ,\u3000,,,,,,,", '"","",,,,,,,,']),
        id="blank-rows-of-commas-spaces-and-empty-quotes",
    ),
    pytest.param(
        staff(
            [
                STAFF_HEADER,
                STAFF_ROW,
                "000002,乙,オツ,0100,総務部,係員,主事,正規,2015/4/1",  # a cell short
                "000003,丙,ヘイ,0100,総務部,係員,主事,正規,2015/4/1,,",  # a cell too many
                "000004",
                '"000005","丁","テイ","0100","総務部","係員","主事","正規","R7.4.1",""',
            ]
        ),
        id="wrong-cell-counts-and-quoted-cells",
    ),
    pytest.param(
        staff(
            [
                STAFF_HEADER,
                "000001,甲,コウ,0100,総務部,係員,主事,正規,平成31年5月1日,",
                ",乙,オツ,0100,総務部,係員,主事,正規,2020-04-01,",
                "12345,丙,ヘイ,0100,総務部,係員,主事,正規,2020-04-01,",
                "000004・000005,丁,テイ,0100,総務部,係員,主事,正規,2020-04-01,",
                "０００００６,戊,ボ,０１００,総務部,係員,主事,正規,令和元年5月1日,2025/13/1",
                "000007,己,キ,0100,総務部,係員,主事,正規,0001/1/1,9999-12-31",
            ]
        ),
        id="value-problems-full-width-and-extreme-dates",
    ),
    pytest.param(
        proposals(
            [
                PROPOSAL_HEADER,
                'P1,2025/6/1,001234・００５６７８;009999,0100,DX,"件名, 読点入り",採用,'
                '"¥1,200,000"',
                'P2,2025/6/2,001234,0100,DX,"引用符""入り""",不採用,１，２００，０００円',
                "P3,2025/6/3,,0100,DX,件名,採用,",
                'P4,2025/6/4,001234,0100,DX,"",採用,"9999999999999999999999"',
            ],
            encoding="utf-8-sig",
        ),
        id="quoted-commas-and-doubled-quotes",
    ),
    pytest.param(
        proposals(
            [
                PROPOSAL_HEADER,
                'P1,2025/6/1,001234,0100,DX,"一行目\r\n二行目",採用,1',
                "P2,2025/6/2,001234,0100,DX,件名,採用,x",
            ]
        ),
        id="quoted-line-break",
    ),
    pytest.param(
        proposals([PROPOSAL_HEADER, 'P1,2025/6/1,001234,0100,DX,件名"引用",採用,1']),
        id="stray-quote-inside-a-cell",
    ),
    pytest.param(
        Export(
            "surveys/131016_procedure_survey_20250601.csv",
            [
                SURVEY_HEADER,
                "R1,T01,転入届,2025-06-03 14:22,5",
                "R2,T01,転入届,令和7年6月3日14時22分,4",
                "R3,T02,,2025/6/3,",
                "R4,T02,,2025/6/3 25:00,3",
            ],
            encoding="utf-8",
        ),
        id="timestamps",
    ),
]


def read(path: Path, contract: DatasetContract) -> ExportRead:
    return read_export(parse_landing_path(path), contract, PSEUDONYMS, LOADED_AT)


def read_both_ways(
    monkeypatch: pytest.MonkeyPatch, path: Path, contract: DatasetContract
) -> tuple[ExportRead, ExportRead]:
    """Read once on the columnar path (whatever the file's size) and once with the csv module."""
    with monkeypatch.context() as patch:
        patch.setattr(reader, "COLUMNAR_MIN_CHARS", 0)
        columnar = read(path, contract)
    with monkeypatch.context() as patch:
        patch.setattr(reader, "_records_by_columns", lambda text, file_name: None)
        by_rows = read(path, contract)
    return columnar, by_rows


def assert_same_read(first: ExportRead, second: ExportRead) -> None:
    pd.testing.assert_frame_equal(first.frame, second.frame, check_exact=True)
    assert list(first.frame.dtypes) == list(second.frame.dtypes)
    assert first.problems == second.problems
    assert (first.encoding, first.rows_read, first.warnings) == (
        second.encoding,
        second.rows_read,
        second.warnings,
    )


def columnar_path_taken(path: Path) -> bool:
    text, _ = decode_export(path.read_bytes())
    return reader._records_by_columns(text, path.name) is not None


@pytest.mark.parametrize("export", TRICKY)
def test_columnar_and_record_reading_give_the_same_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, export: Export
) -> None:
    path = export.write(tmp_path)
    columnar, by_rows = read_both_ways(monkeypatch, path, export.contract)
    assert_same_read(columnar, by_rows)


@pytest.mark.parametrize(
    ("export", "columnar"),
    [
        pytest.param(staff([STAFF_HEADER, STAFF_ROW]), True, id="plain"),
        pytest.param(
            proposals([PROPOSAL_HEADER, 'P1,2025/6/1,001234,0100,DX,"a, b",採用,"1,000"']),
            True,
            id="quoted-commas",
        ),
        pytest.param(
            proposals([PROPOSAL_HEADER, 'P1,2025/6/1,001234,0100,DX,"a\nb",採用,1']),
            False,
            id="quoted-line-break",
        ),
        pytest.param(
            proposals([PROPOSAL_HEADER, 'P1,2025/6/1,001234,0100,DX,"a"b,採用,1']),
            False,
            id="text-after-a-closing-quote",
        ),
    ],
)
def test_columnar_path_only_where_records_are_one_line_each(
    tmp_path: Path, export: Export, columnar: bool
) -> None:
    assert columnar_path_taken(export.write(tmp_path)) is columnar


@pytest.mark.parametrize(
    ("export", "rule"),
    [
        pytest.param(
            proposals(
                [PROPOSAL_HEADER, 'P1,2025/6/1,001234,0100,DX,"閉じ忘れ,採用,1']
                + [f"P{i},2025/6/1,001234,0100,DX,件名,採用,1" for i in range(2, 40)]
            ),
            "unbalanced_quote",
            id="unbalanced-quote",
        ),
        pytest.param(
            proposals(
                [PROPOSAL_HEADER, "P1,2025/6/1,001234,0100,DX,件名,採用,1", "P2,2025/6/2,0012"],
                final_newline=False,
            ),
            "truncated_last_row",
            id="truncated-last-row",
        ),
        pytest.param(
            staff([STAFF_HEADER.replace(",", "\t"), STAFF_ROW.replace(",", "\t")]),
            "wrong_delimiter",
            id="tabs",
        ),
        pytest.param(
            staff(["職員番号,氏名,所属コード", STAFF_ROW]), "header_column_missing", id="no-header"
        ),
    ],
)
def test_refusals_are_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, export: Export, rule: str
) -> None:
    path = export.write(tmp_path)
    refusals = []
    for columnar in (True, False):
        with monkeypatch.context() as patch:
            if columnar:
                patch.setattr(reader, "COLUMNAR_MIN_CHARS", 0)
            else:
                patch.setattr(reader, "_records_by_columns", lambda text, file_name: None)
            with pytest.raises(ExportError) as refusal:
                read(path, export.contract)
        refusals.append((str(refusal.value), refusal.value.rule, refusal.value.line))
    assert refusals[0] == refusals[1]
    assert refusals[0][1] == rule


def test_a_big_dirty_roster_reads_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a roster long enough for the columnar path, with every kind of bad row in it
    spellings = [
        "2015/4/1",
        "令和元年5月1日",
        "H31.4.30",
        "2015-04-01",
        "R7.4.1",
        "２０２０／４／１",
    ]
    rows = [STAFF_HEADER]
    for number in range(1, 3001):
        hired = spellings[number % len(spellings)]
        rows.append(f"{number:06d},名前,ナマエ,{number % 40:04d},部,係員,主事,正規,{hired},")
        if number % 97 == 0:
            rows += ["", f"{number:06d},名前,ナマエ,0100,部,係員,主事,正規,2015/4/1"]
        if number % 89 == 0:
            rows.append(
                f'"{number:06d}","名前","ナマエ","0100","部,課",係員,主事,正規,平成31年5月1日,'
            )
    path = staff(rows).write(tmp_path)
    # WHEN it is read both ways
    assert columnar_path_taken(path)
    columnar, by_rows = read_both_ways(monkeypatch, path, STAFF)
    # THEN frames and problems are the same, and the problems are there
    assert_same_read(columnar, by_rows)
    assert {p.rule for p in columnar.problems} == {"wrong_cell_count", "date_after_era_ended"}


def test_dates_are_typed_as_one_timestamp_each_would_be() -> None:
    values = [date(2025, 4, 1), None, date(1, 1, 1), date(9999, 12, 31), date(1969, 12, 31)]
    timestamps = pd.Series([pd.Timestamp(v) if v else pd.NaT for v in values])
    expected = timestamps.astype("datetime64[s]")
    pd.testing.assert_series_equal(pd.Series(reader._instants(values)), expected)
    times = [datetime(2025, 6, 3, 14, 22), None, datetime(9999, 12, 31, 23, 59, 59)]
    expected = pd.Series([pd.Timestamp(v) if v else pd.NaT for v in times]).astype("datetime64[s]")
    pd.testing.assert_series_equal(pd.Series(reader._instants(times)), expected)


def test_pseudonyms_are_computed_once_per_ward_and_number_across_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two monthly rosters of one ward with the same staff, and a key no test used
    pseudonyms = Pseudonymiser(secrets.token_bytes(16))
    computed: list[tuple[str, str]] = []
    digest = Pseudonymiser._digest

    def counted(self: Pseudonymiser, ward_code: str, staff_number: str) -> str:
        computed.append((ward_code, staff_number))
        return digest(self, ward_code, staff_number)

    monkeypatch.setattr(Pseudonymiser, "_digest", counted)
    rows = [STAFF_HEADER] + [
        f"{n:06d},名前,ナマエ,0100,部,係員,主事,正規,2015/4/1," for n in range(1, 51)
    ]
    april = Export("hr/131016_staff_20250401.csv", rows).write(tmp_path)
    may = Export("hr/131016_staff_20250501.csv", rows).write(tmp_path)
    # WHEN both are read
    first = read_export(parse_landing_path(april), STAFF, pseudonyms, LOADED_AT)
    second = read_export(parse_landing_path(may), STAFF, pseudonyms, LOADED_AT)
    # THEN each number was hashed once, and both files carry the same pseudonyms
    assert sorted(computed) == [("131016", f"{n:06d}") for n in range(1, 51)]
    assert first.frame["staff_id"].tolist() == second.frame["staff_id"].tolist()


def test_another_key_never_reuses_a_cached_pseudonym() -> None:
    first = Pseudonymiser(secrets.token_bytes(16))
    second = Pseudonymiser(secrets.token_bytes(16))
    assert first.pseudonym("131016", "001234") != second.pseudonym("131016", "001234")
    assert second.pseudonym("131016", "001234") == second._digest("131016", "001234")
    assert first.fingerprint() != second.fingerprint()


def test_pseudonym_cache_keeps_at_most_its_size_dropping_the_oldest() -> None:
    cache = PseudonymCache(size=2)
    for number in ("000001", "000002", "000003"):
        cache.put(("key", "131016", number), f"p{number}")
    assert len(cache) == 2
    assert cache.get(("key", "131016", "000001")) is None
    assert cache.get(("key", "131016", "000003")) == "p000003"
