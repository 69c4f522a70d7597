"""Each attendee's attendance of a group session: a visit of hers, written through the
visit write path. No Flask in here.

Her visit's id is uuid5(session id, her id), the same on every device; it holds the
session's kind, time, length and place, never its notes or the other attendees' names.
Anything but a saved visit raises `Undo`, so the whole session is undone with its answer.
"""

import uuid

from sqlalchemy import delete, update
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import Outcome, WriteResult, refused
from app.due import refresh_next_due, schedule_today
from app.groups.fields import location_of
from app.models import GroupSession, Person, ScaleResult, User, Visit, VisitVersion
from app.policy import open_for_contact
from app.visits.service import edit_visit, record_visit

CLOSED = N_(
    "One of the people ticked has withdrawn her consent or her ledger is closed."
    " Untick her and save again."
)


class Undo(Exception):
    """An attendee's visit was not saved: the whole session is undone, with this answer."""

    def __init__(self, result: WriteResult):
        super().__init__(result.outcome)
        self.result = result


def attendee_visit_id(group_id: uuid.UUID, person_id: uuid.UUID) -> uuid.UUID:
    """Her visit of this session: the same id on every device, so a resend saves it once."""
    return uuid.uuid5(group_id, str(person_id))


def attendee_visits(session: Session, group: GroupSession) -> list[Visit]:
    """The visits of its attendees."""
    return list(session.exec(select(Visit).where(Visit.group_session_id == group.id)))


def attendees_of(session: Session, group: GroupSession) -> list[uuid.UUID]:
    """The ids of the people who attended it."""
    query = select(Visit.person_id).where(Visit.group_session_id == group.id)
    return sorted(session.exec(query), key=str)


def visit_data(values, person_id: uuid.UUID, visit_id: uuid.UUID) -> dict:
    """Her visit of the session: its kind, time, length and place, and nothing else of it."""
    get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
    duration = get("duration_minutes")
    return {
        "id": str(visit_id),
        "person_id": str(person_id),
        "kind": get("kind"),
        "occurred_at": get("occurred_at").isoformat(),
        "duration_minutes": str(duration) if duration is not None else "",
        "location": location_of(get("online")),
        "notes": "",
    }


def attend(session: Session, user: User, group: GroupSession, person: Person, now) -> None:
    """Record her visit of the session; anything but saved undoes the whole session."""
    if not open_for_contact(person):
        raise Undo(refused(CLOSED))
    data = visit_data(group, person.id, attendee_visit_id(group.id, person.id))
    result = record_visit(session=session, user=user, data=data, now=now, group_session_id=group.id)
    if result.outcome != Outcome.created:
        raise Undo(WriteResult(result.outcome, group, errors=result.errors))


def follow(session: Session, user: User, group: GroupSession, visit: Visit, now) -> None:
    """Her visit takes the session's new kind, time, length or place."""
    result = edit_visit(
        session=session,
        user=user,
        visit_id=visit.id,
        base_version=visit.version,
        data=visit_data(group, visit.person_id, visit.id),
        now=now,
        through_group=True,
    )
    if result.outcome not in (Outcome.edited, Outcome.duplicate):
        raise Undo(WriteResult(result.outcome, group, errors=result.errors))


def remove(session: Session, user: User, group: GroupSession, visit: Visit, now) -> None:
    """She did not attend after all: her visit goes (the session's versions keep the list)."""
    person = session.get(Person, visit.person_id)
    session.execute(delete(VisitVersion).where(VisitVersion.visit_id == visit.id))
    session.execute(
        update(ScaleResult).where(ScaleResult.visit_id == visit.id).values(visit_id=None)
    )
    session.delete(visit)
    # her ledger changed: a phone pulling changes since now gets it again without the visit
    session.execute(
        update(Person)
        .where(Person.id == person.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    audit.record(
        session,
        user=user,
        action="group_attendee_remove",
        person=person,
        target=group,
        details={"visit": str(visit.id), "version": group.version},
    )
    refresh_next_due(session, person, today=schedule_today(now))
