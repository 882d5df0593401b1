"""Alerts: incidents opened and resolved from Dagster events and the landing ledger, delivered
once per transition to Teams, Slack and a JSON-lines file through an outbox.

- `incidents`: the incident model and its SQLite store (incidents and the outbox);
- `sources`: Dagster events and ledger outcomes turned into open / resolve transitions;
- `channels`: the Teams, Slack and JSON-lines channels and the outbox delivery.

The sensor on top is `orchestration.sensors.alerts`. Nothing here imports the sensor, so a test
can drive the store and channels without Dagster.
"""
