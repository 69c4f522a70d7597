"""The JSON API the phone talks to, under /api/v1/: the session cookie signs it in."""

from flask import Blueprint, abort, jsonify
from flask_login import current_user

from app import audit
from app.db import get_session
from app.offline.pages import offline_pages
from app.policy import Action, require
from app.sync.api import bp as sync_api
from app.types import utcnow

bp = Blueprint("api", __name__)
bp.register_blueprint(sync_api)


@bp.before_request
def _signed_in():
    # an API answers 401, it does not redirect to a sign-in page
    if not current_user.is_authenticated:
        abort(401)


@bp.get("/offline/pages")
def offline_page_list():
    """The pages of the signed-in user's caseload to keep on this phone."""
    require(current_user, Action.offline_copy)
    db = get_session()
    listing = offline_pages(session=db, user=current_user)
    # every read of a person is attributable: whose pages this phone is told to keep
    people = sorted({page["person_id"] for page in listing["pages"] if "person_id" in page})
    details = {"pages": len(listing["pages"]), "people": people}
    audit.record(db, user=current_user, action="offline_pages", details=details)
    db.commit()
    return jsonify(user_id=str(current_user.id), generated_at=utcnow().isoformat(), **listing)
