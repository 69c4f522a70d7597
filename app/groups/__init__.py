"""Group sessions: her list, the form that records one for several people, corrections,
the session's page and its history."""

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, or_
from sqlmodel import select

from app import audit
from app.caseload import caseload
from app.contract import Outcome, WriteResult, commit
from app.db import get_session
from app.groups.attendance import attendees_of
from app.groups.fields import CONTENT_FIELDS, LIST_FIELDS
from app.groups.history import group_history
from app.groups.ledger import attendee_names
from app.groups.service import LEADER_ROLES, edit_group_session, record_group_session
from app.i18n import translated_errors
from app.models import GroupSession, Person, Role, Unit, User, Visit
from app.policy import (
    Action,
    can,
    colleagues_scope,
    group_kinds_for,
    may_edit_group,
    open_for_contact,
    people_scope,
    require,
    sees_group,
)
from app.types import utcnow
from app.visits.forms import local_minute

bp = Blueprint("groups", __name__, url_prefix="/groups")
STATUS = {Outcome.invalid: 422, Outcome.conflict: 409, Outcome.refused: 403}
PAGE = 50  # sessions on her list
GROUP_FIELD_LABELS = {
    "_form": _l("Group session"),
    "id": _l("Group session"),
    "kind": _l("Kind of session"),
    "occurred_at": _l("When"),
    "duration_minutes": _l("Duration (minutes)"),
    "online": _l("Online"),
    "place": _l("Place"),
    "topic": _l("Topic"),
    "notes": _l("Notes"),
    "leader_id": _l("Led by"),
    "attendees": _l("Who attended"),
}


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals.update(
        GROUP_FIELD_LABELS=GROUP_FIELD_LABELS,
        may_open_group=lambda entry: (
            current_user.is_authenticated and sees_group(current_user, entry)
        ),
    )


def _group(group_id: uuid.UUID, action: Action = Action.group_view) -> GroupSession:
    """The session, for one who may see it: a 403 for a role without group sessions, a 404
    for a session she may not see."""
    require(current_user, action)
    group = get_session().get(GroupSession, group_id)
    if group is None or not can(current_user, Action.group_view, group):
        abort(404)
    require(current_user, action, group)
    return group


def _values(form) -> dict:
    """What was typed: text as text, the attendees as a list."""
    return {
        name: form.getlist(name) if name in LIST_FIELDS else form.get(name, "")
        for name in ("id", *CONTENT_FIELDS)
    }


def _stored_values(group: GroupSession) -> dict:
    db = get_session()
    return {
        "id": str(group.id),
        "kind": group.kind,
        "occurred_at": local_minute(group.occurred_at, current_user.timezone),
        "duration_minutes": "" if group.duration_minutes is None else str(group.duration_minutes),
        "online": "1" if group.online else "",
        "place": group.place,
        "topic": group.topic,
        "notes": group.notes,
        "leader_id": str(group.leader_id),
        "attendees": [str(i) for i in attendees_of(db, group)],
        "base_version": group.version,
    }


def _leaders() -> list[User]:
    """Who may be named as its leader: the officers, peer helpers and supervisors of her unit."""
    query = select(User).where(
        colleagues_scope(current_user),
        User.unit_id == current_user.unit_id,
        User.active,
        User.role.in_([r.value for r in LEADER_ROLES]),
    )
    return list(get_session().exec(query.order_by(User.display_name)))


def _form(values: dict, *, group: GroupSession | None = None, result: WriteResult | None = None):
    """The form, fresh or as it was typed, with the errors of a refused save."""
    db = get_session()
    people = [p for p, _last in caseload(db, current_user) if open_for_contact(p)]
    people.sort(key=lambda p: p.name)
    shown = {str(p.id) for p in people}
    # attendees no longer in her caseload stay ticked, unnamed, so a correction keeps them
    others = [i for i in values.get("attendees", []) if i not in shown]
    errors = translated_errors(result.errors if result else None)
    conflict = result.record if result and result.outcome == Outcome.conflict else None
    if conflict is not None:
        errors["_form"] = [
            _("Someone corrected this group session meanwhile. Check the saved version below.")
            if group is not None
            else _("A group session with these details was already saved differently.")
        ]
    page = render_template(
        "groups/form.html",
        values=values,
        errors=errors,
        group=group,
        conflict=conflict,
        kinds=group_kinds_for(current_user),
        people=people,
        others=others,
        leaders=_leaders(),
    )
    return page, STATUS.get(result.outcome, 200) if result else 200


def _answer(values: dict, result: WriteResult, group: GroupSession | None = None):
    if result.saved:
        commit(get_session())
        if result.outcome == Outcome.duplicate:
            flash(_("This group session was already saved."), "success")
        else:
            flash(_("Group session saved on the server."), "success")
        return redirect(url_for("groups.view", group_id=result.record.id))
    return _form(values, group=group, result=result)


@bp.get("")
@login_required
def index():
    require(current_user, Action.group_record)
    db = get_session()
    mine = or_(GroupSession.author_id == current_user.id, GroupSession.leader_id == current_user.id)
    if current_user.role == Role.supervisor:
        mine = or_(mine, GroupSession.unit_id == current_user.unit_id)
    attendees = (
        select(func.count())
        .where(Visit.group_session_id == GroupSession.id)
        .correlate(GroupSession)
        .scalar_subquery()
    )
    rows = db.exec(
        select(GroupSession, attendees)
        .where(mine)
        .order_by(GroupSession.occurred_at.desc())
        .limit(PAGE)
    ).all()
    return render_template("groups/index.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    require(current_user, Action.group_record)
    if request.method == "GET":
        values = {
            "id": str(uuid.uuid4()),
            "kind": group_kinds_for(current_user)[0],
            "occurred_at": local_minute(utcnow(), current_user.timezone),
            "leader_id": str(current_user.id),
            "attendees": [],
        }
        return _form(values)
    values = _values(request.form)
    result = record_group_session(session=get_session(), user=current_user, data=values)
    return _answer(values, result)


@bp.get("/<uuid:group_id>")
@login_required
def view(group_id: uuid.UUID):
    group = _group(group_id)
    db = get_session()
    seen, others = attendee_names(db, current_user, group)
    leader = db.get(User, group.leader_id)
    # the names it shows, as a page of people does
    details = {"people": [str(p.id) for p in seen]}
    audit.record(db, user=current_user, action="group_view", target=group, details=details)
    db.commit()
    unit = db.get(Unit, group.unit_id)
    return render_template(
        "groups/view.html",
        group=group,
        seen=seen,
        others=others,
        leader=leader,
        editable=may_edit_group(current_user, group, unit, now=utcnow()),
    )


@bp.route("/<uuid:group_id>/edit", methods=["GET", "POST"])
@login_required
def edit(group_id: uuid.UUID):
    group = _group(group_id, Action.group_edit)
    db = get_session()
    if request.method == "GET":
        if not may_edit_group(current_user, group, db.get(Unit, group.unit_id), now=utcnow()):
            abort(403)
        return _form(_stored_values(group), group=group)
    values = {**_values(request.form), "base_version": request.form.get("base_version")}
    result = edit_group_session(
        session=db,
        user=current_user,
        group_id=group.id,
        base_version=request.form.get("base_version", type=int) or 0,
        data=values,
    )
    return _answer(values, result, group=group)


@bp.get("/<uuid:group_id>/versions")
@login_required
def versions(group_id: uuid.UUID):
    group = _group(group_id)
    db = get_session()
    history = group_history(db, group)
    ids = {v.author_id for v in history} | {
        uuid.UUID(v.content["leader_id"]) for v in history if v.content.get("leader_id")
    }
    authors = {str(u.id): u for u in db.exec(select(User).where(User.id.in_(ids)))}
    ids = {uuid.UUID(i) for v in history for i in v.content.get("attendees", [])}
    seen = db.exec(select(Person).where(Person.id.in_(ids), people_scope(current_user)))
    names = {str(p.id): p.name for p in seen}
    details = {"people": sorted(names)}
    audit.record(db, user=current_user, action="group_history_view", target=group, details=details)
    db.commit()
    return render_template(
        "groups/versions.html", group=group, history=history, authors=authors, names=names
    )
