"""Disclosure control for published breakdowns of people counts.

Small cells (fewer than :data:`THRESHOLD` people, margins included) are withheld, and enough
other cells with them that no withheld cell can be worked out from the published cells and the
totals, as audited by linear programming.
"""

from disclosure.audit import feasible_ranges
from disclosure.frames import suppress_frame
from disclosure.suppression import suppress
from disclosure.tables import THRESHOLD, SuppressedTable

__all__ = [
    "THRESHOLD",
    "SuppressedTable",
    "feasible_ranges",
    "suppress",
    "suppress_frame",
]
