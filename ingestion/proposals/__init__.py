"""Staff proposal system (職員提案制度)."""

from ingestion.proposals.contract import PROPOSAL

CONTRACTS = (PROPOSAL,)
