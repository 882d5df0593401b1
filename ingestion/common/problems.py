"""Problems found while reading an export: what, where and which rule."""

from __future__ import annotations

from dataclasses import dataclass


class ValueProblem(ValueError):
    """A cell that cannot be turned into a value of its column's type."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class ExportError(Exception):
    """A whole export cannot be read: wrong name, no header, unknown encoding."""


@dataclass(frozen=True)
class RowProblem:
    """One rejected row of an export, named by file, line, column and rule.

    The offending value itself is not kept: it may be personal data.
    """

    source_file: str
    source_row: int
    column: str
    rule: str
    message: str

    def describe(self) -> str:
        """Return a one-line human description."""
        return f"{self.source_file}:{self.source_row}: {self.column}: {self.rule}: {self.message}"
