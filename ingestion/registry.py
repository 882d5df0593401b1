"""Every dataset contract the pipeline loads, by raw table name."""

from ingestion.common.contract import DatasetContract
from ingestion.dx_office import CONTRACTS as DX_OFFICE_CONTRACTS
from ingestion.hr import CONTRACTS as HR_CONTRACTS
from ingestion.proposals import CONTRACTS as PROPOSAL_CONTRACTS
from ingestion.surveys import CONTRACTS as SURVEY_CONTRACTS
from ingestion.training import CONTRACTS as TRAINING_CONTRACTS

FILE_CONTRACTS: dict[str, DatasetContract] = {
    contract.table: contract
    for contract in (
        *HR_CONTRACTS,
        *TRAINING_CONTRACTS,
        *PROPOSAL_CONTRACTS,
        *DX_OFFICE_CONTRACTS,
        *SURVEY_CONTRACTS,
    )
}

# The datasets each source system's landing folder holds, e.g. {"hr": {"staff"}}.
DATASETS_BY_SYSTEM: dict[str, frozenset[str]] = {
    system: frozenset(c.dataset for c in FILE_CONTRACTS.values() if c.system == system)
    for system in sorted({c.system for c in FILE_CONTRACTS.values()})
}
