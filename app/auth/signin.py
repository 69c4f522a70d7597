"""The end of a sign-in, shared by the password step and the second-factor step.

`begin_sign_in(user, next_url)` follows a right password: it sends her to the second
factor when she has one or must enrol, else signs her in. `complete_sign_in(user,
next_url)` starts her session: a fresh cookie (nothing from before survives: session
fixation), a `UserSession` row it names, the audit, and a must-change password first.
"""

import uuid

from flask import redirect, request, session, url_for
from flask_login import login_user

from app import audit
from app.auth.second_factor import step_for
from app.db import get_session
from app.models import User
from app.sessions import start_session
from app.types import utcnow

# how long a right password waits for its second factor
PENDING_SECONDS = 300


def begin_sign_in(user: User, next_url: str):
    step = step_for(user)
    if step is None:
        return complete_sign_in(user, next_url)
    locale = session.get("locale")
    session.clear()
    session["pending"] = {"user_id": str(user.id), "next": next_url, "at": utcnow().timestamp()}
    if locale:
        session["locale"] = locale
    return redirect(url_for(step))


def pending_user() -> tuple[User | None, str]:
    """The user whose password was right and whose second factor is awaited, and `next`."""
    pending = session.get("pending") or {}
    if utcnow().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop("pending", None)
        return None, ""
    user = get_session().get(User, _uuid(pending.get("user_id")))
    if user is None or not user.active:
        return None, ""
    return user, pending.get("next", "")


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def complete_sign_in(user: User, next_url: str, *, method: str = "password"):
    db = get_session()
    now = utcnow()
    locale = session.get("locale")
    session.clear()
    row = start_session(
        db, user, user_agent=request.user_agent.string, ip=request.remote_addr, now=now
    )
    db.flush()
    login_user(user)
    session["sid"] = str(row.id)
    session.permanent = True
    if locale and not user.locale:
        user.locale = locale
    user.last_login_at = now
    db.add(user)
    audit.record(db, user=user, action="login", details={"method": method})
    db.commit()
    if user.must_change_password:
        return redirect(url_for("settings.password"))
    return redirect(next_url)
