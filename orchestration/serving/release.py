"""The serving directory: releases built aside, one symlink swapped to publish them.

    <serving dir>/
        releases/<release_id>/   dxkpi.duckdb, dxkpi_v1.duckdb, parquet/<schema>/<table>.parquet,
                                 dashboard/, release.json
        current -> releases/<release_id>
        dxkpi.duckdb -> current/dxkpi.duckdb       (Settings.serving_path)
        dxkpi_v1.duckdb -> current/dxkpi_v1.duckdb
        parquet -> current/parquet
        dashboard -> current/dashboard

A release is written in a hidden folder (`releases/.<release_id>.partial`), renamed to its
name once complete, and published by replacing `current` with a new symlink (`os.replace`, one
atomic rename): a reader resolving any stable path gets every file of one release, and a
failure before the swap leaves the previous release current. Readers that opened a file keep
it (on POSIX an open file outlives its deletion), so old releases can be pruned.

Every symlink is relative: the folder can be moved or shared (SMB, NFS) as a whole.
Publications are serialised (the publishing asset runs in a pool of one slot): a publication
removes the partial folders that earlier, interrupted ones left.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

RELEASES = "releases"
CURRENT = "current"
DUCKDB_FILE = "dxkpi.duckdb"
DUCKDB_V1_FILE = "dxkpi_v1.duckdb"
PARQUET_DIR = "parquet"
DASHBOARD_DIR = "dashboard"
MANIFEST = "release.json"
KEEP_RELEASES = 3
PARTIAL_SUFFIX = ".partial"


def new_release_id(published_at: datetime) -> str:
    """A release id that sorts by time: `20250401T020000123456-1a2b3c4d`."""
    return f"{published_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


def stable_links(serving: Path) -> dict[Path, str]:
    """The stable paths of the serving directory and their (relative) targets.

    Args:
        serving: Settings.serving_path, the stable path of the DuckDB file.
    """
    root = serving.parent
    return {
        serving: f"{CURRENT}/{DUCKDB_FILE}",
        root / DUCKDB_V1_FILE: f"{CURRENT}/{DUCKDB_V1_FILE}",
        root / PARQUET_DIR: f"{CURRENT}/{PARQUET_DIR}",
        root / DASHBOARD_DIR: f"{CURRENT}/{DASHBOARD_DIR}",
    }


@contextmanager
def building_release(root: Path, release_id: str) -> Iterator[Path]:
    """A hidden folder to write a release into, made visible as `releases/<id>` on success.

    Args:
        root: The serving directory.
        release_id: The new release's id.

    Yields:
        The folder to write into. On an exception it is deleted and the exception raised.
    """
    releases = root / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    partial = releases / f".{release_id}{PARTIAL_SUFFIX}"
    partial.mkdir()
    try:
        yield partial
        _fsync_tree(partial)
        partial.rename(releases / release_id)
        _fsync(releases)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def activate(serving: Path, release_id: str) -> None:
    """Make `release_id` current (one atomic rename), then make sure the stable links exist.

    A plain `dxkpi.duckdb` from before releases existed is replaced by its link here, also by
    an atomic rename: its readers keep the old file open, new ones open the release.
    """
    root = serving.parent
    _replace_with_symlink(root / CURRENT, f"{RELEASES}/{release_id}")
    for path, target in stable_links(serving).items():
        if not (path.is_symlink() and os.readlink(path) == target):
            _replace_with_symlink(path, target)
    _fsync(root)


def current_release(root: Path) -> str | None:
    """The id of the current release, None before the first publication."""
    link = root / CURRENT
    return Path(os.readlink(link)).name if link.is_symlink() else None


def prune_releases(root: Path, keep: int = KEEP_RELEASES) -> list[str]:
    """Delete all but the newest `keep` releases (never the current one) and partial folders.

    Returns:
        The ids of the deleted releases.
    """
    releases = root / RELEASES
    current = current_release(root)
    for partial in releases.glob(f".*{PARTIAL_SUFFIX}"):
        shutil.rmtree(partial, ignore_errors=True)
    names = sorted(
        (path.name for path in releases.iterdir() if path.is_dir() and not path.is_symlink()),
        reverse=True,
    )
    deleted = [name for name in names[keep:] if name != current]
    for name in deleted:
        shutil.rmtree(releases / name)
    return deleted


def write_manifest(
    release: Path,
    release_id: str,
    run_id: str,
    published_at: datetime,
    tables: Mapping[str, int],
) -> Path:
    """Write `release.json`: what the release holds, every file with its size and sha256.

    Args:
        release: The release folder, complete but for the manifest.
        release_id: Its id.
        run_id: The run that published it.
        published_at: When.
        tables: Rows per published table (`schema.table`).
    """
    files = {
        path.relative_to(release).as_posix(): {
            "bytes": path.stat().st_size,
            "sha256": _sha256(path),
        }
        for path in sorted(release.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }
    manifest = {
        "release_id": release_id,
        "run_id": run_id,
        "published_at": published_at.isoformat(),
        "duckdb_version": duckdb.__version__,
        "tables": dict(tables),
        "files": files,
    }
    path = release / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _replace_with_symlink(path: Path, target: str) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.link")
    os.symlink(target, temporary)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under `folder` (files first), so a crash after the swap
    cannot leave a current release with missing data."""
    paths = sorted(folder.rglob("*"), key=lambda path: len(path.parts), reverse=True)
    for path in [*paths, folder]:
        if not path.is_symlink():
            _fsync(path)
