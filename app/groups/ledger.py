"""What a group session shows: in an attendee's ledger, and on its own pages. No Flask.

A ledger shows the session (kind, topic, date, place or online, leader, how many came)
to whoever may see her ledger, never the other attendees' names; the session's own page
names only the attendees the reader may see.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import GroupSession, Person, User, Visit
from app.policy import people_scope


@dataclass(frozen=True)
class GroupEntry:
    """A group session as an attendee's ledger shows it beside her visit."""

    id: uuid.UUID
    kind: str
    topic: str
    occurred_at: datetime
    online: bool
    place: str
    leader: str
    attendees: int
    # who may open the session: read by app.policy.sees_group
    author_id: uuid.UUID
    leader_id: uuid.UUID
    unit_id: uuid.UUID


def group_entries(session: Session, visits) -> dict[uuid.UUID, GroupEntry]:
    """The group sessions of these visits, by id: one query, whatever their number."""
    ids = {visit.group_session_id for visit in visits if visit.group_session_id is not None}
    if not ids:
        return {}
    attendees = (
        select(func.count())
        .where(Visit.group_session_id == GroupSession.id)
        .correlate(GroupSession)
        .scalar_subquery()
    )
    rows = session.exec(
        select(GroupSession, User.display_name, attendees)
        .join(User, User.id == GroupSession.leader_id)
        .where(GroupSession.id.in_(ids))
    )
    return {
        group.id: GroupEntry(
            group.id,
            group.kind,
            group.topic,
            group.occurred_at,
            group.online,
            group.place,
            leader,
            count,
            group.author_id,
            group.leader_id,
            group.unit_id,
        )
        for group, leader, count in rows
    }


def attendee_names(session: Session, user: User, group: GroupSession) -> tuple[list[Person], int]:
    """The attendees she may see, by name, and how many others came."""
    ids = select(Visit.person_id).where(Visit.group_session_id == group.id)
    total = session.exec(select(func.count()).where(Visit.group_session_id == group.id)).one()
    seen = list(
        session.exec(
            select(Person).where(Person.id.in_(ids), people_scope(user)).order_by(Person.name)
        )
    )
    return seen, total - len(seen)
