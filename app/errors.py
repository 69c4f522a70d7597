"""Translated error pages for 400, 401, 403, 404 and 500 (JSON under the API)."""

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

# what a phone's code branches on, under /api/
API_ERRORS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    413: "too_large",
    500: "server_error",
}
MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    401: (_l("Please sign in"), _l("Please sign in to continue.")),
    403: (_l("Not allowed"), _l("Your account may not do this.")),
    404: (_l("Not found"), _l("This page does not exist, or you may not see it.")),
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
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app: Flask) -> None:
    for code in (400, 401, 403, 404):
        app.register_error_handler(code, render_error)
    app.register_error_handler(CSRFError, render_error)
    app.register_error_handler(500, lambda error: render_error(InternalServerError()))
