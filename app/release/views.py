"""Ticking an item of her release preparation on her ledger (POST, then back to it)."""

import uuid

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.contract import Outcome, commit, rollback
from app.crypto import get_cipher
from app.db import get_session
from app.people.common import person_or_404, record_view, today
from app.people.ledger import load_ledger
from app.policy import Action, require
from app.release import ITEM_LABELS, bp
from app.release.checklist import mark_item

STATUS = {Outcome.invalid: 422, Outcome.conflict: 409, Outcome.refused: 403}


@bp.post("/people/<uuid:person_id>/release-preparation")
@login_required
def mark(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.release_prepare, person)
    db = get_session()
    data = {name: request.form.get(name, "") for name in ("id", "item", "state", "note")}
    data["version"] = request.form.get("version", "")
    result = mark_item(session=db, user=current_user, person=person, data=data, today=today())
    if result.saved:
        commit(db)
        label = ITEM_LABELS[result.record.item]
        if result.record.done:
            flash(_("Marked done: %(item)s.", item=label), "success")
        else:
            flash(_("Marked not done: %(item)s.", item=label), "success")
        return redirect(url_for("people.ledger", person_id=person.id, _anchor="release"))
    rollback(db)
    # her ledger again, with why nothing was saved beside the item
    errors = [_(message) for messages in result.errors.values() for message in messages]
    record_view(person, "release_preparation")
    from app.people.views import ledger_page  # the ledger shows this package's panel

    page = load_ledger(session=db, person=person, cipher=get_cipher())
    failed = {"item": data["item"], "errors": errors}
    return ledger_page(page, release_failed=failed), STATUS.get(result.outcome, 422)
