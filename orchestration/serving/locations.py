"""Where the current publication can be read: printed by `make demo` and `make run`."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from orchestration.serving.release import (
    DASHBOARD_DIR,
    DUCKDB_V1_FILE,
    PARQUET_DIR,
    current_release,
)
from orchestration.settings import Settings


def without_password(url: str) -> str:
    """The URL with any password replaced by ***, fit for a log or a terminal."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def where_published(settings: Settings) -> str:
    """The targets of the current release, one per line, for a person to open."""
    root = settings.serving_path.parent
    release = current_release(root)
    if release is None:
        return f"nothing published yet under {root}"
    dashboard = (root / DASHBOARD_DIR / "index.html").absolute()
    lines = [
        f"Published for BI (release {release}):",
        f"  DuckDB 2.0   {settings.serving_path}  (read-only)",
        f"  DuckDB 1.x   {root / DUCKDB_V1_FILE}  (BI drivers, the duckdb CLI)",
        f"  Parquet      {root / PARQUET_DIR}/<schema>/<table>.parquet",
        f"  dashboard    {dashboard.as_uri() if dashboard.exists() else 'not written'}",
    ]
    if settings.postgres_url:
        lines.append(
            f"  PostgreSQL   {without_password(settings.postgres_url)}, schemas marts, dq, "
            f"meta, read-only role {settings.postgres_reader}"
        )
    else:
        lines.append("  PostgreSQL   not configured (set DXKPI_POSTGRES_URL to publish there too)")
    return "\n".join(lines)
