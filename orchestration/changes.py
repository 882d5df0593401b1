"""What changed since the marts were last built, so that a run builds only that.

Every raw asset materialises whenever it runs (the UI, the graph and the blocking checks rely
on it), but most runs load nothing new. Each raw materialisation therefore carries:

- a data version: a digest of the file versions loaded in its table (`ops.file_loads`), which
  changes exactly when rows were loaded, replaced or taken out;
- `data_changed_at`: when that digest last changed (carried over from the previous
  materialisation when it did not).

`stale_assets` applies the rule of `make` to the graph on the instance's event log: an asset
is stale when it was never built, when an input is stale, when an input changed after the
asset was last built (a raw input by its `data_changed_at`, any other by its materialisation),
or when one of its ERROR checks failed the last time it ran.
A run with nothing new then builds nothing; one new roster rebuilds what reads rosters. The
digest includes the warehouse's own identity: a new warehouse changes every data version.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import dagster as dg
import duckdb

DATA_CHANGED_AT = "data_changed_at"
DATA_VERSION_TAG = "dagster/data_version"


def warehouse_identity(con: duckdb.DuckDBPyConnection) -> tuple[str, float]:
    """The warehouse file's identity and birth (POSIX seconds), drawn when first asked for.

    A new warehouse (`make demo` starts from none, an operator restores or rebuilds one) has a
    new identity, so every data version changes with it, and a new birth, before which nothing
    counts as built in it (seeds and models that read no raw table included). A warehouse from
    before this table gets both on its first run, which then rebuilds everything once.
    """
    con.execute(
        "create table if not exists ops.warehouse (identity varchar not null, born double not null)"
    )
    con.execute(
        "insert into ops.warehouse select uuid()::varchar, ? "
        "where not exists (select 1 from ops.warehouse)",
        [time.time()],
    )
    identity, born = con.execute("select identity, born from ops.warehouse limit 1").fetchone()
    return identity, born


def loaded_files_digest(con: duckdb.DuckDBPyConnection, raw_table: str) -> str:
    """A digest of the warehouse's identity and of the file versions loaded in a raw table:
    ward, date and SHA-256 of each.

    Reads `ops.file_loads` (one row per file loaded), not the rows: its cost follows the number
    of files, not their size.
    """
    identity, _ = warehouse_identity(con)
    rows = con.execute(
        "select ward_code, reference_date::varchar, file_sha256 from ops.file_loads "
        "where raw_table = ? order by 1, 2",
        [raw_table],
    ).fetchall()
    digest = hashlib.sha256(f"{identity}\t{raw_table}".encode())
    for row in rows:
        digest.update("\t".join(row).encode() + b"\n")
    return digest.hexdigest()[:32]


def _previous(instance: dg.DagsterInstance, key: dg.AssetKey) -> tuple[str | None, str | None]:
    """The data version and `data_changed_at` of the asset's latest materialisation."""
    event = instance.get_latest_materialization_event(key)
    materialisation = event.asset_materialization if event is not None else None
    if materialisation is None:
        return None, None
    changed = materialisation.metadata.get(DATA_CHANGED_AT)
    return materialisation.tags.get(DATA_VERSION_TAG), (
        str(changed.value) if changed is not None else None
    )


def versioned(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    digest: str,
    metadata: dict[str, object],
    now: datetime | None = None,
) -> dg.MaterializeResult:
    """A raw asset's materialisation with its data version and when its data last changed."""
    version, changed_at = _previous(instance, key)
    if version != digest or changed_at is None:
        changed_at = (now or datetime.now(UTC)).isoformat()
    return dg.MaterializeResult(
        metadata={**metadata, DATA_CHANGED_AT: changed_at},
        data_version=dg.DataVersion(digest),
    )


def _changed_at(event: dg.EventLogEntry) -> float:
    """When the data behind a materialisation last changed (POSIX seconds).

    A raw asset says so in its metadata; for any other asset it is the materialisation itself.
    """
    materialisation = event.asset_materialization
    value = materialisation.metadata.get(DATA_CHANGED_AT) if materialisation else None
    if value is not None:
        try:
            return datetime.fromisoformat(str(value.value)).timestamp()
        except ValueError:
            pass
    return event.timestamp


def stale_assets(
    instance: dg.DagsterInstance,
    graph: dg.AssetGraph,
    targets: Iterable[dg.AssetKey],
    warehouse_born: float = 0.0,
) -> set[dg.AssetKey]:
    """The targets to build: never built, built before the warehouse was, built before an
    input changed (see module), or failed an ERROR check when last checked.

    The last rule keeps a failed check in force: the asset is built again, so its checks run
    again and, while they fail, stop what reads it. Without it, the next run found the asset
    built and its inputs unchanged, built only what the failure had skipped, without the
    check, and published it.

    Args:
        instance: Where the materialisations are recorded.
        graph: The asset graph of the definitions.
        targets: The assets a run could build (the dbt models and the publications); their
            inputs outside the targets (raw tables, seeds' sources) count by their change time.
        warehouse_born: When the warehouse was created (`warehouse_identity`): a build before
            it was in another warehouse.
    """
    wanted = set(targets)
    keys = [key for key in graph.toposorted_asset_keys if key in wanted]
    parents = {parent for key in keys for parent in graph.get(key).parent_keys}
    latest = instance.get_latest_materialization_events([*keys, *parents])
    checks = [check for key in keys for check in graph.get(key).check_keys]
    refused = {
        check.asset_key
        for check, evaluation in failed_checks(instance, checks).items()
        if evaluation.severity == dg.AssetCheckSeverity.ERROR
    }
    stale: set[dg.AssetKey] = set()
    for key in keys:  # inputs first
        built = latest.get(key)
        if built is None or built.timestamp < warehouse_born or key in refused:
            stale.add(key)
            continue
        for parent in graph.get(key).parent_keys:
            event = latest.get(parent)
            if parent in stale or (event is not None and _changed_at(event) > built.timestamp):
                stale.add(key)
                break
    return stale


def failed_checks(
    instance: dg.DagsterInstance, checks: Iterable[dg.AssetCheckKey]
) -> dict[dg.AssetCheckKey, dg.AssetCheckEvaluation]:
    """The checks among `checks` whose latest evaluation failed, with that evaluation."""
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(checks))
    failed: dict[dg.AssetCheckKey, dg.AssetCheckEvaluation] = {}
    for check, record in latest.items():
        event = record.event.dagster_event if record.event is not None else None
        evaluation = event.event_specific_data if event is not None else None
        if isinstance(evaluation, dg.AssetCheckEvaluation) and not evaluation.passed:
            failed[check] = evaluation
    return failed
