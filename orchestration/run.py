"""`make run` / `dxkpi-run`: process the landing zone as it is, once, without a daemon.

For cron-minded engineers and CI: materialises every asset in one process on the Dagster
instance of DAGSTER_HOME (so the run shows in the UI later), reading every complete export
that is not loaded yet, snapshotting the catalogue, building the marts and publishing them.
Nothing is generated and nothing in the landing zone is touched. Exits non-zero when the run
failed or a blocking check refused a file; prints what happened to the files either way.

    dxkpi-run            # uses the settings of the environment (see .env.example)
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import dagster as dg

from orchestration.dq import summary_for
from orchestration.instance import prepare_dagster_home
from orchestration.serving.locations import where_published
from orchestration.settings import Settings, load_settings


def run_everything(
    instance: dg.DagsterInstance | None = None, settings: Settings | None = None
) -> dg.ExecuteInProcessResult:
    """Materialise every asset in-process, on `instance` or the one of DAGSTER_HOME, with
    `settings` or those of the environment."""
    from orchestration.definitions import build_definitions

    job = build_definitions(settings or load_settings()).resolve_job_def("dxkpi_everything")
    if instance is not None:
        return job.execute_in_process(instance=instance, raise_on_error=False)
    with dg.DagsterInstance.get() as local:
        return job.execute_in_process(instance=local, raise_on_error=False)


def failed_blocking_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """`asset:check` of every ERROR check that failed in the run."""
    return [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]


def file_summary() -> str:
    """How many file versions of the landing ledger are in each state."""
    states = Counter(entry.state for entry in _ledger().entries())
    return ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "none"


def _ledger():
    from orchestration.resources import LandingZoneResource

    settings = load_settings()
    return LandingZoneResource(
        path=str(settings.landing_dir), ledger_path=str(settings.ledger_path)
    ).ledger()


def report(result: dg.ExecuteInProcessResult) -> bool:
    """Print the outcome of a run; True when it succeeded and no blocking check failed."""
    failed = failed_blocking_checks(result)
    for check in failed:
        print(f"blocking check failed: {check}")
    print(f"landing files: {file_summary()}")
    return result.success and not failed


def main(argv: list[str] | None = None) -> None:
    """Entry point of `dxkpi-run`."""
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    prepare_dagster_home()
    settings = load_settings()
    print(f"processing {settings.landing_dir}", flush=True)
    succeeded = report(run_everything())
    print(f"\n{summary_for(settings)}")
    if not succeeded:
        sys.exit("the run did not finish cleanly: see above, or the run in the Dagster UI")
    print(where_published(settings))


if __name__ == "__main__":
    main()
