"""The asset graph: raw loads, dbt models, publication."""
