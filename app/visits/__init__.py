"""Visits: the form that records one from a ledger or Today, corrections, their history."""

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from app import audit
from app.contract import Outcome, WriteResult, commit
from app.db import get_session
from app.i18n import translated_errors
from app.models import Person, Unit, User, Visit
from app.policy import Action, may_edit_visit, require, sees_record, visit_kinds_for
from app.schedule import DueState
from app.sync.receipts import conflicts_of_record
from app.types import utcnow
from app.visits.fields import DEFAULT_LOCATION, KINDS_BY_FIELD
from app.visits.forms import new_values, submitted_values, visit_values
from app.visits.labels import LABELS
from app.visits.service import edit_visit, record_visit, visit_history

bp = Blueprint("visits", __name__)
STATUS = {Outcome.invalid: 422, Outcome.conflict: 409, Outcome.refused: 403}


def visit_editable(visit: Visit, person: Person) -> bool:
    """For templates: may the signed-in user correct this visit now?"""
    unit = get_session().get(Unit, person.unit_id)
    return may_edit_visit(current_user._get_current_object(), visit, person, unit, now=utcnow())


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals.update(
        LABELS,
        KINDS_BY_FIELD=KINDS_BY_FIELD,
        DEFAULT_LOCATION=DEFAULT_LOCATION,
        visit_editable=visit_editable,
    )


def _person(person_id: uuid.UUID, action: Action) -> Person:
    person = get_session().get(Person, person_id)
    if person is None:
        abort(404)
    require(current_user, action, person)
    return person


def _visit(visit_id: uuid.UUID) -> tuple[Visit, Person]:
    visit = get_session().get(Visit, visit_id)
    if visit is None:
        abort(404)
    person = _person(visit.person_id, Action.person_view)
    if not sees_record(current_user, person, visit.author_id):
        abort(404)  # a peer helper reads only what she wrote herself
    return visit, person


def _saved_message(result: WriteResult) -> str:
    """Where it is saved (the server: the phone's outbox answers for itself) and what next."""
    if result.outcome == Outcome.duplicate:
        return _("This visit was already saved.")
    due = result.due
    if result.record.failure_reason is not None:
        if due is not None and due.state == DueState.overdue:
            return _(
                "Failed attempt saved on the server. She is still overdue since %(date)s.",
                date=format_date(due.due_on),
            )
        return _("Failed attempt saved on the server.")
    if due is not None and due.due_on is not None:
        return _(
            "Visit saved on the server. Next contact due %(date)s.", date=format_date(due.due_on)
        )
    return _("Visit saved on the server.")


def _return_to(value: str | None) -> str | None:
    """Where the form goes back to after a save: Today (visit-form.js sets it when she came
    from there), or (None) her ledger."""
    return "today" if value == "today" else None


def _form(
    person: Person,
    values: dict,
    *,
    visit: Visit | None = None,
    result=None,
    return_to: str | None = None,
):
    """The form, fresh or as it was typed, with the errors of a rejected save."""
    errors = translated_errors(result.errors if result else None)
    if result is not None and result.outcome == Outcome.conflict:
        errors["_form"] = [
            _("Someone corrected this visit meanwhile. Check the saved version below.")
            if visit is not None
            else _("A visit with these details was already saved differently. Open it below.")
        ]
    page = render_template(
        "visits/form.html",
        person=person,
        values=values,
        errors=errors,
        visit=visit,
        conflict=result.record if result and result.outcome == Outcome.conflict else None,
        kinds=visit_kinds_for(current_user),
        fresh=result is None,
        return_to=return_to,
        no_answer_id=uuid.uuid4(),
    )
    return page, STATUS.get(result.outcome, 200) if result else 200


def _answer(person: Person, values: dict, result: WriteResult, visit: Visit | None = None):
    """Saved: back where she came from, told so; refused: the form again, with why."""
    return_to = _return_to(request.form.get("return_to"))
    if result.saved:
        commit(get_session())
        flash(_saved_message(result), "success")
        if return_to == "today":
            return redirect(url_for("today.index"))
        return redirect(url_for("people.ledger", person_id=person.id, saved=result.record.id))
    return _form(person, values, visit=visit, result=result, return_to=return_to)


@bp.route("/people/<uuid:person_id>/visits/new", methods=["GET", "POST"])
@login_required
def new(person_id: uuid.UUID):
    person = _person(person_id, Action.visit_create)
    if request.method == "GET":
        kinds = visit_kinds_for(current_user)
        kind = request.args.get("kind")
        kind = kind if kind in kinds else kinds[0]
        return _form(person, new_values(kind=kind, timezone=current_user.timezone, now=utcnow()))
    values = submitted_values(request.form)
    data = {**values, "person_id": person.id}
    result = record_visit(session=get_session(), user=current_user, data=data)
    return _answer(person, values, result)


@bp.route("/visits/<uuid:visit_id>/edit", methods=["GET", "POST"])
@login_required
def edit(visit_id: uuid.UUID):
    visit, person = _visit(visit_id)
    if request.method == "GET" and visit.group_session_id is not None:
        # her attendance of a group session is corrected by correcting the session
        return redirect(url_for("groups.edit", group_id=visit.group_session_id))
    if request.method == "GET":
        if not visit_editable(visit, person):
            abort(403)
        db = get_session()
        audit.record(db, user=current_user, action="visit_view", person=person, target=visit)
        db.commit()
        values = {**visit_values(visit, current_user.timezone), "base_version": visit.version}
        return _form(person, values, visit=visit)
    values = {**submitted_values(request.form), "base_version": request.form.get("base_version")}
    base_version = request.form.get("base_version", type=int) or 0
    result = edit_visit(
        session=get_session(),
        user=current_user,
        visit_id=visit.id,
        base_version=base_version,
        data=values,
    )
    return _answer(person, values, result, visit=visit)


@bp.get("/visits/<uuid:visit_id>/versions")
@login_required
def versions(visit_id: uuid.UUID):
    visit, person = _visit(visit_id)
    db = get_session()
    history = visit_history(db, visit)
    conflicts = conflicts_of_record(db, visit.id)
    ids = {v.author_id for v in history} | {c.user_id for c in conflicts}
    authors = {u.id: u for u in db.exec(select(User).where(User.id.in_(ids)))}
    audit.record(db, user=current_user, action="visit_history_view", person=person, target=visit)
    db.commit()
    return render_template(
        "visits/versions.html",
        person=person,
        visit=visit,
        history=history,
        authors=authors,
        conflicts=conflicts,
    )
