"""The conflict pages: the list of hers, and one conflict side by side, field by field."""

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import select

from app import audit
from app.contract import SETTLED, Outcome, commit
from app.db import get_session
from app.groups import GROUP_FIELD_LABELS
from app.i18n import translated_errors
from app.models import Person, SyncConflict, User
from app.policy import Action, can, people_scope
from app.sync.conflicts import (
    PICKS,
    field_choices,
    is_group,
    is_visit,
    open_conflicts,
    resolve_conflict,
)
from app.visits.labels import FIELD_LABELS

bp = Blueprint("sync", __name__)
STATUS = {Outcome.invalid: 422, Outcome.conflict: 409, Outcome.refused: 403}
CONFLICT_KIND_LABELS = {
    "visit.create": _l("A new visit"),
    "visit.edit": _l("A correction of a visit"),
    "person.contact": _l("Phone or address"),
    "group.create": _l("A new group session"),
    "group.edit": _l("A correction of a group session"),
}
SYNC_FIELD_LABELS = {
    **GROUP_FIELD_LABELS,
    **FIELD_LABELS,
    "phone": _l("Phone"),
    "address": _l("Address"),
}


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals.update(
        CONFLICT_KIND_LABELS=CONFLICT_KIND_LABELS, SYNC_FIELD_LABELS=SYNC_FIELD_LABELS
    )


@bp.get("/conflicts")
@login_required
def conflicts():
    db = get_session()
    waiting = open_conflicts(db, current_user)
    ids = {conflict.person_id for conflict in waiting}
    people = {p.id: p for p in db.exec(select(Person).where(Person.id.in_(ids)))}
    # a name only for someone she may still see
    names = {i: p.name for i, p in people.items() if can(current_user, Action.person_view, p)}
    return render_template("sync/conflicts.html", conflicts=waiting, names=names)


def _conflict(conflict_id: uuid.UUID) -> tuple[SyncConflict, Person]:
    """Hers to resolve, or readable by someone who may see the person; a 404 otherwise."""
    db = get_session()
    conflict = db.get(SyncConflict, conflict_id)
    person = db.get(Person, conflict.person_id) if conflict is not None else None
    mine = conflict is not None and conflict.user_id == current_user.id
    if person is None or not (mine or can(current_user, Action.person_records, person)):
        abort(404)
    return conflict, person


def _resolved_url(conflict: SyncConflict) -> str:
    """Where both originals can be read: the visit's or the session's versions, or her ledger."""
    if is_group(conflict):
        return url_for("groups.versions", group_id=conflict.record_id)
    if is_visit(conflict):
        return url_for("visits.versions", visit_id=conflict.record_id)
    return url_for("people.ledger", person_id=conflict.person_id)


def _prefixed(prefix: str) -> dict[str, str]:
    """The posted fields named `prefix` + a field name, by field name."""
    return {k.removeprefix(prefix): v for k, v in request.form.items() if k.startswith(prefix)}


@bp.route("/conflicts/<uuid:conflict_id>", methods=["GET", "POST"])
@login_required
def conflict(conflict_id: uuid.UUID):
    conflict, person = _conflict(conflict_id)
    db, errors, status = get_session(), {}, 200
    if request.method == "POST":
        result = resolve_conflict(
            session=db,
            user=current_user,
            conflict_id=conflict.id,
            base_version=request.form.get("base_version", type=int) or 0,
            picks=_prefixed("pick_"),
            merged=_prefixed("merged_"),
        )
        if result.outcome in SETTLED:
            commit(db)
        if result.saved:
            flash(_("Resolved. Both versions stay in the history."), "success")
            return redirect(_resolved_url(conflict))
        errors = translated_errors(result.errors)
        if result.outcome == Outcome.conflict:
            errors["_form"] = [_("The record changed again meanwhile. Check the current values.")]
        status = STATUS.get(result.outcome, 422)
    choices, version = field_choices(db, conflict)
    names = _names(conflict) if is_group(conflict) else {}
    audit.record(db, user=current_user, action="sync_conflict_view", person=person, target=conflict)
    db.commit()
    page = render_template(
        "sync/conflict.html",
        conflict=conflict,
        person=person,
        choices=choices,
        version=version,
        errors=errors,
        picks=PICKS,
        is_visit=is_visit(conflict),
        is_group=is_group(conflict),
        value_names=names,
        mine=conflict.user_id == current_user.id,
    )
    return page, status


def _names(conflict: SyncConflict) -> dict[str, str]:
    """Who a group session's two versions name, for those she may see: attendees and leaders."""
    db = get_session()
    values = [conflict.incoming, conflict.server]
    people = {uuid.UUID(i) for v in values for i in v.get("attendees", [])}
    leaders = {uuid.UUID(v["leader_id"]) for v in values if v.get("leader_id")}
    names = {
        str(p.id): p.name
        for p in db.exec(select(Person).where(Person.id.in_(people), people_scope(current_user)))
    }
    users = db.exec(select(User).where(User.id.in_(leaders), User.unit_id == current_user.unit_id))
    return names | {str(u.id): u.display_name for u in users}
