"""Today: the home page, who is due for the signed-in user."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.db import get_session
from app.today.board import today_board
from app.types import utcnow

bp = Blueprint("today", __name__)

DUE_REASON_LABELS = {
    "pre_release": _l("Meeting before release"),
    "first_contact": _l("First contact after release"),
    "cadence": _l("Scheduled follow-up"),
    "planned": _l("Planned contact"),
}


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals["DUE_REASON_LABELS"] = DUE_REASON_LABELS


@bp.get("/")
@login_required
def index():
    board = today_board(get_session(), current_user, now=utcnow())
    return render_template("today/index.html", board=board)
