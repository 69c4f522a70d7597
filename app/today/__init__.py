"""Today: the home page, who is due for the signed-in user."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import audit
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
    db = get_session()
    board = today_board(db, current_user, now=utcnow())
    shown = [item.person for item in board.items] + [person for _visit, person in board.alerts]
    audit.record_read(
        db, user=current_user, page="today", people=list({p.id: p for p in shown}.values())
    )
    db.commit()
    return render_template("today/index.html", board=board)
