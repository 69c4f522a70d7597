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
from flask_login import current_user, login_required, logout_user

from app import audit
from app.accounts import authenticate
from app.auth.forms import LoginForm
from app.auth.signin import begin_sign_in
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


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        user = authenticate(db, form.username.data, form.password.data)
        if user is not None:
            return begin_sign_in(user, safe_next(request.args.get("next")))
        audit.record(
            db,
            user=None,
            action="login_failed",
            details={"username": form.username.data.strip().lower()[:64]},
        )
        db.commit()
        form.password.errors.append(_("Wrong username or password."))
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
