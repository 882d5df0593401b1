"""Dagster sensors: the landing zone and the open-data catalogue."""
