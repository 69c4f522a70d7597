"""The scale pages: choose a scale for her, answer it on one screen, see it on her ledger."""

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.contract import Outcome, commit
from app.db import get_session
from app.i18n import translated_errors
from app.models import Person
from app.people.common import person_or_404
from app.policy import Action, can, may_record_scale
from app.scales import bp
from app.scales.definitions import SCALES
from app.scales.service import item_key, record_scale
from app.types import utcnow

STATUS = {Outcome.invalid: 422, Outcome.conflict: 409, Outcome.refused: 403}


def may_enter_scale(person: Person) -> bool:
    """For templates: may the signed-in user enter a scale for her now?"""
    return can(current_user, Action.visit_create, person) and may_record_scale(
        get_session(), current_user, person, taken_at=utcnow()
    )


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals.update(may_enter_scale=may_enter_scale)


def _person(person_id: uuid.UUID) -> Person:
    """Her, when the signed-in user may enter a scale for her: 404 out of scope, else 403."""
    person = person_or_404(person_id)
    if not may_enter_scale(person):
        abort(403)
    return person


def _visit_id() -> str:
    """The visit the scale is taken in, carried from the link that opened the page."""
    value = request.values.get("visit_id", "")
    try:
        return str(uuid.UUID(value)) if value else ""
    except ValueError:
        return ""


@bp.get("/people/<uuid:person_id>/scales/new")
@login_required
def choose(person_id: uuid.UUID):
    person = _person(person_id)
    return render_template("scales/choose.html", person=person, visit_id=_visit_id())


@bp.route("/people/<uuid:person_id>/scales/<code>/new", methods=["GET", "POST"])
@login_required
def new(person_id: uuid.UUID, code: str):
    scale = SCALES.get(code)
    if scale is None:
        abort(404)
    person = _person(person_id)
    keys = [item_key(i) for i in range(len(scale.items))]
    if request.method == "GET":
        values = {"id": str(uuid.uuid4()), "visit_id": _visit_id()}
        return _form(person, scale, values)
    values = {name: request.form.get(name, "") for name in ("id", "visit_id", *keys)}
    data = {**values, "person_id": person.id, "scale": scale.code}
    db = get_session()
    result = record_scale(session=db, user=current_user, data=data)
    if not result.saved:
        return _form(person, scale, values, result=result)
    commit(db)
    saved = result.record
    band = scale.band(saved.band)
    if result.outcome == Outcome.duplicate:
        flash(_("This scale was already saved."), "success")
    else:
        flash(
            _(
                "%(scale)s saved: total %(total)d, %(band)s.",
                scale=scale.name,
                total=saved.total,
                band=band.label,
            ),
            "success",
        )
    return redirect(url_for("people.ledger", person_id=person.id, _anchor="scales"))


def _form(person: Person, scale, values: dict, *, result=None):
    """The scale's one screen, fresh or as it was answered, with the errors of a refusal."""
    errors = translated_errors(result.errors if result else None)
    if result is not None and result.outcome == Outcome.conflict:
        errors["_form"] = [_("A scale with this id was already saved with other answers.")]
    page = render_template(
        "scales/form.html", person=person, scale=scale, values=values, errors=errors
    )
    return page, STATUS.get(result.outcome, 200) if result else 200
