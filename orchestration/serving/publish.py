"""Publishing the marts to the files BI tools read: one release, swapped in atomically.

DuckDB lets one process hold a database file: a BI tool reading the working warehouse would
block the pipeline, and the reverse. Each publication therefore writes a new release folder
(see `orchestration.serving.release`): the DuckDB 2.0 file, a copy DuckDB 1.x reads, Parquet
per table, whatever the caller adds (the dashboard) and `release.json`; then one symlink swap
makes it current. A reader sees the old release or the new one, never half of one, and a
failed publication leaves the previous release current.

Beside the marts, a publication carries the data-quality history in schema `dq` (see
`orchestration.dq`: file outcomes, findings, per-ward status, incidents), read from the landing
ledger and the alert store just before and written into the same release: BI sees marts and
their data-quality history of the same moment. `meta.publication` logs the build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from orchestration.dq.tables import DqTable
from orchestration.serving.copies import write_duckdb_v1_copy, write_parquet_files
from orchestration.serving.database import write_serving_database
from orchestration.serving.release import (
    DUCKDB_FILE,
    DUCKDB_V1_FILE,
    KEEP_RELEASES,
    PARQUET_DIR,
    RELEASES,
    activate,
    building_release,
    new_release_id,
    prune_releases,
    write_manifest,
)

BeforeSwap = Callable[[Path], None]


@dataclass(frozen=True)
class Publication:
    """What one publication wrote.

    Attributes:
        path: The stable path of the DuckDB file (Settings.serving_path).
        release_id: The release now current.
        release_dir: Its folder under `releases/`.
        tables: Rows per published table of marts and dq (as meta.publication logs them).
        published_at: When the publication ran.
        pruned: The older releases deleted after the swap.
    """

    path: Path
    release_id: str
    release_dir: Path
    tables: dict[str, int]
    published_at: datetime
    pruned: tuple[str, ...] = ()


def publish_marts(
    warehouse: Path,
    serving: Path,
    run_id: str,
    dq_tables: Sequence[DqTable] = (),
    *,
    before_swap: BeforeSwap | None = None,
    keep: int = KEEP_RELEASES,
) -> Publication:
    """Write a release of every mart table of `warehouse` and make it current.

    Args:
        warehouse: The working warehouse (attached read-only).
        serving: The stable path of the DuckDB file BI tools open (Settings.serving_path);
            its folder is the serving directory.
        run_id: The run publishing, logged in `meta.publication` and `release.json`.
        dq_tables: The data-quality tables to publish with the marts (schema `dq`).
        before_swap: Called with the release folder once its DuckDB and Parquet files exist,
            to write more into it (the dashboard goes to `<folder>/dashboard`). The folder is
            not yet visible; an exception here abandons the release like any other failure.
        keep: How many releases to keep (the current one always stays).

    Returns:
        The publication, once its release is current.

    Raises:
        RuntimeError: the warehouse has no mart table to publish.
    """
    published_at = datetime.now()
    release_id = new_release_id(published_at)
    with building_release(serving.parent, release_id) as folder:
        database = folder / DUCKDB_FILE
        tables = write_serving_database(
            warehouse, database, run_id, release_id, published_at, dq_tables
        )
        write_duckdb_v1_copy(database, folder / DUCKDB_V1_FILE)
        rows = write_parquet_files(database, folder / PARQUET_DIR, run_id, published_at)
        if before_swap is not None:
            before_swap(folder)
        write_manifest(folder, release_id, run_id, published_at, rows)
    activate(serving, release_id)
    pruned = prune_releases(serving.parent, keep)
    release_dir = serving.parent / RELEASES / release_id
    return Publication(serving, release_id, release_dir, tables, published_at, tuple(pruned))
