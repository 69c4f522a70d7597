"""Sessions, the signed-in user, and the headers every response carries."""

import uuid

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.db import get_session
from app.extensions import login_manager
from app.models import User
from app.sessions import Check, Limits, check_session
from app.types import utcnow

# everything the page runs is a file under static/: no inline script, no eval, no CDN
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# the same for everyone, no personal data: cacheable, and not counted as use of a session
PUBLIC_ENDPOINTS = {"static", "offline.service_worker"}


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie goes out only with an answer that changed it, never with a public one.

    A page's background requests (the worker script, static files) run beside its own: were
    they to send back the cookie they came with, a slower one would put back an older session
    over the one a sign-in or a form had just set.
    """

    def should_set_cookie(self, app: Flask, session) -> bool:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return False
        return super().should_set_cookie(app, session)


def session_limits() -> Limits:
    config = current_app.config
    return Limits(
        lifetime=config["CLOVER_SESSION_LIFETIME"],
        idle_desk=config["CLOVER_IDLE_DESK"],
        idle_field=config["CLOVER_IDLE_FIELD"],
    )


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session whose row is still good: not signed out, ended or expired.

    A replayed cookie from before sign-out names an ended row and signs nobody in. A static
    file or the worker script is the same for everyone: nobody is read for it.
    """
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    try:
        key = uuid.UUID(user_id)
    except ValueError:
        return None
    db = get_session()
    user = db.get(User, key)
    if user is None:
        return None
    check, row = check_session(db, session.get("sid"), user, limits=session_limits(), now=utcnow())
    if row is None:
        g.session_expired = check == Check.expired
        db.commit()
        return None
    g.user_session = row
    return user


def _api_needs_session():
    """An API answers 401 JSON to a request without a session, never a sign-in redirect."""
    if request.path.startswith("/api/") and not current_user.is_authenticated:
        abort(401)


def _expire_idle_session():
    """A session that outlived its limits: signed out, told why, sent to sign in."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if not g.pop("session_expired", False):
        return None
    session.clear()
    flash(_l("You were signed out after a period of inactivity."), "info")
    if request.path.startswith("/api/"):
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint not in PUBLIC_ENDPOINTS:
        # pages carry personal data: never in a shared or HTTP cache
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.session_interface = SessionCookies()
    # first of all, before the CSRF check: a phone whose session lapsed is told to sign in
    app.before_request_funcs.setdefault(None, []).insert(0, _api_needs_session)
    app.before_request(_expire_idle_session)
    app.after_request(_secure_headers)
