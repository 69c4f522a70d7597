"""The one write path for group sessions: the form, and the offline sync after it.

`record_group_session(*, session, user, data)` and `edit_group_session(*, session, user,
group_id, base_version, data)` validate (`app.groups.fields.clean_group`), check the policy
and write the session, its history and the audit rows. Each attendee's attendance is a
visit of hers, id uuid5(session id, her id), written through `app.visits.service`
(`record_visit`, `edit_visit`), so who may record for whom, her consent, a closed ledger,
her due standing, lost contact, the audit and the signals stay in one place; her visit
holds the session's kind, time, length and place, never its notes or other names. A
person taken off the list loses her visit (audited; the session's versions keep the list).

They follow the write contract (`app.contract`): they flush and never commit, and answer
with a `WriteResult` whose `record` is the session and whose `outcome` is one of
created, edited, duplicate, conflict, invalid or refused, as for a visit. An attendee she
may not record for refuses the whole save: nothing of it stays. Messages are English
source strings marked with `N_`.
"""

import uuid
from datetime import datetime

from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import LostRace, Outcome, WriteResult, refused, savepoint
from app.groups.attendance import (
    Undo,
    attend,
    attendee_visit_id,
    attendee_visits,
    attendees_of,
    follow,
    remove,
)
from app.groups.fields import (
    CONTENT_FIELDS,
    VISIT_FIELDS,
    changed_fields,
    clean_group,
    group_snapshot,
)
from app.models import GroupSession, GroupSessionVersion, Person, Role, Unit, User
from app.policy import (
    Action,
    can,
    group_kinds_for,
    may_edit_group,
    may_record_visit,
    sees_group,
)
from app.types import utcnow
from app.visits.service import visit_batch

NOT_YOURS = N_("You may not record this group session.")
NOT_ALL_YOURS = N_(
    "You may not record a group session for one of the people ticked. Untick her and save again."
)
NO_LEADER = N_("Choose who led it from the list.")
LEADER_ROLES = (Role.officer, Role.peer_helper, Role.supervisor)
# the session's own columns (the attendees are its visits)
SESSION_FIELDS = tuple(name for name in CONTENT_FIELDS if name != "attendees")


def _leader_refused(session: Session, user: User, leader_id: uuid.UUID) -> WriteResult | None:
    """An officer, peer helper or supervisor of her unit may lead it; else the field's error."""
    if leader_id == user.id:
        return None
    leader = session.get(User, leader_id)
    if (
        leader is None
        or not leader.active
        or leader.unit_id != user.unit_id
        or leader.role not in LEADER_ROLES
    ):
        return WriteResult(Outcome.invalid, errors={"leader_id": [NO_LEADER]})
    return None


def _check(session: Session, user: User, clean: dict) -> tuple[dict, WriteResult | None]:
    """Her attendees by id, or why the save is refused: the kind, the leader, a person."""
    if user.unit_id is None or clean["kind"] not in group_kinds_for(user):
        return {}, refused(NOT_YOURS)
    refusal = _leader_refused(session, user, clean["leader_id"])
    if refusal is not None:
        return {}, refusal
    ids = clean["attendees"]
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))}
    for person_id in ids:
        person = people.get(person_id)
        if person is None or not may_record_visit(
            session, user, person, kind=clean["kind"], occurred_at=clean["occurred_at"]
        ):
            return {}, refused(NOT_ALL_YOURS)
    return people, None


def _first_content(session: Session, group: GroupSession) -> dict:
    """The content the session was first recorded with."""
    first = session.exec(
        select(GroupSessionVersion.content).where(
            GroupSessionVersion.group_session_id == group.id, GroupSessionVersion.version == 1
        )
    ).first()
    return first or {}


def _replayed(session: Session, user: User, group: GroupSession, clean: dict) -> WriteResult:
    """A create whose UUID is already stored: the same session again, or a conflict."""
    sent = group_snapshot(clean)
    if sent == group_snapshot(group, attendees_of(session, group)):
        return WriteResult(Outcome.duplicate, group)
    if group.version > 1 and sent == _first_content(session, group):
        return WriteResult(Outcome.duplicate, group)
    if not sees_group(user, group):
        return refused(NOT_YOURS)  # never show someone else's session
    return WriteResult(Outcome.conflict, group)


def _undone(session: Session, waiting: int, undo: Undo) -> WriteResult:
    """The answer of an undone save; what waited for its commit (visits' alerts) goes too."""
    del session.info.setdefault("after_commit", [])[waiting:]
    return undo.result


def _attendance(session: Session, group: GroupSession, people: dict, now):
    """Its attendees' visits written as one batch: their records read once, each one's due
    standing stored once at the end (`visit_batch`)."""
    visit_ids = [attendee_visit_id(group.id, person_id) for person_id in people]
    return visit_batch(session, visit_ids=visit_ids, person_ids=people, now=now)


def record_group_session(
    *, session: Session, user: User, data: dict, now: datetime | None = None
) -> WriteResult:
    """Record a new group session whose UUID (`data["id"]`) the device or the form chose."""
    now = now or utcnow()
    clean, errors = clean_group(data, timezone=user.timezone, now=now)
    if errors:
        return WriteResult(Outcome.invalid, errors=errors)
    if not can(user, Action.group_record):
        return refused(NOT_YOURS)
    clean["leader_id"] = clean["leader_id"] or user.id
    people, refusal = _check(session, user, clean)
    if refusal is not None:
        return refusal
    existing = session.get(GroupSession, clean["id"])
    if existing is not None:
        return _replayed(session, user, existing, clean)
    values = {name: clean[name] for name in SESSION_FIELDS}
    group = GroupSession(
        id=clean["id"],
        unit_id=user.unit_id,
        author_id=user.id,
        created_at=now,
        updated_at=now,
        **values,
    )
    waiting = len(session.info.get("after_commit", []))
    try:
        with savepoint(session):
            session.add(group)
            session.flush()
            with _attendance(session, group, people, now):
                for person_id in clean["attendees"]:
                    attend(session, user, group, people[person_id], now)
            details = {"kind": group.kind, "version": 1, "attendees": len(people)}
            audit.record(session, user=user, action="group_create", target=group, details=details)
    except Undo as undo:
        return _undone(session, waiting, undo)
    except LostRace:
        # the same UUID saved by a request running alongside: judge it as a replay
        existing = session.get(GroupSession, clean["id"])
        if existing is None:
            raise
        return _replayed(session, user, existing, clean)
    return WriteResult(Outcome.created, group)


def edit_group_session(
    *,
    session: Session,
    user: User,
    group_id: uuid.UUID,
    base_version: int,
    data: dict,
    now: datetime | None = None,
) -> WriteResult:
    """Correct a group session made on `base_version`: the version it replaces is kept, each
    attendee's visit follows (added, changed or removed)."""
    now = now or utcnow()
    group = session.get(GroupSession, group_id)
    if group is None or not can(user, Action.group_edit, group):
        return refused(N_("You may not correct this group session."))
    if data.get("id") not in (None, "", group.id, str(group.id)):
        message = N_("A correction cannot change which group session this is.")
        return WriteResult(Outcome.invalid, errors={"id": [message]})
    clean, errors = clean_group({**data, "id": group.id}, timezone=user.timezone, now=now)
    if errors:
        return WriteResult(Outcome.invalid, errors=errors)
    clean["leader_id"] = clean["leader_id"] or group.leader_id
    visits = attendee_visits(session, group)
    before = group_snapshot(group, [visit.person_id for visit in visits])
    if group_snapshot(clean) == before:
        return WriteResult(Outcome.duplicate, group)
    unit = session.get(Unit, group.unit_id)
    if not may_edit_group(user, group, unit, now=now):
        return refused(N_("The time to correct this group session has passed, or it is not yours."))
    people, refusal = _check(session, user, clean)
    if refusal is not None:
        return refusal
    if base_version != group.version:
        return WriteResult(Outcome.conflict, group)
    waiting = len(session.info.get("after_commit", []))
    try:
        with savepoint(session):
            _apply_correction(session, user, group, visits, people, before, clean, now)
    except Undo as undo:
        session.expire(group)
        return _undone(session, waiting, undo)
    except LostRace:
        # another correction of the same version was saved first
        session.expire(group)
        return WriteResult(Outcome.conflict, session.get(GroupSession, group_id))
    return WriteResult(Outcome.edited, group)


def _apply_correction(session, user, group, visits, people, before, clean, now) -> None:
    """Keep the version being replaced, write the next one, then her visits follow it."""
    session.add(
        GroupSessionVersion(
            group_session_id=group.id,
            version=group.version,
            content=before,
            author_id=group.edited_by_id or group.author_id,
            saved_at=group.updated_at,
            replaced_at=now,
        )
    )
    for name in SESSION_FIELDS:
        setattr(group, name, clean[name])
    group.version += 1
    group.edited_by_id = user.id
    group.updated_at = now
    session.flush()  # the UPDATE checks the version it read: a concurrent one fails here
    kept = {visit.person_id: visit for visit in visits}
    after = group_snapshot(clean)
    moved = any(before[name] != after[name] for name in VISIT_FIELDS)
    for person_id, visit in kept.items():
        if person_id not in people:
            remove(session, user, group, visit, now)
    with _attendance(session, group, people, now):
        for person_id, visit in kept.items():
            if person_id in people and moved:
                follow(session, user, group, visit, now)
        for person_id, person in people.items():
            if person_id not in kept:
                attend(session, user, group, person, now)
    details = {
        "version": group.version,
        "changed": changed_fields(before, after),
        "attendees": len(people),
    }
    audit.record(session, user=user, action="group_edit", target=group, details=details)
