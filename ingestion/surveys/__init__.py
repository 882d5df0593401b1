"""Survey tools: the anonymous staff survey and the online-procedure user survey."""

from ingestion.surveys.contract import PROCEDURE_SURVEY, STAFF_SURVEY

CONTRACTS = (STAFF_SURVEY, PROCEDURE_SURVEY)
