"""Translated error pages for 400, 401, 403, 404, 409, 429 and 500 (JSON under the API)."""

import time

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Conflict, HTTPException, InternalServerError

from app.contract import LostRace, StaleEdit, rollback
from app.db import get_session
from app.extensions import limiter

# what a phone's code branches on, under /api/
API_ERRORS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
}
MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    401: (_l("Please sign in"), _l("Please sign in to continue.")),
    403: (_l("Not allowed"), _l("Your account may not do this.")),
    404: (_l("Not found"), _l("This page does not exist, or you may not see it.")),
    409: (
        _l("Changed meanwhile"),
        _l(
            "Someone else saved a change to this record at the same moment. Nothing of yours"
            " was saved: go back, check the record and try again."
        ),
    ),
    # said the same whether or not the username exists
    429: (
        _l("Too many attempts"),
        _l(
            "There have been too many failed sign-in attempts from here or for this username."
            " Please wait a while and try again."
        ),
    ),
    500: (
        _l("Something went wrong"),
        _l("An error occurred on the server. Nothing you saved was lost; please try again."),
    ),
}


def render_error(error: HTTPException):
    code = error.code if error.code in MESSAGES else 500
    if isinstance(error, CSRFError):
        message = _l("This form has expired. Please reload the page and try again.")
        title = MESSAGES[400][0]
    else:
        title, message = MESSAGES[code]
    if request.path.startswith("/api/"):
        slug = "csrf" if isinstance(error, CSRFError) else API_ERRORS[code]
        return jsonify(error=slug, title=str(title), message=str(message)), code
    response = make_response(
        render_template("errors/error.html", code=code, title=title, message=message), code
    )
    if code == 429:
        response.headers["Retry-After"] = str(_retry_after())
    return response


def _retry_after() -> int:
    """Seconds until the limit that refused this request lets a try through again."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()))


def _lost_race(_error: Exception):
    # a write that lost to a concurrent one where no form shows the conflict itself
    rollback(get_session())
    return render_error(Conflict())


def init_app(app: Flask) -> None:
    app.register_error_handler(LostRace, _lost_race)
    app.register_error_handler(StaleEdit, _lost_race)
    for code in (400, 401, 403, 404, 409, 429):
        app.register_error_handler(code, render_error)
    app.register_error_handler(CSRFError, render_error)
    app.register_error_handler(500, lambda error: render_error(InternalServerError()))
