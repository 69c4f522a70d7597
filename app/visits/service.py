"""The one write path for visits: the form, and the offline sync after it, call only these.

`record_visit(*, session, user, data)` and `edit_visit(*, session, user, visit_id,
base_version, data)` validate (`app.visits.fields.clean_visit`), check permission
(`app.policy`), keep the schedule current and write the audit event. They follow the
write contract (`app.contract`): they flush and never commit; the caller's `commit()`
then sends `app.signals.visit_recorded` (sender=visit, session=..., user=...) for every
created or edited visit (an edit has `visit.version > 1`). They never raise for a
client's mistake; they return a `WriteResult` whose `record` is the visit and whose
`outcome` is one of:

- `created`: a new visit was saved; `due` is where she now stands.
- `edited`: a correction was saved as the next version; the one it replaced is kept
  as a `VisitVersion`; `due` as for created.
- `duplicate`: nothing changed. The UUID was already saved with this content (a double
  submit or a resent sync item, also when it was corrected since), or the edit asks for
  what is already there. Treat as success.
- `conflict`: nothing changed. The UUID exists with other content, or the edit's
  `base_version` is not the current version (also when a concurrent correction of the
  same version was saved first). `record` is the server's current version, so the
  client can keep both and let the officer choose. Never an overwrite.
- `invalid`: nothing changed; `errors` is {field: [message]}.
- `refused`: nothing changed; the user may not do this (person unknown or out of
  scope, a kind her role may not record, consent withdrawn, edit window passed);
  `errors["_form"]` says why. Retrying will not help.

Messages are English source strings marked with `N_`; translate them where shown. A
visit is the first version when recorded; the edit window is counted from then.
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import LostRace, Outcome, WriteResult, after_commit, refused, savepoint
from app.due import refresh_next_due, refresh_next_due_of, schedule_today, stored_standing
from app.models import Person, PersonStatus, Unit, User, Visit, VisitVersion
from app.policy import Action, can, may_edit_visit, may_record_visit, sees_record
from app.schedule import Due, local_date
from app.signals import visit_recorded
from app.types import utcnow
from app.versions import VersionView, newest_first
from app.visits.fields import CONTENT_FIELDS, changed_fields, clean_visit, restore, snapshot

NOT_YOURS = N_("You may not record this visit for this person.")
GROUP_VISIT = N_("This visit is part of a group session: correct the group session instead.")
# session.info keys of a `visit_batch`: the visit ids known not to be stored yet, the
# people whose due standing waits for the end of the batch, and whether its new visits
# wait for it too
_ABSENT = "visit_batch_absent"
_DUE_WAITING = "visit_batch_due"
_DEFERRED = "visit_batch_deferred"


class NotDeferrable(Exception):
    """A deferred batch met a write that needs its own SAVEPOINT: apply it item by item."""


@contextmanager
def visit_batch(
    session: Session,
    *,
    visit_ids: Iterable[uuid.UUID],
    person_ids: Iterable[uuid.UUID],
    now,
    deferred: bool = False,
) -> Iterator[None]:
    """Many visit writes in one transaction (a sync push), each record read once.

    The visits and people the batch names are loaded in one query each and held for it,
    so a write reads none of them again and a new visit's id costs no lookup; each
    person's due standing is stored once when the batch ends, not after every visit.
    Inside, `WriteResult.due` is None. Whatever the body raises, nothing is refreshed.

    `deferred`, when none of the visits it names is stored: new visits are written
    together when the batch ends, a few statements for all of them, with no SAVEPOINT
    each. Then a create that is not simply new (an id twice, her lost contact to end)
    raises `NotDeferrable`, and a clash of keys surfaces at the end; either way the
    caller rolls back and goes item by item.

    Inside a batch already open (a group session's attendees within a sync push), this one
    joins it: the open batch reads, and stores their due standing when it ends.
    """
    if _DUE_WAITING in session.info:
        yield
        return
    visit_ids = set(visit_ids)
    visits = session.exec(select(Visit).where(Visit.id.in_(visit_ids))).all() if visit_ids else []
    person_ids = set(person_ids) | {visit.person_id for visit in visits}
    people = (
        session.exec(select(Person).where(Person.id.in_(person_ids))).all() if person_ids else []
    )
    session.info[_ABSENT] = visit_ids - {visit.id for visit in visits}
    session.info[_DUE_WAITING] = waiting = {}
    if deferred and not visits:  # a visit stored already is answered item by item
        session.info[_DEFERRED] = True
    try:
        yield
        session.flush()
        refresh_next_due_of(session, waiting.values(), today=schedule_today(now))
    finally:
        for key in (_ABSENT, _DUE_WAITING, _DEFERRED):
            session.info.pop(key, None)
        del visits, people  # held until here: the session keeps only weak references


def _stored_visit(session: Session, visit_id: uuid.UUID) -> Visit | None:
    """The visit with this id, if stored; no query for one the batch knows is not.

    For a new visit only: should another request store the id meanwhile, the INSERT
    meets its unique key and the visit is judged as a replay (`LostRace`).
    """
    if visit_id in session.info.get(_ABSENT, ()):
        return None
    return session.get(Visit, visit_id)


def _refresh_due(session: Session, person: Person, now: datetime) -> None:
    """Store her due standing now, or when the batch this write belongs to ends."""
    waiting = session.info.get(_DUE_WAITING)
    if waiting is None:
        refresh_next_due(session, person, today=schedule_today(now))
        return
    session.flush()  # the write and its audit row inside its savepoint, as refresh_next_due
    waiting[person.id] = person


def _first_content(session: Session, visit: Visit) -> dict:
    """The content the visit was first recorded with."""
    if visit.version == 1:
        return snapshot(visit)
    first = session.exec(
        select(VisitVersion.content).where(
            VisitVersion.visit_id == visit.id, VisitVersion.version == 1
        )
    ).first()
    return first or {}


def _replayed(session: Session, user: User, visit: Visit, clean: dict) -> WriteResult:
    """A create whose UUID is already stored: the same visit again, or a conflict."""
    sent = snapshot(clean)
    if sent in (snapshot(visit), _first_content(session, visit)):
        return WriteResult(Outcome.duplicate, visit)
    person = session.get(Person, visit.person_id)
    if not sees_record(user, person, visit.author_id):
        return refused(NOT_YOURS)  # never show someone else's visit
    return WriteResult(Outcome.conflict, visit)


def _end_lost_contact(session: Session, person: Person, visit: Visit, now: datetime) -> dict:
    """A contact that reached her ends 'lost contact'; the due list follows the visits.

    One UPDATE that checks her status itself, so a visit never fails because her record
    changed alongside it, and two visits at once end it once.
    """
    if visit.check_in_link_id is not None:
        return {}  # her own check-in is a sign of life, not an officer's contact
    if visit.failure_reason is not None or person.status != PersonStatus.lost_contact:
        return {}
    ended = session.execute(
        update(Person)
        .where(Person.id == person.id, Person.status == PersonStatus.lost_contact)
        .values(status=PersonStatus.active, version=Person.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(person)
    if not ended.rowcount:
        return {}
    return {"status": [PersonStatus.lost_contact.value, PersonStatus.active.value]}


def _due(user: User, person: Person, now: datetime) -> Due:
    return stored_standing(person).on(local_date(now, user.timezone))


def _saved(session: Session, user: User, outcome: Outcome, visit: Visit, person: Person, now):
    """The answer to a saved visit; its alerts go out once the caller has committed it."""
    after_commit(session, lambda: visit_recorded.send(visit, session=session, user=user))
    due = None if _DUE_WAITING in session.info else _due(user, person, now)
    return WriteResult(outcome, visit, due=due)


def record_visit(
    *,
    session: Session,
    user: User,
    data: dict,
    now: datetime | None = None,
    check_in_link_id: uuid.UUID | None = None,
    asked_to_talk: bool = False,
    group_session_id: uuid.UUID | None = None,
) -> WriteResult:
    """Record a new visit whose UUID (`data["id"]`) the device or the form chose.

    `check_in_link_id`: her own check-in through that link (app/checkin), recorded with
    the officer who gave it as `user`; `asked_to_talk` when she ticked "I need to talk".
    `group_session_id`: her attendance of that group session (app/groups).
    """
    now = now or utcnow()
    clean, errors = clean_visit(data, timezone=user.timezone, now=now)
    if errors:
        return WriteResult(Outcome.invalid, errors=errors)
    person = session.get(Person, clean["person_id"])
    if person is None or not may_record_visit(
        session, user, person, kind=clean["kind"], occurred_at=clean["occurred_at"]
    ):
        return refused(NOT_YOURS)
    existing = _stored_visit(session, clean["id"])
    if existing is not None:
        if _DEFERRED in session.info:
            raise NotDeferrable  # a conflict it answers is kept in a SAVEPOINT
        return _replayed(session, user, existing, clean)
    if person.consent_withdrawn_at is not None:
        return refused(N_("She has withdrawn her consent: no new visits can be recorded."))
    if person.status == PersonStatus.closed:
        return refused(N_("Her ledger is closed: no new visits can be recorded."))
    values = {name: clean[name] for name in CONTENT_FIELDS}
    visit = Visit(id=clean["id"], author_id=user.id, created_at=now, updated_at=now, **values)
    if check_in_link_id is not None:
        visit.check_in_link_id, visit.asked_to_talk = check_in_link_id, asked_to_talk
    visit.group_session_id = group_session_id
    session.info.get(_ABSENT, set()).discard(visit.id)  # once tried, looked up again
    if _DEFERRED in session.info:
        return _record_deferred(session, user, visit, person, now)
    try:
        with savepoint(session):
            session.add(visit)
            session.flush()
            ended = _end_lost_contact(session, person, visit, now)
            _audit_created(session, user, person, visit, ended)
            _refresh_due(session, person, now)
    except LostRace:
        # the same UUID saved by a request running alongside: judge it as a replay
        existing = session.get(Visit, clean["id"])
        if existing is None:
            raise
        return _replayed(session, user, existing, clean)
    return _saved(session, user, Outcome.created, visit, person, now)


def _audit_created(session, user: User, person: Person, visit: Visit, changed: dict | None = None):
    """The audit row of a new visit (with her status, when the visit ended her lost contact)."""
    details = {"kind": visit.kind, "version": 1, **(changed or {})}
    if visit.check_in_link_id is not None:  # written by her, through the link she was given
        details |= {"via": "check_in_link", "link": str(visit.check_in_link_id)}
    audit.record(
        session, user=user, action="visit_create", person=person, target=visit, details=details
    )


def _record_deferred(session: Session, user: User, visit: Visit, person: Person, now):
    """A new visit and its audit row added to a deferred batch, flushed when it ends."""
    if person.status == PersonStatus.lost_contact:
        raise NotDeferrable  # ending it is an UPDATE that must see the visit saved
    session.add(visit)
    _audit_created(session, user, person, visit)
    session.info[_DUE_WAITING][person.id] = person
    return _saved(session, user, Outcome.created, visit, person, now)


def edit_visit(
    *,
    session: Session,
    user: User,
    visit_id: uuid.UUID,
    base_version: int,
    data: dict,
    now: datetime | None = None,
    through_group: bool = False,
) -> WriteResult:
    """Correct a visit: the version it replaces is kept, the visit gets the next version.

    `base_version` is the version the correction was made on; the person cannot change.
    A visit of a group session is corrected only by correcting the session
    (`through_group`, by app/groups, which has checked who may correct it).
    """
    now = now or utcnow()
    visit = session.get(Visit, visit_id)
    person = session.get(Person, visit.person_id) if visit is not None else None
    if (
        person is None
        or not can(user, Action.visit_edit)
        or not sees_record(user, person, visit.author_id)
    ):
        return refused(N_("You may not correct this visit."))
    if visit.group_session_id is not None and not through_group:
        return refused(GROUP_VISIT)
    moved = {
        name: [N_("A correction cannot change which visit or person this is.")]
        for name, fixed in (("id", visit.id), ("person_id", visit.person_id))
        if data.get(name) not in (None, "", fixed, str(fixed))
    }
    if moved:
        return WriteResult(Outcome.invalid, errors=moved)
    data = {**data, "id": visit.id, "person_id": visit.person_id}
    clean, errors = clean_visit(data, timezone=user.timezone, now=now)
    if errors:
        return WriteResult(Outcome.invalid, errors=errors)
    before = snapshot(visit)
    if snapshot(clean) == before:
        return WriteResult(Outcome.duplicate, visit)
    unit = session.get(Unit, person.unit_id)
    editable = through_group or may_edit_visit(user, visit, person, unit, now=now)
    if not editable or not may_record_visit(
        session, user, person, kind=clean["kind"], occurred_at=clean["occurred_at"]
    ):
        return refused(N_("The time to correct this visit has passed, or it is not yours."))
    if base_version != visit.version:
        return WriteResult(Outcome.conflict, visit)
    try:
        with savepoint(session):
            _apply_correction(session, user, visit, person, before, clean, now)
    except LostRace:
        # another correction of the same version was saved first
        session.expire(visit)
        return WriteResult(Outcome.conflict, session.get(Visit, visit_id))
    return _saved(session, user, Outcome.edited, visit, person, now)


def _apply_correction(session, user, visit: Visit, person: Person, before, clean, now) -> None:
    """Keep the version being replaced, then write the next one over it."""
    session.add(
        VisitVersion(
            visit_id=visit.id,
            version=visit.version,
            content=before,
            author_id=visit.edited_by_id or visit.author_id,
            saved_at=visit.updated_at,
            replaced_at=now,
        )
    )
    for name in CONTENT_FIELDS:
        setattr(visit, name, clean[name])
    visit.version += 1
    visit.edited_by_id = user.id
    visit.updated_at = now
    session.flush()  # the UPDATE checks the version it read: a concurrent one fails here
    details = {
        "version": visit.version,
        "changed": changed_fields(before, snapshot(visit)),
        **_end_lost_contact(session, person, visit, now),
    }
    audit.record(
        session, user=user, action="visit_edit", person=person, target=visit, details=details
    )
    _refresh_due(session, person, now)


def visit_history(session: Session, visit: Visit) -> list[VersionView]:
    """Every version of a visit, newest first, each with the fields it changed."""
    older = session.exec(
        select(VisitVersion).where(VisitVersion.visit_id == visit.id).order_by(VisitVersion.version)
    ).all()
    rows = [(v.version, v.content, v.author_id, v.saved_at) for v in older]
    rows.append(
        (visit.version, snapshot(visit), visit.edited_by_id or visit.author_id, visit.updated_at)
    )
    return newest_first(rows, changed_fields=changed_fields, restore=restore)
