"""Supervision: where a unit stands (the dashboard), what it reports (periodic reports),
every unit side by side for the bureau, and personal-data exports with a stated reason.

Figures are SQL aggregates over indexed columns; the policy's `units_scope` says whose.
"""

from app.supervision import tally_upkeep  # noqa: F401 - every flush keeps the contact tallies
