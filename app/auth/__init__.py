"""Sign in and sign out."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from app import audit
from app.auth import lockout
from app.auth.forms import LoginForm
from app.auth.lockout import Refusal
from app.auth.second_factor import step_for
from app.auth.signin import begin_sign_in
from app.auth.throttle import sign_in_limit, strangers
from app.db import get_session
from app.sessions import end_session
from app.types import utcnow

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """The `next` target if it stays on this site, else Today."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("today.index")


# why a sign-in was refused; none of them tells whether the username exists
REFUSALS = {
    Refusal.wrong: _l("Wrong username or password."),
    Refusal.wait: _l(
        "Too many failed sign-ins for this username. Wait a few seconds and try again."
    ),
    Refusal.locked: _l(
        "Too many failed sign-ins: this username is locked for 15 minutes. Try again later,"
        " or ask an administrator to unlock it."
    ),
}


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limit
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        result = lockout.attempt(
            db, form.username.data, form.password.data, now=utcnow(), strangers=strangers()
        )
        if result.user is not None:
            if step_for(result.user) is None:
                lockout.clear(db, result.user)  # in on her password alone: committed with it
            return begin_sign_in(result.user, safe_next(request.args.get("next")))
        db.commit()
        form.password.errors.append(str(REFUSALS[result.refusal]))
    return render_template(
        "auth/login.html", form=form, locales=current_app.config["CLOVER_LOCALES"]
    )


@bp.post("/language")
def language():
    """Choose the language before signing in (kept in the session)."""
    chosen = request.form.get("locale")
    if chosen in current_app.config["CLOVER_LOCALES"]:
        session["locale"] = chosen
    return redirect(url_for("auth.login", next=request.form.get("next") or None))


@bp.post("/logout")
@login_required
def logout():
    db = get_session()
    # this device's session row ends: its cookie, even replayed or re-set by a request
    # still in flight, signs nobody in again
    row = g.get("user_session")
    if row is not None:
        end_session(db, row, reason="sign_out", now=utcnow())
    audit.record(db, user=current_user, action="logout")
    db.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


from app.auth import factor_views  # noqa: E402, F401 - the second-factor routes
