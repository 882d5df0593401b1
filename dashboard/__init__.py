"""The static dashboard of a publication: HTML pages that open offline, charts by Plotly."""

from dashboard.render import render_dashboard

__all__ = ["render_dashboard"]
