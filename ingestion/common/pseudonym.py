"""Keyed pseudonyms for staff numbers (職員番号).

A staff number is personal data: it is replaced at ingestion by an HMAC-SHA256 of the ward
code and the normalised number, keyed by a secret from the environment. The same person gets
the same pseudonym in every export of a ward, so records join; without the key, nobody can
go back from a pseudonym to a number, nor test a guessed number.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from ingestion.common.text import normalise_code

KEY_VARIABLE = "DXKPI_PSEUDONYM_KEY"


class MissingKeyError(RuntimeError):
    """The pseudonym key is not set in the environment."""


class Pseudonymiser:
    """Turns staff numbers into stable keyed pseudonyms."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 8:
            raise MissingKeyError(f"{KEY_VARIABLE} must hold at least 8 bytes")
        self._key = key

    @classmethod
    def from_environment(cls) -> Pseudonymiser:
        """Build from the key in DXKPI_PSEUDONYM_KEY.

        Raises:
            MissingKeyError: the variable is unset or too short.
        """
        key = os.environ.get(KEY_VARIABLE, "")
        if not key:
            raise MissingKeyError(f"set {KEY_VARIABLE} to the secret key of staff pseudonyms")
        return cls(key.encode("utf-8"))

    def pseudonym(self, ward_code: str, staff_number: str) -> str:
        """Return the pseudonym of `staff_number` of ward `ward_code` (32 hex digits)."""
        message = f"{ward_code}:{normalise_code(staff_number)}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
