"""A one-row HR roster export, as the HR system writes it (CP932, CRLF), for tests."""

from __future__ import annotations

from pathlib import Path

HEADER = "職員番号,氏名,氏名カナ,所属コード,所属名,職層,職名,任用形態,採用年月日,退職年月日"


def write_roster(landing: Path, day: str, grade: str = "係員", ward: str = "131016") -> str:
    """Write `landing/hr/<ward>_staff_<day>.csv`; return its path relative to the landing."""
    path = landing / "hr" / f"{ward}_staff_{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [HEADER, f"000001,甲,コウ,0100,総務部,{grade},主事,正規,2015/4/1,"]
    path.write_bytes("\r\n".join(rows).encode("cp932"))
    return f"hr/{path.name}"
