"""My sessions: the devices she is signed in on, and ending any but this one."""

import uuid

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.admin.users import end_user_session
from app.contract import commit
from app.db import get_session
from app.security import session_limits
from app.sessions import active_sessions
from app.settings import bp
from app.types import utcnow


@bp.app_template_global()
def my_sessions() -> list:
    """Her active sessions for the Settings partial, most recently used first."""
    return active_sessions(get_session(), current_user, limits=session_limits(), now=utcnow())


@bp.post("/sessions/<uuid:session_id>/end")
@login_required
def end_session(session_id: uuid.UUID):
    """End one of her other devices' sessions; this one ends by signing out."""
    here = g.get("user_session")
    if here is not None and here.id == session_id:
        abort(400)
    db = get_session()
    row = end_user_session(
        db, actor=current_user, user=current_user, session_id=session_id, now=utcnow()
    )
    if row is None:
        abort(404)
    commit(db)
    flash(_("Signed out: %(device)s.", device=row.label), "success")
    return redirect(url_for("settings.index", _anchor="my-sessions"))
