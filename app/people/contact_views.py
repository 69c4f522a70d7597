"""Correcting her phone or address from the ledger: a plain form, posted and redirected."""

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.contract import SETTLED, Outcome, commit
from app.db import get_session
from app.i18n import translated_errors
from app.people import bp
from app.people.common import person_or_404, record_view
from app.people.contact import correct_contact
from app.policy import Action, require

STATUS = {Outcome.invalid: 422, Outcome.refused: 403}


def _page(person, values: dict, errors: dict | None = None, status: int = 200):
    errors = translated_errors(errors)
    return render_template(
        "people/contact.html", person=person, values=values, errors=errors
    ), status


@bp.route("/<uuid:person_id>/contact", methods=["GET", "POST"])
@login_required
def contact(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.person_contact, person)
    if request.method == "GET":
        record_view(person, "contact")
        values = {"phone": person.phone or "", "address": person.address or ""}
        return _page(person, {**values, "base_version": person.version, "item_id": uuid.uuid4()})
    values = {name: request.form.get(name, "") for name in ("phone", "address", "item_id")}
    values["base_version"] = request.form.get("base_version", type=int) or 0
    result = correct_contact(
        session=get_session(),
        user=current_user,
        person_id=person.id,
        base_version=values["base_version"],
        data={"phone": values["phone"], "address": values["address"]},
        item_id=uuid.UUID(values["item_id"]) if _is_uuid(values["item_id"]) else uuid.uuid4(),
    )
    if result.outcome in SETTLED:
        commit(get_session())
    if result.outcome == Outcome.conflict:
        flash(_("Her record changed meanwhile: choose what to keep."), "error")
        return redirect(url_for("sync.conflict", conflict_id=result.conflict.id))
    if result.saved:
        flash(_("Contact details saved."), "success")
        return redirect(url_for("people.ledger", person_id=person.id))
    return _page(person, values, result.errors, STATUS.get(result.outcome, 422))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
