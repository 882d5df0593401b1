"""Problems found while reading an export: what, where and which rule."""

from __future__ import annotations

from dataclasses import dataclass

# What a finding did to its file: rows set aside, the file refused, or only worth a look.
QUARANTINE = "quarantine"
REFUSAL = "refusal"
WARNING = "warning"


class ValueProblem(ValueError):
    """A cell that cannot be turned into a value of its column's type."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class ExportError(Exception):
    """A whole export cannot be read: wrong name, no header, unknown encoding.

    Attributes:
        rule: A short machine name of the cause (`empty_file`, `header_column_missing`...).
        line: The line of the file the cause was found on, when there is one.
    """

    def __init__(self, message: str, rule: str = "unreadable_file", line: int | None = None):
        super().__init__(message)
        self.rule = rule
        self.line = line


@dataclass(frozen=True)
class Finding:
    """Something found in one file version: where (line, column), which rule, what it did.

    Attributes:
        line: The file line, None for a finding about the whole file.
        column: The column as exported (`*` for the whole row, `` for the whole file).
        rule: The rule's machine name, e.g. `staff_number_shape`.
        severity: `quarantine` (the row was set aside), `refusal` (the file was refused) or
            `warning` (the file loaded; worth a look).
        message: A sentence naming the cause, never a cell's text.
    """

    line: int | None
    column: str
    rule: str
    severity: str
    message: str


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

    def finding(self) -> Finding:
        """The row as a quarantine finding of its file."""
        return Finding(self.source_row, self.column, self.rule, QUARANTINE, self.message)


# Messages leave the warehouse (alerts, the operator's command, the published dq tables): cut
# to this length, and before the cell values a suite may quote.
MAX_REASON_CHARS = 400


def reason_lines(reason: str) -> list[str]:
    """The lines of a reason, each cut before the cell values a suite may quote (`: values`)."""
    lines = [line.split(": values ", 1)[0].strip() for line in reason.splitlines()]
    return [line for line in lines if line]


def safe_reason(reason: str, limit: int = MAX_REASON_CHARS) -> str:
    """A reason on one line of at most `limit` characters, without quoted cell values."""
    text = "; ".join(reason_lines(reason))
    return text if len(text) <= limit else text[: limit - 1] + "…"
