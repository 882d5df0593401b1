"""HR system (人事情報システム): rosters, skill map, certifications, contracts, exchanges, rules."""

from ingestion.hr.contract import (
    DX_LEADER_CERTIFICATION,
    EXTERNAL_SPECIALIST,
    HR_REGULATION,
    PERSONNEL_EXCHANGE,
    SKILL_ASSESSMENT,
    STAFF,
)

CONTRACTS = (
    STAFF,
    SKILL_ASSESSMENT,
    DX_LEADER_CERTIFICATION,
    EXTERNAL_SPECIALIST,
    PERSONNEL_EXCHANGE,
    HR_REGULATION,
)
