"""Great Expectations suites for the raw datasets, run on each export's frame before loading.

Importing this package is cheap: Great Expectations itself is imported on the first
`run_suite` or `build_suite` call. The value sets (GRADES, ENROLLMENT_STATUSES, ...) live in
`expectations.suites` and can be imported without GX. `expectations.docs` turns Great
Expectations Data Docs on: then every result reported is also a page, linked by `docs_url`.
"""

from expectations import docs
from expectations.runner import FailedExpectation, SuiteResult, run_suite, run_suite_per_file
from expectations.suites import build_suite, suite_names

__all__ = [
    "FailedExpectation",
    "SuiteResult",
    "build_suite",
    "docs",
    "run_suite",
    "run_suite_per_file",
    "suite_names",
]
