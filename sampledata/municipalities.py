"""A synthetic municipality list for national-scale samples.

    python -m sampledata.municipalities --count 200 --out data/municipalities

writes `<out>/wards.csv` with the header of the wards seed: `count` made-up municipalities
spread over the 47 prefectures (prefecture 01 to 47 in turn, then the next number), each with
a 全国地方公共団体コード whose check digit is right, a placeholder name (北海道試験市201) and
the CKAN organisation `t<code>`. Point DXKPI_MUNICIPALITIES_DIR at `<out>` (relative to the
repository) and the generator, the local CKAN server and the pipeline all use it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ingestion.common.landing import ward_code_check_digit
from ingestion.common.reference import Ward, write_wards

PREFECTURES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)
# Municipality numbers of cities (市) start at 201 in every prefecture.
FIRST_NUMBER = 201
LAST_NUMBER = 999


def municipality_code(prefecture: int, number: int) -> str:
    """The 6-digit code of municipality `number` of `prefecture` (1-47), check digit included."""
    first_five = f"{prefecture:02d}{number:03d}"
    return f"{first_five}{ward_code_check_digit(first_five)}"


def synthetic_municipalities(count: int) -> list[Ward]:
    """`count` made-up municipalities over the 47 prefectures, in code order.

    Raises:
        ValueError: `count` is below 1 or above what the numbering holds.
    """
    most = len(PREFECTURES) * (LAST_NUMBER - FIRST_NUMBER + 1)
    if not 1 <= count <= most:
        raise ValueError(f"between 1 and {most} municipalities, not {count}")
    wards = []
    for position in range(count):
        prefecture = position % len(PREFECTURES) + 1
        number = FIRST_NUMBER + position // len(PREFECTURES)
        code = municipality_code(prefecture, number)
        name_ja = f"{PREFECTURES[prefecture - 1]}試験市{number}"
        wards.append(Ward(code, name_ja, f"Sample city {code}", f"t{code}"))
    return sorted(wards, key=lambda ward: ward.code)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (`python -m sampledata.municipalities`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="municipalities")
    parser.add_argument("--out", type=Path, default=Path("data") / "municipalities")
    args = parser.parse_args(argv)
    try:
        wards = synthetic_municipalities(args.count)
    except ValueError as error:
        parser.error(str(error))
    path = write_wards(wards, args.out)
    print(f"wrote {len(wards)} municipalities to {path}")


if __name__ == "__main__":
    main()
