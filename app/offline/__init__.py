"""Offline use: the service worker, the offline page and the pages kept on the phone."""

import json
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.db import get_session
from app.offline.contract import offline_contract
from app.offline.device_keys import device_state
from app.offline.labels import lock_labels, outbox_labels
from app.offline.pages import requested_page_version
from app.offline.shell import SHELL_FILES, WORKER_IMPORTS, shell_version, worker_script
from app.policy import Action, can

bp = Blueprint("offline", __name__)
# the phone saving a page for offline use asks for its version, and is told it
PAGE_FOR_OFFLINE = "X-Clover-Offline"
PAGE_VERSION = "X-Clover-Page-Version"


def kept_for_offline() -> bool:
    """Is this page fetched in the background, to keep on the phone? Then it shows no
    flash message: it would take it from the page she is about to see, and keep it."""
    return bool(request.headers.get(PAGE_FOR_OFFLINE))


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals["outbox_labels"] = outbox_labels
    state.app.jinja_env.globals["kept_for_offline"] = kept_for_offline


@bp.before_app_request
def _version_of_a_page_kept_offline():
    if request.method != "GET" or not request.headers.get(PAGE_FOR_OFFLINE):
        return
    if current_user.is_authenticated and can(current_user, Action.offline_copy):
        g.offline_page_version = requested_page_version(session=get_session(), user=current_user)


@bp.after_app_request
def _tell_the_page_version(response: Response) -> Response:
    version = g.pop("offline_page_version", None)
    if version and response.status_code == 200 and response.mimetype == "text/html":
        response.headers[PAGE_VERSION] = version
    return response


def render_offline_page() -> str:
    """The offline page in every language at once; the same for everyone, no personal data."""
    notices = []
    for locale in current_app.config["CLOVER_LOCALES"]:
        with force_locale(locale):
            notices.append(
                {
                    "lang": locale.replace("_", "-"),
                    "title": _("You are offline"),
                    "message": _(
                        "This page was not saved on this phone. Today, the people list and "
                        "the ledgers of your caseload open without a connection."
                    ),
                    "home": _("Open Today"),
                    "signed_out": _(
                        "You are signed out on this phone and your caseload is gone from it. "
                        "Your session on the server ends as soon as there is a connection."
                    ),
                }
            )
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return render_template("offline/page.html", notices=notices, app_shell=True)


@bp.get("/offline")
def page():
    return render_offline_page()


def render_outbox_page(locale: str) -> str:
    """The Outbox page: a shell, the same for everyone; the items come from the phone."""
    with force_locale(locale):
        return render_template("outbox/index.html", app_shell=True)


def outbox_shells() -> list[str]:
    """The Outbox shell in each language, as the worker keeps them (`?lang=`)."""
    locales = current_app.config["CLOVER_LOCALES"]
    return [url_for("offline.outbox", lang=locale) for locale in locales]


@bp.get("/outbox")
def outbox():
    """In the language asked for (the worker keeps one per language), else in hers."""
    asked = request.args.get("lang")
    if asked not in current_app.config["CLOVER_LOCALES"]:
        asked = str(get_locale())
    return render_outbox_page(asked)


@bp.get("/offline/contract.json")
def contract_document():
    """What the phone and the server share; the worker keeps it with the shell."""
    return jsonify(offline_contract())


@bp.get("/offline/device-keys/<uuid:device_id>/<uuid:user_id>")
def device_key_state(device_id, user_id):
    """Is her key for this phone still live? Asked without a cookie; names nobody."""
    return jsonify(device_state(device_id, user_id))


@bp.get("/offline/lock")
def lock():
    """The lock screen: a shell page, the same for everyone; the phone fills it in."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return render_template("offline/lock.html", app_shell=True, locks=lock_labels())


@bp.get("/sw.js")
def service_worker():
    """The worker from the site root, so its scope is the whole app."""
    static = Path(current_app.static_folder)
    offline_url, contract_url = url_for("offline.page"), url_for("offline.contract_document")
    # a changed contract is a new shell, as a changed page or file is
    shared = json.dumps(offline_contract(), sort_keys=True)
    version = shell_version(
        static_folder=static,
        offline_page=render_offline_page()
        + "".join(render_outbox_page(locale) for locale in current_app.config["CLOVER_LOCALES"])
        + lock()
        + shared,
        build=current_app.config["CLOVER_BUILD"],
    )
    shell_pages = [offline_url, *outbox_shells(), url_for("offline.lock"), contract_url]
    # the same hashed URLs the pages ask for, so a page served offline finds its scripts
    precache = [url_for("static", filename=name) for name in SHELL_FILES] + shell_pages
    script = worker_script(
        static_folder=static,
        version=version,
        precache=precache,
        imports=[url_for("static", filename=name) for name in WORKER_IMPORTS],
        offline_url=offline_url,
        contract_url=contract_url,
    )
    response = Response(script, mimetype="text/javascript")
    # the browser checks for a new worker on every visit; no personal data in it
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    # the browser asks on every visit: an unchanged worker costs a 304, not the script
    response.add_etag()
    return response.make_conditional(request)
