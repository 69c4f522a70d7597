"""Registering and editing a person, assigning her, changing her status."""

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from app.contract import StaleEdit, commit
from app.crypto import get_cipher
from app.db import get_session
from app.forms import choices
from app.i18n import STATUS_LABELS
from app.models import Person, Role, Unit, User
from app.people import bp
from app.people.assignment import assign, assignable_users, change_status
from app.people.common import (
    base_version,
    form_data,
    parse_uuid,
    person_or_404,
    record_view,
    show_errors,
    today,
    zone,
)
from app.people.forms import AssignForm, PersonForm, StatusForm
from app.people.service import DuplicatePerson, register_person, update_person
from app.people.validation import Invalid
from app.policy import Action, can, require


def _unit_choices(form: PersonForm) -> None:
    """An administrator has no unit of her own: she names the unit to register into."""
    if current_user.unit_id is None:
        units = get_session().exec(select(Unit).order_by(Unit.name)).all()
        form.unit_id.choices = choices((str(u.id), u.name) for u in units)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def register():
    require(current_user, Action.person_create)
    db, form, duplicate = get_session(), PersonForm(), None
    _unit_choices(form)
    if request.method == "GET":
        form.person_id.data = str(uuid.uuid4())
    elif form.validate_on_submit():
        try:
            person = register_person(
                session=db,
                user=current_user,
                data=form_data(),
                cipher=get_cipher(),
                today=today(),
                zone=zone(),
                person_id=parse_uuid(form.person_id.data),
                unit_id=parse_uuid(form.unit_id.data),
            )
        except Invalid as invalid:
            show_errors(form, invalid.errors)
        except DuplicatePerson as found:
            duplicate = found.person
        else:
            commit(db)
            flash(_("%(name)s is registered.", name=person.name), "success")
            return redirect(url_for("people.ledger", person_id=person.id))
    return render_template("people/form.html", form=form, person=None, duplicate=duplicate)


def _fill(form: PersonForm, person: Person) -> None:
    for name in ("name", "phone", "address", "facility", "support_path", "risk_level"):
        getattr(form, name).data = getattr(person, name) or ""
    for name in ("date_of_birth", "admission_date", "release_date"):
        value = getattr(person, name)
        getattr(form, name).data = value.isoformat() if value else ""
    contact = person.emergency_contacts[0] if person.emergency_contacts else {}
    form.contact_name.data = contact.get("name", "")
    form.contact_relation.data = contact.get("relation", "")
    form.contact_phone.data = contact.get("phone") or ""
    form.version.data = str(person.version)


@bp.route("/<uuid:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.person_edit, person)
    db, form, duplicate, conflict = get_session(), PersonForm(), None, False
    if request.method == "GET":
        _fill(form, person)
        record_view(person, "edit")
    elif form.validate_on_submit():
        try:
            update_person(
                session=db,
                user=current_user,
                person=person,
                data=form_data(),
                cipher=get_cipher(),
                today=today(),
                zone=zone(),
                base_version=base_version(),
            )
        except Invalid as invalid:
            show_errors(form, invalid.errors)
        except DuplicatePerson as found:
            duplicate = found.person
        except StaleEdit:
            # her input stays in the form; the saved version is shown beside it
            conflict, form.version.data = True, str(person.version)
        else:
            commit(db)
            flash(_("Changes saved."), "success")
            return redirect(url_for("people.ledger", person_id=person.id))
    page = render_template(
        "people/form.html", form=form, person=person, duplicate=duplicate, conflict=conflict
    )
    return page, 409 if conflict else 200


def _people_choices(form: AssignForm, person: Person) -> None:
    db = get_session()
    for field, role in ((form.officer, Role.officer), (form.peer_helper, Role.peer_helper)):
        users = assignable_users(db, person, role)
        field.choices = choices(
            [("", _("Not assigned"))] + [(str(u.id), u.display_name) for u in users]
        )


@bp.route("/<uuid:person_id>/assign", methods=["GET", "POST"])
@login_required
def assign_person(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.person_assign, person)
    db, form, stale = get_session(), AssignForm(), False
    _people_choices(form, person)
    if request.method == "GET":
        form.officer.data = str(person.assigned_officer_id or "")
        form.peer_helper.data = str(person.peer_helper_id or "")
    elif form.validate_on_submit():
        try:
            assign(
                session=db,
                user=current_user,
                person=person,
                officer_id=parse_uuid(form.officer.data),
                peer_helper_id=parse_uuid(form.peer_helper.data),
                reason=form.reason.data,
                base_version=base_version(),
            )
        except Invalid as invalid:
            show_errors(form, invalid.errors)
        except StaleEdit:
            stale = True
        else:
            commit(db)
            flash(_("Assignment saved."), "success")
            return redirect(url_for("people.ledger", person_id=person.id))
    form.version.data = str(person.version)
    now = [_("Officer now: %(officer)s. Peer helper now: %(helper)s.", **_assigned(person))]
    page = render_template(
        "people/assign.html", form=form, person=person, stale=stale, stale_now=now
    )
    return page, 409 if stale else 200


def _assigned(person: Person) -> dict:
    db = get_session()
    names = {}
    for key, user_id in (
        ("officer", person.assigned_officer_id),
        ("helper", person.peer_helper_id),
    ):
        user = db.get(User, user_id) if user_id else None
        names[key] = user.display_name if user else _("Not assigned")
    return names


@bp.route("/<uuid:person_id>/status", methods=["GET", "POST"])
@login_required
def status(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.person_status, person)
    db, form, stale = get_session(), StatusForm(), False
    form.offer(may_close=can(current_user, Action.person_close, person))
    if request.method == "GET":
        form.effective_on.data = today().isoformat()
    elif form.validate_on_submit():
        try:
            change_status(
                session=db,
                user=current_user,
                person=person,
                data=form_data(),
                today=today(),
                zone=zone(),
                base_version=base_version(),
            )
        except Invalid as invalid:
            show_errors(form, invalid.errors)
        except StaleEdit:
            stale = True
        else:
            commit(db)
            flash(_("Status changed."), "success")
            return redirect(url_for("people.ledger", person_id=person.id))
    form.version.data = str(person.version)
    now = [_("Status now: %(status)s.", status=STATUS_LABELS[person.status])]
    page = render_template(
        "people/status.html", form=form, person=person, stale=stale, stale_now=now
    )
    return page, 409 if stale else 200
