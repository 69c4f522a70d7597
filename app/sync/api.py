"""The sync API under /api/v1/: push outbox items, pull what changed, the OpenAPI document.

Mounted inside the `api` blueprint, so a lapsed session answers 401 JSON, never a
redirect. The CSRF token is checked here, after sign-in, so a phone whose session
expired while offline is told to sign in rather than that its token is stale.
"""

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app import audit
from app.db import get_session
from app.extensions import csrf
from app.policy import Action, require
from app.sync.openapi import openapi_document
from app.sync.pull import BadCursor, changes_since
from app.sync.push import MAX_ITEMS, ItemResult, push_items
from app.types import utcnow
from app.web import json_body

bp = Blueprint("sync_api", __name__)


def _as_json(result: ItemResult) -> dict:
    return {
        "id": result.id,
        "status": result.status.value,
        "record_id": str(result.record_id) if result.record_id else None,
        "version": result.version,
        "errors": {
            name: [_(m, reference=result.reference) if result.reference else _(m) for m in messages]
            for name, messages in result.errors.items()
        },
        "server": result.server,
        "conflict_id": str(result.conflict_id) if result.conflict_id else None,
        "reference": result.reference,
    }


@bp.post("/sync/push")
@csrf.exempt
def push():
    """Apply a batch of outbox items; one answer per item, in order."""
    csrf.protect()
    body = json_body()
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        message = _("The request could not be understood. Please try again.")
        return jsonify(error="bad_request", message=message), 400
    if len(items) > MAX_ITEMS:
        message = _("Send at most %(count)d changes at a time.", count=MAX_ITEMS)
        return jsonify(error="too_large", max_items=MAX_ITEMS, message=message), 413
    results = push_items(session=get_session(), user=current_user, items=items)
    return jsonify(results=[_as_json(r) for r in results], server_time=utcnow().isoformat())


@bp.get("/sync/pull")
def pull():
    """The people of her caseload whose pages changed since the cursor, and those to forget."""
    require(current_user, Action.offline_copy)
    db = get_session()
    try:
        changes = changes_since(session=db, user=current_user, cursor=request.args.get("cursor"))
    except BadCursor:
        message = _("This sync cursor is not valid. Pull again without one.")
        return jsonify(error="bad_request", message=message), 400
    # every read of a person is attributable: which people's pages this pull named
    details = {"people": changes["people"], "removed": changes["removed"], "full": changes["full"]}
    audit.record(db, user=current_user, action="sync_pull", details=details)
    db.commit()
    return jsonify(changes)


@bp.get("/openapi.json")
def openapi():
    """This API described as OpenAPI 3.1."""
    return jsonify(openapi_document())
