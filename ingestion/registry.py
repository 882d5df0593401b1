"""Every dataset contract the pipeline loads, by raw table name."""

from ingestion.common.contract import DatasetContract
from ingestion.hr import CONTRACTS as HR_CONTRACTS
from ingestion.proposals import CONTRACTS as PROPOSAL_CONTRACTS
from ingestion.training import CONTRACTS as TRAINING_CONTRACTS

FILE_CONTRACTS: dict[str, DatasetContract] = {
    contract.table: contract
    for contract in (*HR_CONTRACTS, *TRAINING_CONTRACTS, *PROPOSAL_CONTRACTS)
}
