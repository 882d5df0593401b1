"""Decoding exports and normalising the values in them."""

from __future__ import annotations

import re
import unicodedata

from ingestion.common.problems import ExportError, ValueProblem

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"


def line_of(raw: bytes, offset: int) -> int:
    """The 1-based line of a byte offset (counting LF; CRLF and CP932 keep LF as 0x0A)."""
    return raw.count(b"\n", 0, offset) + 1


def check_is_text(raw: bytes) -> None:
    """Refuse what is no CSV export at all: an empty file, or binary content.

    Raises:
        ExportError: the file is empty, holds only blanks, or holds a NUL byte outside UTF-16
            (where every other byte of ASCII text is NUL).
    """
    if not raw:
        raise ExportError("empty file (0 bytes)", rule="empty_file")
    if raw.startswith(_UTF16_BOMS):
        return
    if not raw.removeprefix(_UTF8_BOM).strip():
        raise ExportError(f"empty file ({len(raw)} bytes of blanks only)", rule="empty_file")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise ExportError(
            f"binary content: NUL byte at byte {nul} (line {line_of(raw, nul)}); "
            "not a CSV text export (a spreadsheet saved as .csv, or a damaged copy?)",
            rule="binary_content",
            line=line_of(raw, nul),
        )


def decode_export(raw: bytes) -> tuple[str, str]:
    """Decode an export, detecting its encoding as sources.md orders it.

    UTF-16 is recognised by its BOM, then UTF-8 (with or without a BOM) is tried, then CP932
    (Windows Shift_JIS: plain shift_jis would lose 髙, 﨑, ①, ㈱).

    Returns:
        The text and the name of the encoding found (utf-16, utf-8-sig, utf-8 or cp932).

    Raises:
        ExportError: none of these encodings decodes the bytes; the message names the byte
            and line where the most promising one stopped.
    """
    if raw.startswith(_UTF16_BOMS):
        return _decode_or_fail(raw, "utf-16"), "utf-16"
    if raw.startswith(_UTF8_BOM):
        return _decode_or_fail(raw, "utf-8-sig"), "utf-8-sig"
    failures: list[tuple[int, str, bytes]] = []
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as error:
            failures.append((error.start, encoding, raw[error.start : error.start + 2]))
    # The encoding that read furthest is the file's own: the bytes there are the damage.
    start, encoding, found = max(failures)
    raise ExportError(
        f"undecodable bytes: neither UTF-16 (with BOM), UTF-8 nor CP932; read as {encoding} it "
        f"breaks at byte {start} (line {line_of(raw, start)}: 0x{found.hex()})",
        rule="undecodable_bytes",
        line=line_of(raw, start),
    )


def _decode_or_fail(raw: bytes, encoding: str) -> str:
    """Decode bytes whose BOM announced `encoding`: they must decode (a truncated file won't)."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = line_of(raw, error.start) if encoding != "utf-16" else None
        where = f"byte {error.start}" + (f" (line {line})" if line else "")
        raise ExportError(
            f"undecodable bytes: the file starts with a {encoding} BOM but {where} does not "
            "decode (a truncated copy?)",
            rule="undecodable_bytes",
            line=line,
        ) from None


INT64_MAX = 2**63 - 1


def normalise_code(text: str) -> str:
    """NFKC-normalise a code or category and trim it (１２３ -> 123, ideographic spaces)."""
    return unicodedata.normalize("NFKC", text).strip()


def normalise_header(text: str) -> str:
    """Normalise a header cell for matching by name (width, spaces, BOM remnants)."""
    return re.sub(r"\s+", "", normalise_code(text.replace("\ufeff", "")))


def parse_integer(text: str) -> int | None:
    """Parse an integer that may carry full-width digits, separators, ¥ or 円.

    Raises:
        ValueProblem: the text is not a whole number.
    """
    value = normalise_code(text)
    cleaned = re.sub(r"[,\s]", "", value).removeprefix("¥").removeprefix("\\").removesuffix("円")
    if not cleaned:
        return None
    if not re.fullmatch(r"-?\d+", cleaned):
        raise ValueProblem("not_a_number", "not a whole number")
    if abs(int(cleaned)) > INT64_MAX:
        raise ValueProblem("out_of_range", "the number is out of range")
    return int(cleaned)


def parse_decimal(text: str) -> float | None:
    """Parse a decimal number (hours, minutes) that may carry full-width digits.

    Raises:
        ValueProblem: the text is not a number.
    """
    cleaned = re.sub(r"[,\s]", "", normalise_code(text))
    if not cleaned:
        return None
    try:
        return float(cleaned)
    except ValueError:
        raise ValueProblem("not_a_number", "not a number") from None
