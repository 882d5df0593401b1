"""Shared test set-up: a pseudonym key, no telemetry, and small helpers."""

from __future__ import annotations

import os

import pytest

from expectations import docs

os.environ.setdefault("DXKPI_PSEUDONYM_KEY", "test-key-for-pseudonyms")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Data Docs only where a test asks for them, in its own folder (never the repository's data/).
os.environ.setdefault("DXKPI_DATA_DOCS_DIR", "")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture(autouse=True)
def _data_docs_as_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of a landing asset configures Data Docs for the whole process; each test starts
    unconfigured, or a later test's validations would go to an earlier test's folder."""
    monkeypatch.setattr(docs, "_configured", None)
