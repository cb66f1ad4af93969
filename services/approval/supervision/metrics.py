"""Approval's own Prometheus series: supervision cards by colour and department.

Rating counts the `approval.card.raised` events it receives, yellow and red together; operations
also need red cards alone and per department, which only the service that raises them can say.
"""

from __future__ import annotations

from prometheus_client import Counter

CARDS_RAISED = Counter(
    "onewindow_cards_raised_total", "Supervision cards raised by the card scan", ["color", "department"]
)
