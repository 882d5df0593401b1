"""Serving: where BI tools read the marts, and how each publication gets there.

- `publish`: `publish_marts`, one release of files swapped in atomically (the entry point).
- `release`: the serving directory's layout, the swap, retention and `release.json`.
- `database`: the release's DuckDB 2.0 file (marts, dq, meta.publication, with comments).
- `copies`: the DuckDB 1.x copy and the Parquet files, documented as well.
- `postgres`: `publish_to_postgres`, the same build in PostgreSQL for BI tools' native drivers.
- `catalog`: the published tables with their types and comments, read from DuckDB.
"""

from orchestration.serving.postgres import PostgresPublication, publish_to_postgres
from orchestration.serving.publish import BeforeSwap, Publication, publish_marts

__all__ = [
    "BeforeSwap",
    "PostgresPublication",
    "Publication",
    "publish_marts",
    "publish_to_postgres",
]
