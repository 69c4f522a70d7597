"""What changed in a user's caseload since a cursor, so the phone refreshes only that.

The cursor is opaque to the phone: a server time, encoded. It is set a little before
the moment of the answer, so a change committed while the answer was made is listed
again next time rather than missed; listing a person twice costs one page, missing
her costs a stale ledger. No Flask in here.
"""

import base64
import binascii
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, not_, or_, union
from sqlmodel import Session, select

from app.models import (
    Assignment,
    Consent,
    Person,
    PersonStatus,
    StatusChange,
    SupportPlan,
    User,
    Visit,
)
from app.policy import assignment_scope, people_scope
from app.types import utcnow

OVERLAP = timedelta(minutes=2)
PREFIX = "t1:"
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def make_cursor(moment: datetime) -> str:
    return base64.urlsafe_b64encode((PREFIX + moment.isoformat()).encode()).decode()


class BadCursor(ValueError):
    """A cursor this server never gave: not its format, or a moment out of any sane range."""


def read_cursor(cursor: str | None, *, now: datetime) -> datetime | None:
    """The moment a cursor stands for; None for no cursor (the phone wants everything).

    Raises `BadCursor` for anything else, a year 1 or 9999 included: the phone only sends
    back what it was given, so it is answered "bad request" rather than guessed at.
    """
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        moment = datetime.fromisoformat(text.removeprefix(PREFIX))
    except (ValueError, binascii.Error) as error:
        raise BadCursor(cursor) from error
    if not text.startswith(PREFIX) or moment.tzinfo is None:
        raise BadCursor(cursor)
    if not EARLIEST <= moment <= now + timedelta(days=1):
        raise BadCursor(cursor)
    return moment


def in_caseload(user: User):
    """A WHERE clause: the people she keeps on her phone (app.caseload's open caseload)."""
    return and_(
        people_scope(user),
        Person.status != PersonStatus.closed,
        Person.consent_withdrawn_at.is_(None),
    )


def touched_since(since: datetime):
    """A WHERE clause: her record, a visit, consent, plan, status or assignment changed."""
    return or_(
        Person.updated_at > since,
        Person.id.in_(select(Visit.person_id).where(Visit.updated_at > since)),
        Person.id.in_(select(Consent.person_id).where(Consent.created_at > since)),
        Person.id.in_(select(SupportPlan.person_id).where(SupportPlan.created_at > since)),
        Person.id.in_(select(StatusChange.person_id).where(StatusChange.created_at > since)),
        Person.id.in_(select(Assignment.person_id).where(Assignment.created_at > since)),
    )


def changes_since(
    *, session: Session, user: User, cursor: str | None, now: datetime | None = None
) -> dict:
    """People to refresh and people to forget; everything without a cursor.

    Raises `BadCursor` for a cursor this server never gave.
    """
    now = now or utcnow()
    since = read_cursor(cursor, now=now)
    answer = {"cursor": make_cursor(now - OVERLAP), "full": since is None}
    if since is None:
        people = session.exec(select(Person.id).where(in_caseload(user))).all()
        return {**answer, "people": sorted(map(str, people)), "removed": []}
    touched = touched_since(since)
    people = session.exec(select(Person.id).where(in_caseload(user), touched)).all()
    handed_over = select(Assignment.person_id).where(
        Assignment.user_id == user.id, Assignment.ended_at > since
    )
    # her own people who dropped out of what she may see (a peer helper's, when consent to
    # peer contact ends) are forgotten too. A UNION rather than an OR, so that each side
    # reads its own index (her assignments; her people by officer or helper)
    gone = not_(in_caseload(user))
    removed = (
        session.execute(
            union(
                select(Person.id).where(Person.id.in_(handed_over), gone),
                select(Person.id).where(assignment_scope(user), touched, gone),
            )
        )
        .scalars()
        .all()
    )
    return {**answer, "people": sorted(map(str, people)), "removed": sorted(map(str, removed))}
