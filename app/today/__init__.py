"""Today: the home page, who is due for the signed-in user.

A supervisor's home is her unit's dashboard; a director's and an administrator's, the
city view: their Today would otherwise list a whole unit, or every unit, person by person.
"""

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import audit
from app.db import get_session
from app.models import Role
from app.policy import Action, can
from app.supervision import dashboard_views
from app.today.board import today_board
from app.types import utcnow

bp = Blueprint("today", __name__)

DUE_REASON_LABELS = {
    "pre_release": _l("Meeting before release"),
    "first_contact": _l("First contact after release"),
    "cadence": _l("Scheduled follow-up"),
    "planned": _l("Planned contact"),
    "risk": _l("Risk follow-up"),
    "asked_to_talk": _l("She asked to talk"),
}


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals["DUE_REASON_LABELS"] = DUE_REASON_LABELS


@bp.get("/")
@login_required
def index():
    if current_user.role == Role.supervisor and can(current_user, Action.unit_overview):
        return dashboard_views.home()
    if can(current_user, Action.city_view):
        return redirect(url_for("dashboard.city"))
    db = get_session()
    board = today_board(db, current_user, now=utcnow())
    shown = [i.person for i in board.items] + [p.person for p in board.preparation]
    audit.record_read(db, user=current_user, page="today", people=shown)
    db.commit()
    return render_template("today/index.html", board=board)
