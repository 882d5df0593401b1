"""Shared test set-up: a pseudonym key, no telemetry, and small helpers."""

from __future__ import annotations

import os

os.environ.setdefault("DXKPI_PSEUDONYM_KEY", "test-key-for-pseudonyms")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Data Docs only where a test asks for them, in its own folder (never the repository's data/).
os.environ.setdefault("DXKPI_DATA_DOCS_DIR", "")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
