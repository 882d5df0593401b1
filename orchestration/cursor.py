"""Sensor cursors kept as small JSON objects."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Self


class JsonCursor:
    """A frozen dataclass of scalars that reads and writes itself as a sensor cursor."""

    @classmethod
    def parse(cls, text: str | None) -> Self:
        """Read a cursor; an empty or unreadable one starts afresh (the defaults)."""
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def dump(self) -> str:
        """The cursor as JSON."""
        return json.dumps(asdict(self), sort_keys=True)
