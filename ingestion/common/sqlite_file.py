"""A small SQLite file shared by several processes: WAL mode, waits for the lock, own schema.

The landing ledger and the alert incidents live in such files rather than in the DuckDB
warehouse, which only one process may open: the sensors, the runs and the operator read them
while a run writes the warehouse.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path


class SqliteFile:
    """A SQLite file created on first use with the statements of `ddl`.

    Subclasses set `ddl` (and `rows_by_name` for rows readable by column name).
    """

    ddl: Sequence[str] = ()
    rows_by_name = False

    def __init__(self, path: Path, read_only: bool = False) -> None:
        """Args:
        path: The SQLite file.
        read_only: Open it read-only and never create it or its tables (an operator's
            look: nothing written, whatever happens).
        """
        self.path = Path(path)
        self.read_only = read_only

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            connection = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        with closing(connection) as con:
            if self.rows_by_name:
                con.row_factory = sqlite3.Row
            con.execute("pragma busy_timeout=30000")
            if not self.read_only:
                con.execute("pragma journal_mode=wal")
                self._create(con)
            yield con

    def _create(self, con: sqlite3.Connection) -> None:
        """Create what is missing: the statements of `ddl` (each `if not exists`)."""
        for statement in self.ddl:
            con.execute(statement)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection in one read transaction: every query sees the same snapshot."""
        with self._connect() as con:
            con.execute("begin")
            try:
                yield con
            finally:
                con.execute("rollback")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taking the lock at once, rolled back on any error."""
        with self._connect() as con:
            con.execute("begin immediate")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")
