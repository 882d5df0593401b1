"""Decoding exports and normalising the values in them."""

from __future__ import annotations

import re
import unicodedata

from ingestion.common.problems import ExportError, ValueProblem

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"


def decode_export(raw: bytes) -> tuple[str, str]:
    """Decode an export, detecting its encoding as sources.md orders it.

    UTF-16 is recognised by its BOM, then UTF-8 (with or without a BOM) is tried, then CP932
    (Windows Shift_JIS: plain shift_jis would lose 髙, 﨑, ①, ㈱).

    Returns:
        The text and the name of the encoding found (utf-16, utf-8-sig, utf-8 or cp932).

    Raises:
        ExportError: none of these encodings decodes the bytes.
    """
    if raw.startswith(_UTF16_BOMS):
        return _decode_or_fail(raw, "utf-16"), "utf-16"
    if raw.startswith(_UTF8_BOM):
        return _decode_or_fail(raw, "utf-8-sig"), "utf-8-sig"
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ExportError("the file is neither UTF-16 (with BOM), UTF-8 nor CP932")


def _decode_or_fail(raw: bytes, encoding: str) -> str:
    """Decode bytes whose BOM announced `encoding`: they must decode (a truncated file won't)."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise ExportError(
            f"the file starts with a {encoding} BOM but byte {error.start} does not decode"
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
