"""Jobs, schedules and the automation sensor."""

from __future__ import annotations

import dagster as dg

from orchestration.settings import load_settings

everything_job = dg.define_asset_job(
    "dxkpi_everything",
    selection=dg.AssetSelection.all(),
    description="Load every new export and a catalogue snapshot, build the marts, publish.",
)


def nightly_schedule() -> dg.ScheduleDefinition:
    """Every night at 02:00 JST; running by default in prod, or locally with DXKPI_SCHEDULES=on."""
    running = load_settings().schedules_running
    return dg.ScheduleDefinition(
        name="dxkpi_nightly",
        job=everything_job,
        cron_schedule="0 2 * * *",
        execution_timezone="Asia/Tokyo",
        default_status=(
            dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
        ),
    )


# dbt models and the publication follow their inputs (see `follows_its_inputs`): this sensor
# evaluates their automation conditions, RUNNING from the start (Dagster's own default one is
# STOPPED), every few seconds so a corrected export reaches the marts quickly.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "dxkpi_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="Builds the dbt models and publishes the marts when their inputs update.",
)
