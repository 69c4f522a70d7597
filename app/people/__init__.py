"""People and their ledgers: the list, the ledger page, registration, consent, plan."""

from flask import Blueprint

from app.models import FIRST_CONTACT_DAYS

bp = Blueprint("people", __name__)
# a global, not a context variable, so macros imported from _records.html see it too
bp.record_once(
    lambda state: state.app.jinja_env.globals.update(FIRST_CONTACT_DAYS=FIRST_CONTACT_DAYS)
)

from app.people import contact_views, manage_views, record_views, views  # noqa: E402, F401 - routes
