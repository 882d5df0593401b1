"""Great Expectations Data Docs with history: every validation kept as a page an alert can link to.

When Data Docs are enabled (`configure(root)`, or the environment variable `DXKPI_DATA_DOCS_DIR`),
the runner hands each validation it reports to `publish()`. `publish()` stores the GX results in
a file GX context rooted in that folder (a filesystem validation-results store and a local
filesystem Data Docs site), renders the pages of those results only, rebuilds the index page,
and returns each page's `file://` URL. History therefore accumulates across runs and
processes, while each build costs about the same however long the history is:

- Only new pages are rendered (`build_data_docs(resource_identifiers=...)`).
- The store keeps the newest `keep_per_suite` results of each suite: older results and their
  pages are deleted at each publication, so the folder, and GX's walks of it, stay bounded.
- The index page lists the newest `INDEX_LIMIT` results: GX reads every listed result's JSON to
  draw the index.

The figures behind these bounds are next to `DEFAULT_KEEP_PER_SUITE`.

Store, prune and build run under an exclusive `fcntl.flock` on `<root>/.lock`, so that several
processes (Dagster runs) publishing at once take turns instead of reading half-written files.

Within `one_build()` (a raw asset's step wraps its chunks in it), each publication only stores
and prunes its results and returns their pages' URLs; the pages, GX's index and the history
page are built once when the block ends, failed or not. A step of many chunks (a cold run's
rosters: 10 at demo scale, about 230 at national scale) then pays one build, not one per chunk.

Layout under the root folder (GX's own file-context layout):

    gx/great_expectations.yml                            the context's configuration
    gx/expectations/<dataset>.json                       the suites, as last validated
    gx/uncommitted/validations/<dataset>/<run>/<time>/<batch>.json   the stored results
    gx/uncommitted/data_docs/local_site/index.html       the Data Docs site

Nothing here is imported with `expectations`: GX is imported on the first publication.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.data_context.types.resource_identifiers import (
        ValidationResultIdentifier,
    )

logger = logging.getLogger(__name__)

ENV_VARIABLE = "DXKPI_DATA_DOCS_DIR"
# Measured on the 2-core dev box, busy with other jobs (hr_staff, 35 expectations, a 3,000-row
# frame failing two rules; the result JSON is about 35 kB):
# - storing a result: 40-65 ms;
# - one publication of one new result (store, render its page, rebuild the index), with
#   10 results stored: 0.33-0.42 s; 500: 0.49-0.62 s (0.81-0.84 s when the index lists all
#   500); 1,200: 1.0-1.3 s; 2,000: 1.6-2.0 s. What grows is GX walking the store and the site
#   (several times per build) and reading each listed result for the index;
# - a full rebuild of 500 pages: 27 s (about 55 ms a page), hence new pages only.
# 200 results per suite, six suites: at most 1,200 results, about a second per publication,
# which is one per `run_suite_per_file` call whatever the number of files in it.
DEFAULT_KEEP_PER_SUITE = 200
# The index lists the newest results of all suites; older pages stay, linked from alerts.
INDEX_LIMIT = 200
SITE_NAME = "local_site"
# An offline list of every kept validation, newest first (GX's index needs public CDNs).
HISTORY_FILE = "history.jsonl"
# GX keys are path segments: "/" is refused in them, and a segment may not exceed 255 bytes
# (80 characters of 3-byte UTF-8 make 240).
_PATH_SLASH = "\u2215"  # DIVISION SLASH, which reads like "/" in the index
_MAX_RUN_NAME = 80
_REPO_ROOT = Path(__file__).resolve().parents[1]
_CONTEXT_DIR = "gx"
_SITE_DIR = Path("uncommitted", "data_docs", SITE_NAME)


@dataclass(frozen=True)
class _Settings:
    root: Path | None
    keep_per_suite: int


_configured: _Settings | None = None
_lock = threading.Lock()
_contexts: dict[Path, Any] = {}
_suites_saved: set[tuple[Path, str]] = set()


@dataclass(frozen=True)
class _Listed:
    """What the history page shows of one stored validation."""

    dataset: str
    files: tuple[str, ...]
    success: bool
    failed: int
    page: Path
    validated_at: datetime


@dataclass
class _Build:
    """Stored results of one root waiting for their pages (and GX's index) to be built."""

    root: Path
    keys: list[Any] = field(default_factory=list)
    listed: list[_Listed] = field(default_factory=list)


# The builds `one_build()` holds back, by root; None outside it (each publication builds).
_held_back: ContextVar[dict[Path, _Build] | None] = ContextVar("_held_back", default=None)


# --- Configuration ------------------------------------------------------------------------------


def configure(root: Path | None, *, keep_per_suite: int = DEFAULT_KEEP_PER_SUITE) -> None:
    """Turn Data Docs on in `root`, or off with None; this overrides `DXKPI_DATA_DOCS_DIR`.

    Args:
        root: The folder of the GX file context and its site; a relative path is relative to
            the repository root. None turns Data Docs off whatever the environment says.
        keep_per_suite: How many results of each suite the store keeps; older ones are deleted.

    Raises:
        ValueError: If `keep_per_suite` is less than 1.
    """
    global _configured
    if keep_per_suite < 1:
        raise ValueError(f"keep_per_suite must be at least 1, not {keep_per_suite}")
    _configured = _Settings(_resolve(root) if root is not None else None, keep_per_suite)


def data_docs_dir() -> Path | None:
    """Return the Data Docs folder in use, or None when Data Docs are off.

    `configure()` decides once called; until then `DXKPI_DATA_DOCS_DIR` does (unset or empty:
    off).
    """
    return _settings().root


def index_page() -> Path | None:
    """Return the history page, `<root>/index.html`: every kept validation, newest first, in
    plain HTML that works offline (it exists after the first publication). GX's own site
    index is `gx/uncommitted/data_docs/local_site/index.html`."""
    root = data_docs_dir()
    return None if root is None else root / "index.html"


def _settings() -> _Settings:
    if _configured is not None:
        return _configured
    value = os.environ.get(ENV_VARIABLE, "").strip()
    return _Settings(_resolve(Path(value)) if value else None, DEFAULT_KEEP_PER_SUITE)


def _resolve(root: Path) -> Path:
    return root if root.is_absolute() else _REPO_ROOT / root


# --- Naming -------------------------------------------------------------------------------------


def run_name_for(dataset: str, source_files: Sequence[str]) -> str:
    """Name a stored validation after its dataset and the exports it covered.

    Args:
        dataset: The raw table name.
        source_files: The exports validated together, e.g. ["hr/131016_staff_20250401.csv"].

    Returns:
        e.g. "hr_staff hr∕131016_staff_20250401.csv", or "hr_staff hr∕a.csv +11 more" for a
        batch. The name is a folder of the store and the site: "/" becomes "∕" (GX refuses "/"
        in keys), no character that Windows refuses is added (the site may be read over SMB),
        and the name is cut to fit a path segment.
    """
    if not source_files:
        return dataset
    first = source_files[0].replace("/", _PATH_SLASH).replace("\\", _PATH_SLASH)
    more = f" +{len(source_files) - 1} more" if len(source_files) > 1 else ""
    room = _MAX_RUN_NAME - len(dataset) - len(more) - 1
    # Windows drops a trailing space or dot from a folder name: do not let the cut leave one.
    return f"{dataset} {first[:room].rstrip(' .')}{more}"


# --- Publication --------------------------------------------------------------------------------


def publish(
    dataset: str,
    validations: Sequence[tuple[Sequence[str], ExpectationSuiteValidationResult]],
) -> list[str | None]:
    """Store validations of one dataset, render their pages and the index, and link them.

    Args:
        dataset: The raw table name; its suite names the results.
        validations: For each validation, the exports it covered and GX's result.

    Returns:
        For each validation, the `file://` URL of its page; all None when Data Docs are off
        or could not be written (the failure is logged: a report must not block a load).
    """
    settings = _settings()
    if settings.root is None or not validations:
        return [None] * len(validations)
    root = settings.root
    held_back = _held_back.get()
    build = _Build(root) if held_back is None else held_back.setdefault(root, _Build(root))
    try:
        with _exclusive(root):
            keys = _store(root, dataset, validations, settings.keep_per_suite, build)
            if held_back is None:
                _build(build)
    except Exception:  # GX raises many types; Data Docs are a report, never a reason to fail
        logger.exception("could not publish Data Docs for %s in %s", dataset, root)
        return [None] * len(validations)
    return [_page_path(root, key).as_uri() for key in keys]


@contextmanager
def one_build() -> Iterator[None]:
    """Build the pages of every publication made inside the block once, when it ends.

    The URLs the publications return name pages that exist once the block has ended; a
    process killed inside it leaves stored results without pages (the next build of their
    suite does not render them: GX renders the results it is given).
    """
    held_back: dict[Path, _Build] = {}
    token = _held_back.set(held_back)
    try:
        yield
    finally:
        _held_back.reset(token)
        for build in held_back.values():
            try:
                with _exclusive(build.root):
                    _build(build)
            except Exception:  # as in publish(): a report, never a reason to fail
                logger.exception("could not build Data Docs in %s", build.root)


def _store(
    root: Path,
    dataset: str,
    validations: Sequence[tuple[Sequence[str], ExpectationSuiteValidationResult]],
    keep_per_suite: int,
    build: _Build,
) -> list[ValidationResultIdentifier]:
    """Store the results (and the suite, once), prune the suite's oldest, and add the new
    results to `build`."""
    context = _context_for(root)
    build.keys.extend(_save_suite_once(context, root, dataset))
    run_time = datetime.now(UTC)
    keys = [
        _store_one(context, dataset, files, outcome, run_time) for files, outcome in validations
    ]
    _prune(context, dataset, keep_per_suite)
    build.keys.extend(keys)
    build.listed.extend(
        _Listed(
            dataset,
            tuple(files),
            bool(outcome.success),
            int(outcome.statistics.get("unsuccessful_expectations", 0)),
            _page_path(root, key),
            run_time,
        )
        for (files, outcome), key in zip(validations, keys, strict=True)
    )
    return keys


def _build(build: _Build) -> None:
    """Render the pages of the stored results and GX's index, then the history page."""
    context = _context_for(build.root)
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=build.keys)
    for page in [*(entry.page for entry in build.listed), _site_index(build.root)]:
        _strip_tracking(page)
    _record_history(build.root, build.listed)


def _site_index(root: Path) -> Path:
    return root / _CONTEXT_DIR / _SITE_DIR / "index.html"


# GX's pages load its logo from its own bucket with the context id in the address: a page
# view reported outside. The logo goes; the styling from public CDNs stays (it degrades to
# plain HTML offline, hence the history page below).
_TRACKED_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*")


def _strip_tracking(page: Path) -> None:
    if page.exists():
        html = page.read_text(encoding="utf-8")
        cleaned = _TRACKED_LOGO.sub("", html)
        if cleaned != html:
            page.write_text(cleaned, encoding="utf-8")


def _record_history(root: Path, listed: Sequence[_Listed]) -> None:
    """Append the validations to `history.jsonl` and rewrite `index.html` from it.

    GX's own index draws its list with scripts from public CDNs, so it is empty offline; this
    page is plain HTML: dataset, files, verdict, time, link, newest first, for the pages that
    still exist (pruned results drop out).
    """
    history = root / HISTORY_FILE
    with history.open("a", encoding="utf-8") as handle:
        for entry in listed:
            line = {
                "dataset": entry.dataset,
                "files": list(entry.files),
                "success": entry.success,
                "failed": entry.failed,
                "validated_at": entry.validated_at.isoformat(timespec="seconds"),
                "page": entry.page.relative_to(root).as_posix(),
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    entries = [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines()]
    kept = [entry for entry in entries if (root / entry["page"]).exists()]
    if len(kept) < len(entries):
        history.write_text(
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in kept), encoding="utf-8"
        )
    (root / "index.html").write_text(_history_html(kept[::-1]), encoding="utf-8")


def _history_html(entries: Sequence[dict[str, Any]]) -> str:
    rows = "\n".join(
        "<tr><td>{when}</td><td>{dataset}</td><td>{verdict}</td><td>{files}</td>"
        '<td><a href="{page}">page</a></td></tr>'.format(
            when=escape(entry["validated_at"]),
            dataset=escape(entry["dataset"]),
            verdict="passed" if entry["success"] else f"failed ({entry['failed']} rules)",
            files=escape(
                ", ".join(entry["files"][:3]) + (" ..." if len(entry["files"]) > 3 else "")
            ),
            page=escape(entry["page"]),
        )
        for entry in entries
    )
    return (
        '<!doctype html><html lang="ja"><meta charset="utf-8">'
        "<title>dxkpi: validations</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style>"
        "<h1>Great Expectations validations</h1>"
        "<p>Newest first. Each link opens the validation's Data Docs page.</p>"
        "<table><tr><th>validated (UTC)</th><th>dataset</th><th>verdict</th><th>files</th>"
        f"<th></th></tr>\n{rows}\n</table></html>\n"
    )


@contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    """Hold this process's lock and the folder's file lock (released when the file closes)."""
    root.mkdir(parents=True, exist_ok=True)
    with _lock, open(root / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _context_for(root: Path) -> Any:
    """Open (the first time: create) the file context of `root`; later calls reuse it."""
    context = _contexts.get(root)
    if context is None:
        import great_expectations as gx

        context = gx.get_context(
            mode="file", project_config=_project_config(root), context_root_dir=_gx_dir(root)
        )
        # Keep the YAML equal to what the code uses, for anyone opening the context by hand.
        context.variables.save()
        _contexts[root] = context
    return context


def _gx_dir(root: Path) -> Path:
    return root / _CONTEXT_DIR


def _project_config(root: Path) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    return DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=_gx_dir(root)),
        data_docs_sites={SITE_NAME: _site_config(root)},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )


def _site_config(root: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        # No buttons to GX's online tutorials: operators read this site, offline.
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "root_directory": str(_gx_dir(root)),
            "base_directory": _SITE_DIR.as_posix(),
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": INDEX_LIMIT,
        },
        # Run names carry file names: by default GX would hide any containing "profiling".
        "site_section_builders": {
            "profiling": "None",
            "validations": {"run_name_filter": {"matches_regex": "^"}},
        },
    }


def _save_suite_once(context: Any, root: Path, dataset: str) -> list[Any]:
    """Save the dataset's suite in the file context once per process, for its page.

    Returns:
        The suite's identifier when it was saved now (its page is then rendered), else [].
    """
    if (root, dataset) in _suites_saved:
        return []
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    from expectations.suites import build_suite

    # A fresh copy: add_or_update re-binds the suite it is given to this context.
    context.suites.add_or_update(build_suite(dataset))
    _suites_saved.add((root, dataset))
    return [ExpectationSuiteIdentifier(name=dataset)]


def _frame_label(source_files: Sequence[str]) -> str:
    """A short label of the exports validated together: the runner turns GX's own frame
    fingerprint off (`runner._skip_frame_fingerprints`), so results carry none."""
    return hashlib.sha256("\n".join(source_files).encode()).hexdigest()[:32]


def _store_one(
    context: Any,
    dataset: str,
    source_files: Sequence[str],
    outcome: ExpectationSuiteValidationResult,
    run_time: datetime,
) -> ValidationResultIdentifier:
    """Store one result under a key naming its dataset, its exports and its data."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_id = RunIdentifier(run_name=run_name_for(dataset, source_files), run_time=run_time)
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=dataset),
        run_id=run_id,
        batch_identifier=_frame_label(source_files),
    )
    outcome.meta["run_id"] = run_id
    # The page reads its "Data asset" from the batch spec, which a dataframe batch leaves out.
    outcome.meta["batch_spec"] = {
        **(outcome.meta.get("batch_spec") or {}),
        "data_asset_name": dataset,
    }
    # Shown on the page ("Show more info"): the full list, which the run name abbreviates.
    outcome.meta["batch_parameters"] = {"source_files": ", ".join(source_files)}
    context.validation_results_store.set(key, outcome)
    return key


def _prune(context: Any, dataset: str, keep: int) -> int:
    """Delete the dataset's stored results beyond the newest `keep`; return how many.

    Their pages go at the same build: the index builder deletes pages whose result is gone.
    """
    store = context.validation_results_store
    keys = [key for key in store.list_keys() if key.expectation_suite_identifier.name == dataset]
    keys.sort(key=lambda key: key.run_id.run_time, reverse=True)
    for key in keys[keep:]:
        store.remove_key(key)
    return max(len(keys) - keep, 0)


def _page_path(root: Path, key: ValidationResultIdentifier) -> Path:
    """Return where the site keeps the page of a stored result."""
    *parts, batch = key.to_tuple()
    return root / _CONTEXT_DIR / _SITE_DIR / "validations" / Path(*parts) / f"{batch}.html"
