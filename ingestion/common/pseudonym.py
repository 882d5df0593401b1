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
import threading
from collections import OrderedDict

from ingestion.common.text import normalise_code

KEY_VARIABLE = "DXKPI_PSEUDONYM_KEY"
# The key `make demo` and a local `make dev` use when none is set: public, so never in prod.
DEMO_KEY = "dxkpi-demo-key-not-a-secret"
PLACEHOLDER_KEYS = frozenset({"change-me", "changeme", "secret", "password"})
# Pseudonyms kept in memory across files: a ward's staff appear in every monthly roster and in
# the other datasets, and each HMAC costs more than the rest of the cell's reading. About 250
# bytes an entry: the cap keeps the cache near 50 MB, room for every staff number of dozens of
# wards.
CACHE_SIZE = 200_000


class MissingKeyError(RuntimeError):
    """The pseudonym key is not set in the environment, or is not fit for use."""


class KeyChangedError(RuntimeError):
    """The warehouse was built with another pseudonym key: new rows would not join old ones."""


class PseudonymCache:
    """Pseudonyms already computed, shared by every Pseudonymiser of the process.

    Entries are keyed by the key's full fingerprint, the ward and the staff number, so a
    Pseudonymiser with another key never reuses a value made with the old one. When full, the
    oldest entries go first. An OrderedDict, not a dict: taking a dict's first key walks past
    every entry deleted before it, so a full cache evicting on each new number (a national
    sample has 1M staff) cost time quadratic in the evictions (100,000 puts: 5.8 s).
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._values: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, entry: tuple[str, str, str]) -> str | None:
        """The pseudonym stored under `entry` (key fingerprint, ward, staff number), if any."""
        return self._values.get(entry)

    def put(self, entry: tuple[str, str, str], pseudonym: str) -> None:
        """Store a pseudonym, dropping the oldest entries beyond the cap."""
        with self._lock:
            self._values[entry] = pseudonym
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        """Forget every pseudonym."""
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


CACHE = PseudonymCache()


class Pseudonymiser:
    """Turns staff numbers into stable keyed pseudonyms."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 8:
            raise MissingKeyError(f"{KEY_VARIABLE} must hold at least 8 bytes")
        self._key = key
        # The whole fingerprint (not the 16 digits shown): two keys in one process never share
        # cache entries.
        self._cache_id = hmac.new(key, b"dxkpi:key-fingerprint", hashlib.sha256).hexdigest()

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
        return self._cache_id[:16]

    def pseudonym(self, ward_code: str, staff_number: str) -> str:
        """Return the pseudonym of `staff_number` of ward `ward_code` (32 hex digits).

        Computed once per key, ward and number in the process (see `PseudonymCache`).
        """
        entry = (self._cache_id, ward_code, staff_number)
        found = CACHE.get(entry)
        if found is None:
            found = self._digest(ward_code, staff_number)
            CACHE.put(entry, found)
        return found

    def _digest(self, ward_code: str, staff_number: str) -> str:
        message = f"{ward_code}:{normalise_code(staff_number)}".encode()
        # hmac.digest: the same HMAC-SHA256 as hmac.new, in one call to the C implementation.
        return hmac.digest(self._key, message, "sha256").hex()[:32]
