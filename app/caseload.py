"""A user's caseload: the people she may see, with their last contact."""

from sqlalchemy import Select, func
from sqlmodel import Session, select

from app.models import Person, PersonStatus, User, Visit
from app.policy import people_scope


def last_contact_subquery():
    """Each person's latest completed contact (failed attempts do not count)."""
    return (
        select(Visit.person_id, func.max(Visit.occurred_at).label("last_contact_at"))
        .where(Visit.failure_reason.is_(None))
        .group_by(Visit.person_id)
        .subquery()
    )


def caseload_query(user: User, *, include_closed: bool = False) -> Select:
    """People in this user's scope joined to their last contact, one row each."""
    last = last_contact_subquery()
    query = (
        select(Person, last.c.last_contact_at)
        .outerjoin(last, last.c.person_id == Person.id)
        .where(people_scope(user))
    )
    if not include_closed:
        query = query.where(Person.status != PersonStatus.closed)
    return query


def caseload(session: Session, user: User) -> list[tuple[Person, object]]:
    """The open caseload, longest without contact first.

    Someone who withdrew consent is not followed up, so she is not on it.
    """
    query = caseload_query(user).where(Person.consent_withdrawn_at.is_(None))
    last_contact = query.selected_columns[1]
    ordered = query.order_by(last_contact.is_(None).desc(), last_contact, Person.name)
    return list(session.exec(ordered))
