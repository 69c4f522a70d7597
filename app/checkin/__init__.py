"""Self check-in (线上打卡): her personal link, the one-page form behind it, and the
section of her ledger where her officer gives, texts or revokes it."""

from flask import Blueprint

bp = Blueprint("checkin", __name__)

from app.checkin import views  # noqa: E402, F401 - routes
