"""DX office registers (DX推進所管部署): projects, BPR measurements, system migration."""

from ingestion.dx_office.contract import BPR_MEASUREMENT, DX_PROJECT, SYSTEM_MIGRATION

CONTRACTS = (DX_PROJECT, BPR_MEASUREMENT, SYSTEM_MIGRATION)
