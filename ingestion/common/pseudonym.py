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
# The key `make demo` and a local `make dev` use when none is set: public, so never in prod.
DEMO_KEY = "dxkpi-demo-key-not-a-secret"
PLACEHOLDER_KEYS = frozenset({"change-me", "changeme", "secret", "password"})


class MissingKeyError(RuntimeError):
    """The pseudonym key is not set in the environment, or is not fit for use."""


class KeyChangedError(RuntimeError):
    """The warehouse was built with another pseudonym key: new rows would not join old ones."""


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
        if key.lower() in PLACEHOLDER_KEYS:
            raise MissingKeyError(f"{KEY_VARIABLE} still holds a placeholder: set a real secret")
        if key == DEMO_KEY and os.environ.get("DXKPI_ENV") == "prod":
            raise MissingKeyError(f"{KEY_VARIABLE} is the public demo key: not in prod")
        return cls(key.encode("utf-8"))

    def fingerprint(self) -> str:
        """A value that identifies the key without revealing it (to detect a key change)."""
        return hmac.new(self._key, b"dxkpi:key-fingerprint", hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, ward_code: str, staff_number: str) -> str:
        """Return the pseudonym of `staff_number` of ward `ward_code` (32 hex digits)."""
        message = f"{ward_code}:{normalise_code(staff_number)}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
