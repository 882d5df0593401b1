"""One raw asset per landing-zone dataset, guarded by its expectation suite.

Assets are keyed per dataset, not partitioned per ward: a materialisation loads every export
of its dataset that is new or corrected, whichever ward sent it, so its cost grows with the
new files and not with the number of wards (1,741 municipalities later) or with history.
Each file is checked and committed on its own, so a bad export of one ward keeps no other
ward's data out, and the ward stays visible in every raw row, check and log line.
"""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg
from pydantic import Field

from expectations import docs, run_suite_per_file
from expectations.row_rules import broken_row_rules
from ingestion.common.contract import DatasetContract
from ingestion.common.ingest import ExportOutcome, Status, iter_ingest_exports
from ingestion.common.landing import Unrecognised, table_of
from ingestion.common.ledger import (
    NOT_RECOGNISED,
    FileOutcome,
    FileVersion,
    Ledger,
    RowCounts,
)
from ingestion.common.problems import WARNING
from ingestion.common.pseudonym import Pseudonymiser
from ingestion.registry import FILE_CONTRACTS
from orchestration.changes import loaded_files_digest, versioned
from orchestration.freshness import freshness_policy
from orchestration.resources import LandingZoneResource, WarehouseResource
from orchestration.settings import WAREHOUSE_POOL

SUITE_CHECK = "expectation_suite"
ROW_CHECK = "file_warnings"
OUTSTANDING_CHECK = "outstanding_rejections"
# Outcomes recorded in the ledger (and logged) per transaction, as a run goes.
LEDGER_BATCH = 200


def raw_asset_key(table: str) -> dg.AssetKey:
    """The asset key of a raw table, as dagster-dbt names the dbt source `raw.<table>`."""
    return dg.AssetKey(["raw", table])


def summarise(outcomes: list[ExportOutcome]) -> dict[str, int]:
    """Count exports per status, and the rows loaded and rejected."""
    counts = {status.value: 0 for status in Status}
    for outcome in outcomes:
        counts[outcome.status.value] += 1
    counts["rows_loaded"] = sum(o.rows_loaded for o in outcomes)
    counts["rows_quarantined"] = sum(
        o.rows_quarantined for o in outcomes if o.status is not Status.REJECTED
    )
    return counts


def _suite_check(table: str, outcomes: list[ExportOutcome]) -> dg.AssetCheckResult:
    rejected = [o for o in outcomes if o.status is Status.REJECTED]
    return dg.AssetCheckResult(
        check_name=SUITE_CHECK,
        passed=not rejected,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "files_checked": sum(1 for o in outcomes if o.check is not None),
            "files_rejected": len(rejected),
            "rejections": dg.MetadataValue.md(
                "\n\n".join(f"- {o.reason}" for o in rejected) or "none"
            ),
        },
        description=f"Great Expectations suite `{table}` on every new export before loading",
    )


def _row_check(
    contract: DatasetContract, outcomes: list[ExportOutcome], ledger: Ledger
) -> dg.AssetCheckResult:
    """Files in the warehouse now that deserve a look: schema drift, suite warnings (WARN).

    Judged on the current version of every file of the dataset (from the ledger), not only on
    this run's: it fails until the file is corrected, and passes when it is. Rows quarantined
    within the allowed share are what the quarantine is for: they are counted here and listed
    by `dxkpi-dq explain`, but do not fail the check. A file with too many is refused.
    """
    warned = {
        path: findings
        for path, findings in ledger.current_findings(WARNING, f"{contract.system}/").items()
        if table_of(path) == contract.table
    }
    listing = "\n".join(
        f"- {path}: {finding.message}" for path, findings in warned.items() for finding in findings
    )
    loaded = [o for o in outcomes if o.status in (Status.LOADED, Status.REPLACED)]
    return dg.AssetCheckResult(
        check_name=ROW_CHECK,
        passed=not warned,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_with_warnings": len(warned),
            "warnings": dg.MetadataValue.md(listing[:4000] or "none"),
            "rows_quarantined_this_run": sum(o.rows_quarantined for o in loaded),
            "files_with_quarantined_rows_this_run": sum(1 for o in loaded if o.rows_quarantined),
            "see": "dxkpi-dq explain <file>",
        },
        description="Files loaded now with schema drift or suite warnings; rows quarantined",
    )


def _outstanding_check(outcomes: list[ExportOutcome]) -> dg.AssetCheckResult:
    """Files in the landing zone whose current bytes are refused, this run or before: the
    blocking check fails once per bad file, this one until a corrected export arrives."""
    refused = [o for o in outcomes if o.status in (Status.REJECTED, Status.STILL_REJECTED)]
    return dg.AssetCheckResult(
        check_name=OUTSTANDING_CHECK,
        passed=not refused,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files": len(refused),
            "waiting_for_correction": dg.MetadataValue.md(
                "\n".join(f"- {o.source_file}" for o in refused) or "none"
            ),
            "see": "dxkpi-dq status",
        },
    )


def log_outcomes(log: dg.DagsterLogManager, outcomes: list[ExportOutcome]) -> None:
    """Log a batch of outcomes: one line per file, in one message per kind.

    Each message is an event Dagster stores (4 ms each in SQLite): one per file cost about
    9 s of a cold demo run's 2,156 files. A refused file gets an error message of its own.
    """
    loaded = [o for o in outcomes if o.status in (Status.LOADED, Status.REPLACED)]
    if loaded:
        rows = sum(o.rows_loaded for o in loaded)
        quarantined = sum(o.rows_quarantined for o in loaded)
        log.info(
            f"{len(loaded)} files loaded: {rows:,} rows, {quarantined:,} quarantined\n"
            + "\n".join(
                f"{o.status.value} {o.source_file}: {o.rows_loaded} rows ({o.encoding}), "
                f"{o.rows_quarantined} rows quarantined"
                for o in loaded
            )
        )
    for outcome in outcomes:
        if outcome.status is Status.REJECTED:
            log.error(
                f"refused {outcome.source_file}; nothing written, file kept: {outcome.reason}"
            )
    warnings = [f"{o.source_file}: {finding.message}" for o in outcomes for finding in o.warnings]
    if warnings:
        log.warning(f"warnings ({len(warnings)}):\n" + "\n".join(warnings))


class LandingFilesConfig(dg.Config):
    """Which exports a run reads.

    The landing-zone sensor names the file versions it saw (path relative to the landing
    zone -> SHA-256); without that (a schedule, the UI, the headless command) the run reads
    every complete export of the dataset that is not loaded yet.
    """

    files: dict[str, str] | None = Field(
        default=None,
        description="path relative to the landing zone -> SHA-256; leave out to scan",
    )
    reprocess: list[str] = Field(
        default_factory=list,
        description="paths read again even if their bytes were loaded or refused before",
    )


def _exports_to_read(
    contract: DatasetContract,
    landing: LandingZoneResource,
    files: dict[str, str] | None,
    log: dg.DagsterLogManager,
) -> tuple[list[Path], dict[Path, str] | None]:
    """The paths this run reads, and the versions asked for when a sensor named them."""
    root = Path(landing.path)
    if files is not None:
        expected = {root / name: digest for name, digest in files.items()}
        return sorted(expected, key=lambda p: (p.name.rsplit("_", 1)[-1], p.name)), expected
    survey = landing.survey()
    paths = survey.exports_of(contract.system, contract.dataset)
    settling = [p for p in survey.settling if p.parent.name == contract.system]
    if settling:
        log.info(f"{len(settling)} files of {contract.system}/ still being written: left for later")
    strays = [u for u in survey.unrecognised if u.path.parent.name == contract.system]
    record_unrecognised(landing, strays)
    for stray in strays:
        log.warning(f"{contract.system}/{stray.path.name}: not recognised: {stray.reason}")
    # The ledger's hashes (kept by stat: an untouched file is not read again) say which
    # versions are loaded already, so the run reads only the others, not the whole history.
    versions = landing.ledger().hash_files(root, paths)
    return paths, {path: version.sha256 for path, version in versions.items()}


def record_unrecognised(landing: LandingZoneResource, strays: list[Unrecognised]) -> None:
    """Give each unrecognised file version its outcome in the ledger, with the reason."""
    ledger = landing.ledger()
    versions = ledger.hash_files(Path(landing.path), [u.path for u in strays])
    ledger.record_many(
        (versions[u.path], NOT_RECOGNISED, u.reason) for u in strays if u.path in versions
    )


def ledger_outcome(outcome: ExportOutcome) -> FileOutcome:
    """What the ledger keeps of an export's outcome: state, reason, rows, findings."""
    version = FileVersion(outcome.source_file, outcome.file_sha256)
    if outcome.status not in (Status.LOADED, Status.REPLACED, Status.REJECTED):
        return FileOutcome(version, outcome.status.value, outcome.reason)
    rows = RowCounts(outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined)
    return FileOutcome(version, outcome.status.value, outcome.reason, rows, outcome.findings())


def ingest_dataset(
    contract: DatasetContract,
    warehouse: WarehouseResource,
    landing: LandingZoneResource,
    log: dg.DagsterLogManager,
    files: dict[str, str] | None = None,
    run_id: str | None = None,
    reprocess: list[str] | None = None,
) -> list[ExportOutcome]:
    """Ingest the named exports of one dataset, or every complete one not loaded yet.

    Each outcome is written to the landing ledger against the file version it concerns, as the
    files are done (`LEDGER_BATCH` at a time), and logged. What is returned are the outcomes'
    summaries: their row problems are in the ledger and `ops.row_problems`, not held for the
    whole run.
    """
    pseudonyms = Pseudonymiser.from_environment()
    docs.configure(Path(landing.data_docs_dir) if landing.data_docs_dir else None)
    paths, expected = _exports_to_read(contract, landing, files, log)
    ledger = landing.ledger()
    kept: list[ExportOutcome] = []
    recording: list[ExportOutcome] = []

    def record() -> None:
        ledger.record_outcomes((ledger_outcome(o) for o in recording if o.file_sha256), run_id)
        log_outcomes(log, recording)
        kept.extend(outcome.summary() for outcome in recording)
        recording.clear()

    # Data Docs: the pages of every chunk's validations are built once, at the end.
    with docs.one_build(), warehouse.connect() as con:
        for outcome in iter_ingest_exports(
            con,
            paths,
            contract,
            run_suite_per_file,
            pseudonyms,
            datetime.now(),
            expected,
            broken_row_rules,
            again={Path(landing.path) / name for name in reprocess or ()},
        ):
            recording.append(outcome)
            if len(recording) >= LEDGER_BATCH:
                record()
    record()
    return kept


def build_landing_asset(contract: DatasetContract) -> dg.AssetsDefinition:
    """The raw asset of one landing-zone dataset, with its suite as a blocking check."""
    key = raw_asset_key(contract.table)

    @dg.asset(
        key=key,
        group_name="raw",
        kinds={"python", "duckdb"},
        pool=WAREHOUSE_POOL,
        deps=[LANDING_ZONE],
        freshness_policy=freshness_policy(contract.table),
        description=(
            f"Exports `landing/{contract.system}/<ward>_{contract.dataset}_<YYYYMMDD>.csv`, "
            f"checked and loaded into `raw.{contract.table}` (key: {', '.join(contract.key)})."
        ),
        check_specs=[
            dg.AssetCheckSpec(SUITE_CHECK, asset=key, blocking=True),
            dg.AssetCheckSpec(ROW_CHECK, asset=key),
            dg.AssetCheckSpec(OUTSTANDING_CHECK, asset=key),
        ],
    )
    def landing_asset(
        context: dg.AssetExecutionContext,
        config: LandingFilesConfig,
        warehouse: WarehouseResource,
        landing: LandingZoneResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        outcomes = ingest_dataset(
            contract,
            warehouse,
            landing,
            context.log,
            config.files,
            context.run_id,
            config.reprocess,
        )
        with warehouse.connect() as con:
            digest = loaded_files_digest(con, contract.table)
        yield versioned(context.instance, key, digest, summarise(outcomes))
        yield _suite_check(contract.table, outcomes)
        yield _row_check(contract, outcomes, landing.ledger())
        yield _outstanding_check(outcomes)

    return landing_asset


LANDING_ZONE = dg.AssetKey(["landing", "zone"])
UNRECOGNISED_CHECK = "unrecognised_files"

landing_zone = dg.AssetSpec(
    LANDING_ZONE,
    group_name="raw",
    kinds={"file"},
    description=(
        "The landing zone: `<landing>/<system>/<ward_code>_<dataset>_<YYYYMMDD>.csv` dropped by "
        "the source systems. Every file version and its outcome is in the landing ledger."
    ),
)


def unrecognised_result(strays: list[Unrecognised], root: Path) -> dg.AssetCheckEvaluation:
    """The `unrecognised_files` evaluation for the files no contract reads (WARN)."""
    listing = "\n".join(f"- `{u.path.relative_to(root).as_posix()}`: {u.reason}" for u in strays)
    return dg.AssetCheckEvaluation(
        asset_key=LANDING_ZONE,
        check_name=UNRECOGNISED_CHECK,
        passed=not strays,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"files": len(strays), "not_recognised": dg.MetadataValue.md(listing or "none")},
        description="Files in the landing zone that no export contract reads, and why",
    )


@dg.asset_check(
    asset=LANDING_ZONE,
    name=UNRECOGNISED_CHECK,
    description="Files in the landing zone that no export contract reads, and why (WARN)",
)
def unrecognised_files(landing: LandingZoneResource) -> dg.AssetCheckResult:
    """Every complete file of the landing zone that will never load, with its reason."""
    strays = landing.survey().unrecognised
    record_unrecognised(landing, strays)
    evaluation = unrecognised_result(strays, Path(landing.path))
    return dg.AssetCheckResult(
        passed=evaluation.passed,
        severity=evaluation.severity,
        metadata=evaluation.metadata,
        description=evaluation.description,
    )


landing_assets = [build_landing_asset(contract) for contract in FILE_CONTRACTS.values()]
