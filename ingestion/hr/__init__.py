"""HR system (人事情報システム): staff roster snapshots."""

from ingestion.hr.contract import STAFF

CONTRACTS = (STAFF,)
