"""Run a dataset's suite on a pandas DataFrame before it is written to the warehouse.

`run_suite` returns a plain `SuiteResult` (no GX objects) that the Dagster layer turns into a
blocking asset check. The GX context, the suites and their batch definitions are built once
per process, on first use: GX is imported lazily so that importing this package stays cheap.
When Data Docs are enabled (`expectations.docs`), the results reported are also published as
pages, and each `SuiteResult` links to its page.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from expectations import docs
from expectations.suites import Rule, build_suite, rules_for, suite_names

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.batch_definition import BatchDefinition

Severity = Literal["error", "warning"]

MAX_SOURCE_ROWS = 20
MAX_SAMPLE_VALUES = 5
SOURCE_ROW_COLUMN = "source_row"
_DATASOURCE_NAME = "dxkpi_frames"
_RANGE = "expect_column_values_to_be_between"

# SUMMARY, not COMPLETE: GX then keeps only the first 20 unexpected values and rows per
# expectation, which is all we report; COMPLETE would carry every failing row of a bad file.
_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "unexpected_index_column_names": [SOURCE_ROW_COLUMN],
    "partial_unexpected_count": MAX_SOURCE_ROWS,
    "return_unexpected_index_query": False,
}


@dataclass(frozen=True)
class FailedExpectation:
    """One expectation of a suite that failed on a frame.

    Attributes:
        expectation: The GX expectation type, e.g. "expect_column_values_to_be_in_set".
        column: The column the rule is about, None for table-level rules.
        severity: "error" (blocks the load) or "warning" (reported only).
        rule: A short human sentence, e.g. "grade in {係員, ...}".
        unexpected_count: How many rows failed (0 for table-level rules).
        source_rows: The file line numbers (source_row) of the first failing rows, at most 20.
        sample_values: Up to 5 distinct unexpected values, as text.
        note: Extra detail: the observed value of a table rule, or why a rule could not run.
    """

    expectation: str
    column: str | None
    severity: Severity
    rule: str
    unexpected_count: int
    source_rows: list[int] = field(default_factory=list)
    sample_values: list[str] = field(default_factory=list)
    note: str = ""

    def describe(self) -> str:
        """Return one line: the rule, its column, the failing rows and values."""
        text = f"{self.severity}: rule '{self.rule}' failed"
        if self.column is not None:
            text += f" on column {self.column}"
        if self.source_rows:
            text += f" at rows {', '.join(map(str, self.source_rows))}"
        if self.unexpected_count:
            text += f" ({self._row_count_text()})"
        if self.note:
            text += f": {self.note}"
        elif self.sample_values and self.sample_values != ["null"]:
            # A not-null rule's only "value" is null: the rule already says so.
            text += f": values {', '.join(self.sample_values)}"
        return text

    def _row_count_text(self) -> str:
        rows = "row" if self.unexpected_count == 1 else "rows"
        if len(self.source_rows) < self.unexpected_count and self.source_rows:
            return f"first {len(self.source_rows)} of {self.unexpected_count} {rows}"
        return f"{self.unexpected_count} {rows}"


@dataclass(frozen=True)
class SuiteResult:
    """The outcome of one dataset suite on one frame.

    Attributes:
        dataset: The raw table name whose suite ran.
        success: True when no error-severity expectation failed (warnings do not count).
        evaluated: How many expectations were evaluated.
        failures: Every failed expectation, errors and warnings, in suite order.
        docs_url: The `file://` URL of the Data Docs page of the validation, when Data Docs
            are enabled and the page was written; for an export that passed inside a batch,
            the page of that batch.
    """

    dataset: str
    success: bool
    evaluated: int
    failures: list[FailedExpectation] = field(default_factory=list)
    docs_url: str | None = None

    @property
    def errors(self) -> list[FailedExpectation]:
        """The failures that block the load."""
        return [failure for failure in self.failures if failure.severity == "error"]

    @property
    def warnings(self) -> list[FailedExpectation]:
        """The failures that are reported only."""
        return [failure for failure in self.failures if failure.severity == "warning"]

    def describe(self, source_file: str) -> str:
        """Return a multi-line message naming the file, each failed rule, column and rows.

        Args:
            source_file: The file the frame was read from, e.g.
                "landing/hr/131016_staff_20250401.csv".

        Returns:
            A summary line, then one line per failure, then the Data Docs page when there is
            one; each line starts with the file name.
        """
        if not self.failures:
            return f"{source_file}: {self.dataset}: all {self.evaluated} expectations passed"
        verdict = "passed with warnings" if self.success else "failed"
        summary = (
            f"{source_file}: {self.dataset} {verdict}: {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s) in {self.evaluated} expectations"
        )
        lines = [f"{source_file}: {failure.describe()}" for failure in self.failures]
        if self.docs_url:
            lines.append(f"{source_file}: Data Docs: {self.docs_url}")
        return "\n".join([summary, *lines])


# --- GX context and compiled suites, built once per process ------------------------------------


@dataclass(frozen=True)
class _Compiled:
    suite: gx.ExpectationSuite
    # The suite without its row-count rules, run on several exports at once.
    batch_suite: gx.ExpectationSuite
    batch_definition: BatchDefinition
    columns_read: frozenset[str]
    range_columns: frozenset[str]
    row_counts: tuple[Rule, ...]

    def row_counts_hold(self, rows: int) -> bool:
        """Whether an export of `rows` rows meets every row-count rule of the suite."""
        return all(rule.row_count_holds(rows) for rule in self.row_counts)


_lock = threading.Lock()
_context: Any = None
_compiled: dict[str, _Compiled] = {}


def _get_context() -> Any:
    """Create the ephemeral GX context on first use; later calls return the same one."""
    global _context
    if _context is None:
        # Read by GX when it starts; set before the import so it applies from the first use.
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        # Progress bars are switched through the context's variables (TQDM_DISABLE is ignored):
        # hundreds of files per run would otherwise each draw a bar in the logs.
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        context.data_sources.add_pandas(_DATASOURCE_NAME)
        _skip_frame_fingerprints()
        _context = context
    return _context


def _skip_frame_fingerprints() -> None:
    """Stop GX fingerprinting each validated frame.

    GX's pandas engine hashes every frame under `HASH_THRESHOLD` bytes (1 GB) into its batch
    markers: pandas' hash of each row, then an MD5, about 1 microsecond a row (some 6 s of
    a cold demo run, minutes at national scale), only to label the batch. dxkpi labels a
    validation by its exports (`docs.run_name_for`) and reads the fingerprint nowhere else.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    if not hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        raise RuntimeError(
            "great_expectations no longer has pandas_execution_engine.HASH_THRESHOLD: "
            "check how it fingerprints frames before upgrading"
        )
    pandas_execution_engine.HASH_THRESHOLD = 0


def _compiled_for(dataset: str) -> _Compiled:
    """Return the dataset's stored suite and batch definition, creating them on first use."""
    compiled = _compiled.get(dataset)
    if compiled is None:
        context = _get_context()
        suite = context.suites.add(build_suite(dataset))
        batch_suite = context.suites.add(build_suite(dataset, row_counts=False))
        asset = context.data_sources.get(_DATASOURCE_NAME).add_dataframe_asset(name=dataset)
        batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        rules = rules_for(dataset)
        columns_read = frozenset(col for rule in rules for col in rule.columns)
        range_columns = frozenset(
            rule.column for rule in rules if rule.expectation == _RANGE and rule.column
        )
        row_counts = tuple(rule for rule in rules if rule.is_row_count)
        compiled = _Compiled(
            suite, batch_suite, batch_definition, columns_read, range_columns, row_counts
        )
        _compiled[dataset] = compiled
    return compiled


def comparable_in_bulk(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The frame GX validates: each range-checked column in a dtype GX compares in bulk.

    GX 1.x evaluates `expect_column_values_to_be_between` on pandas with one vectorised
    comparison only for numpy int64 and float64 columns and datetime64[ns]; on any other dtype
    (the reader's datetime64[s], pandas' nullable Int64 and Float64) it calls a Python function
    per value, which was most of a roster's suite run. A column is handed over in the dtype GX
    compares in bulk when the change is lossless and keeps the scalar type the suite's type
    rules look at (datetime64, int64, float64), so every rule reaches the same verdict on the
    same rows with the same values. A column that cannot be (a date outside 1677-2262, an Int64
    with a blank) stays as it is and is compared per value, as before. Only the validation sees
    this frame: the frame loaded keeps its own dtypes.

    Args:
        frame: The frame to validate.
        columns: The columns a range rule reads (missing ones are skipped).

    Returns:
        `frame` itself when nothing changes, else a shallow copy with the columns converted.
    """
    converted = {}
    for column in columns:
        if column in frame.columns:
            bulk = _in_bulk_dtype(frame[column])
            if bulk is not None:
                converted[column] = bulk
    if not converted:
        return frame
    frame = frame.copy(deep=False)
    for column, values in converted.items():
        frame[column] = values
    return frame


def _in_bulk_dtype(values: pd.Series) -> pd.Series | None:
    """`values` in a dtype GX's range metric compares vectorised, or None if not lossless."""
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind != "M" or dtype == np.dtype("datetime64[ns]"):
            return None  # numpy numbers and ns dates are compared in bulk already
        try:
            return values.astype("datetime64[ns]")
        except (OverflowError, pd.errors.OutOfBoundsDatetime):
            return None  # a year nanoseconds cannot hold (a typo the rule is there to catch)
    # Nullable numbers: Int64 -> int64 and Float64 -> float64 only, as another width would
    # change the scalar type `expect_column_values_to_be_of_type` compares (and GX would still
    # go per value).
    numpy_dtype = getattr(dtype, "numpy_dtype", None) if dtype.kind in "if" else None
    if numpy_dtype is None or numpy_dtype.name not in ("int64", "float64") or values.hasnans:
        return None
    bulk = values.astype(numpy_dtype)
    # A Float64 may hold NaN as a value, not a blank: GX would then skip it as missing.
    return None if bulk.hasnans else bulk


def run_suite(dataset: str, frame: pd.DataFrame) -> SuiteResult:
    """Validate one export's frame against its dataset's suite.

    Args:
        dataset: The raw table name, one of `suite_names()`.
        frame: The frame about to be written: lineage columns plus the dataset's columns,
            with `source_row` holding each row's line number in the file.

    Returns:
        The outcome; `success` is False only when an error-severity expectation failed.

    Raises:
        KeyError: If the dataset has no suite.
    """
    result, outcome = _validate(dataset, frame)
    if docs.data_docs_dir() is None:
        return result
    (url,) = docs.publish(dataset, [(_source_files_in(frame), outcome)])
    return replace(result, docs_url=url)


def _validate(
    dataset: str, frame: pd.DataFrame, *, exports: int = 1
) -> tuple[SuiteResult, ExpectationSuiteValidationResult]:
    """Validate a frame; return the plain result and GX's own (for Data Docs).

    A frame of several exports (`exports` > 1) is validated without the row-count rules, which
    the caller has judged on each export; they count as evaluated.
    """
    if dataset not in suite_names():
        raise KeyError(f"no expectation suite for dataset {dataset!r}; known: {suite_names()}")
    # GX reports rows by the frame's index when it is named; a plain RangeIndex makes it report
    # the source_row column instead (a cheap, copy-on-write view on pandas 3).
    frame = frame.reset_index(drop=True)
    # One validation at a time: GX objects are shared and not documented as thread-safe, and
    # pandas validation holds the GIL anyway, so threads would gain little.
    with _lock:
        compiled = _compiled_for(dataset)
        frame = comparable_in_bulk(frame, compiled.range_columns)
        batch = compiled.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        # Batch.validate rather than ValidationDefinition.run: run() re-checks the stored
        # definitions and keeps every result in the context's store, a leak over many files.
        suite = compiled.suite if exports == 1 else compiled.batch_suite
        outcome = batch.validate(suite, result_format=_RESULT_FORMAT)
    missing = compiled.columns_read - set(frame.columns)
    # GX returns results grouped by metric, not in suite order: restore the suite order.
    results = sorted(outcome.results, key=_suite_order)
    failures = [
        _failure(result)
        for result in results
        if not result.success and not _blocked_by_missing_column(result, missing)
    ]
    result = SuiteResult(
        dataset=dataset,
        success=not any(failure.severity == "error" for failure in failures),
        evaluated=int(outcome.statistics["evaluated_expectations"])
        + (len(compiled.row_counts) if exports > 1 else 0),
        failures=failures,
    )
    return result, outcome


def _source_files_in(frame: pd.DataFrame) -> list[str]:
    """The exports a frame holds, from its lineage column, to name a page after them."""
    if "source_file" not in frame.columns:
        return []
    return [str(name) for name in frame["source_file"].dropna().unique()]


# --- Turning GX results into plain data --------------------------------------------------------


def _suite_order(result: ExpectationValidationResult) -> int:
    return int((result.expectation_config.meta or {}).get("order", 0))


def _blocked_by_missing_column(result: ExpectationValidationResult, missing: set[str]) -> bool:
    """Tell a rule that could not run because its column is missing: the column-set rule
    already reports that, so repeating it per rule would only bury the cause."""
    columns = (result.expectation_config.meta or {}).get("columns", [])
    return _raised(result) is not None and bool(missing.intersection(columns))


def _raised(result: ExpectationValidationResult) -> str | None:
    """Return the message of the exception an expectation raised, or None."""
    info = result.exception_info or {}
    # GX 1.x nests exception details per metric id; older code paths use one flat dict.
    candidates = [info, *(value for value in info.values() if isinstance(value, dict))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "unknown error")
            return message.splitlines()[0]
    return None


def _failure(result: ExpectationValidationResult) -> FailedExpectation:
    config = result.expectation_config
    meta = config.meta or {}
    column = meta.get("column", config.kwargs.get("column"))
    details = result.result or {}
    error = _raised(result)
    severity: Severity = "warning" if str(config.severity.value) == "warning" else "error"
    if error is not None:
        note, samples = f"could not be evaluated: {error}", []
    elif config.type == "expect_table_columns_to_match_set":
        note, samples = _column_set_details(details)
    elif "observed_value" in details and "unexpected_count" not in details:
        note, samples = f"observed {details['observed_value']}", []
    else:
        note, samples = "", _sample_values(details, column)
    return FailedExpectation(
        expectation=config.type,
        column=column,
        severity=severity,
        rule=str(meta.get("rule", config.type)),
        unexpected_count=int(details.get("unexpected_count") or 0),
        source_rows=_source_rows(details),
        sample_values=samples,
        note=note,
    )


def _column_set_details(details: dict[str, Any]) -> tuple[str, list[str]]:
    mismatched = (details.get("details") or {}).get("mismatched") or {}
    missing = sorted(mismatched.get("missing") or [])
    unexpected = sorted(mismatched.get("unexpected") or [])
    parts = []
    if missing:
        parts.append(f"missing: {', '.join(missing)}")
    if unexpected:
        parts.append(f"unexpected: {', '.join(unexpected)}")
    return "; ".join(parts), missing + unexpected


def _source_rows(details: dict[str, Any]) -> list[int]:
    rows = []
    for entry in details.get("partial_unexpected_index_list") or []:
        value = entry.get(SOURCE_ROW_COLUMN) if isinstance(entry, dict) else None
        if not _is_missing(value):
            rows.append(int(value))
    return rows[:MAX_SOURCE_ROWS]


def _sample_values(details: dict[str, Any], column: str | None) -> list[str]:
    """First distinct unexpected values of the rule's own column.

    Read from the index list when it names the column: for a column pair GX's plain value list
    holds (A, B) tuples, while the index list gives the reported column's value per row.
    """
    entries = details.get("partial_unexpected_index_list") or []
    if column and entries and all(isinstance(e, dict) and column in e for e in entries):
        values = [entry[column] for entry in entries]
    else:
        values = list(details.get("partial_unexpected_list") or [])
    samples: list[str] = []
    for value in values:
        text = _format_value(value)
        if text not in samples:
            samples.append(text)
        if len(samples) == MAX_SAMPLE_VALUES:
            break
    return samples


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _format_value(value: object) -> str:
    if _is_missing(value):
        return "null"
    if hasattr(value, "isoformat") and hasattr(value, "hour"):
        if (value.hour, value.minute, value.second, getattr(value, "microsecond", 0)) == (0,) * 4:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


# --- Many exports at once ----------------------------------------------------------------------

# Rows validated in one GX call. A suite run costs ~0.3 s however small the frame, while a
# 250,000-row frame takes about a second: validating exports together makes the cost of a
# load grow with the rows, not with the number of files.
BATCH_ROWS = 250_000


def run_suite_per_file(dataset: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, SuiteResult]:
    """Validate several exports of one dataset, and give each its own result.

    Exports are validated together in batches of up to `BATCH_ROWS` rows (every per-file rule
    is written to hold on such a frame: uniqueness is within `source_file`). A batch with no
    failure passes every export in it; otherwise it is split in halves until each failure is
    pinned to its export, whose result then names its own rows. The suite's row-count rules
    (at least one row, at most so many, a register's exact size) are about one export: each
    export's row count is judged first, and one that breaks a row-count rule (an empty export
    among them) is validated on its own with the whole suite, so that GX reports it; a batch
    runs the rest of the suite.

    With Data Docs enabled, the validations behind the results (passing batches and single
    exports, not the failing batches that were split) are published once, at the end.

    Args:
        dataset: The raw table name, one of `suite_names()`.
        frames: Each export's frame, by source file.

    Returns:
        A result per source file, in the order given.
    """
    compiled = _compiled_for(dataset)
    validations: dict[str, _Validation] = {}
    for batch in _batches(frames, compiled.row_counts_hold):
        validations.update(_validate_batch(dataset, batch, frames))
    ordered = {name: validations[name] for name in frames}
    if docs.data_docs_dir() is None:
        return {name: validation.result for name, validation in ordered.items()}
    return _with_pages(dataset, ordered)


@dataclass(frozen=True)
class _Validation:
    """One GX validation behind per-file results: the exports it covered and both results."""

    source_files: tuple[str, ...]
    result: SuiteResult
    outcome: ExpectationSuiteValidationResult


def _batches(
    frames: Mapping[str, pd.DataFrame], row_counts_hold: Callable[[int], bool]
) -> list[list[str]]:
    batches: list[list[str]] = []
    current: list[str] = []
    rows = 0
    for name, frame in frames.items():
        if not row_counts_hold(len(frame)):
            batches.append([name])
            continue
        if current and rows + len(frame) > BATCH_ROWS:
            batches.append(current)
            current, rows = [], 0
        current.append(name)
        rows += len(frame)
    if current:
        batches.append(current)
    return batches


def _validate_batch(
    dataset: str, names: list[str], frames: Mapping[str, pd.DataFrame]
) -> dict[str, _Validation]:
    if len(names) == 1:
        result, outcome = _validate(dataset, frames[names[0]])
        return {names[0]: _Validation(tuple(names), result, outcome)}
    import pandas as pd

    combined, outcome = _validate(
        dataset,
        pd.concat([frames[name] for name in names], ignore_index=True),
        exports=len(names),
    )
    if not combined.failures:
        # One shared validation: every export passed, with nothing of its own to report.
        validation = _Validation(tuple(names), combined, outcome)
        return dict.fromkeys(names, validation)
    half = len(names) // 2
    return {
        **_validate_batch(dataset, names[:half], frames),
        **_validate_batch(dataset, names[half:], frames),
    }


def _with_pages(dataset: str, validations: Mapping[str, _Validation]) -> dict[str, SuiteResult]:
    """Publish each distinct validation once and link every export's result to its page."""
    distinct = list({id(validation): validation for validation in validations.values()}.values())
    urls = docs.publish(dataset, [(v.source_files, v.outcome) for v in distinct])
    url_of = {id(validation): url for validation, url in zip(distinct, urls, strict=True)}
    return {
        name: replace(validation.result, docs_url=url_of[id(validation)])
        for name, validation in validations.items()
    }
