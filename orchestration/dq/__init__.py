"""`dxkpi-dq`: the operator's data-quality loop, and the `dq` tables of each publication.

    dxkpi-dq status [--ward W] [--dataset D] [--all] [--freshness] [--json]
    dxkpi-dq explain <file> [--json]
    dxkpi-dq reprocess <file>

It reads only the landing ledger, the alert incidents (`alerts.sqlite` beside the ledger) and
the landing folder, never the working warehouse: DuckDB admits one process on that file, the
pipeline's, so this command works while a run writes it. Both SQLite files are opened read-only
(`status`, `explain`); `reprocess` writes one row to the ledger's `reprocess_requests`, which the
landing sensor picks up at its next tick.

There is no `reprocess --now`: reading a file in-process needs the warehouse's write lock, which
a running pipeline holds (and the `duckdb_warehouse` pool of one slot would be bypassed). The
sensor's run waits for the pool like every other run.

Exit codes: 0 all well, 1 something needs attention (`status`: a refused file or an open ERROR
incident), 2 usage error or unknown file.

The same readings feed the publication: `publication_tables` turns them into the tables of the
`dq` schema of the serving file (`dq.file_outcomes`, `dq.findings_summary`,
`dq.ward_dataset_status`, `dq.incidents`), written beside the marts before the swap.

Reasons may quote cell values (a suite's `...: values a, b`): every reason shown or published
here is cut before them, as the alert messages are. Findings never hold cell text.

The package: `readings` (what the SQLite files hold, per ward and dataset, next steps),
`summary` (the operator's summary), `tables` (the publication's `dq` tables) and `cli` (the
`dxkpi-dq` command).
"""

from orchestration.dq.cli import main
from orchestration.dq.summary import summary_for
from orchestration.dq.tables import publication_tables

__all__ = ["main", "publication_tables", "summary_for"]
