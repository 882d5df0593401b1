"""Open-data catalogue (CKAN Action API v3): the datasets each ward publishes."""

from ingestion.opendata.ckan import CkanClient, CkanError, packages_to_frame

__all__ = ["CkanClient", "CkanError", "packages_to_frame"]
