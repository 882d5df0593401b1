"""Training system (研修管理システム): courses, sessions, enrolments."""

from ingestion.training.contract import COURSE, ENROLLMENT, SESSION

CONTRACTS = (COURSE, SESSION, ENROLLMENT)
