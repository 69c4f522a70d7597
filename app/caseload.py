"""A user's caseload: the people she may see, with their last contact."""

from sqlalchemy import Select, func
from sqlmodel import Session, select

from app.due import officer_contact
from app.models import Person, PersonStatus, User, Visit
from app.policy import people_scope


def last_contact_at():
    """A person's latest completed contact (failed attempts and her own check-ins do not
    count), per row."""
    return (
        select(func.max(Visit.occurred_at))
        .where(Visit.person_id == Person.id, officer_contact())
        .scalar_subquery()
        .label("last_contact_at")
    )


def caseload_query(user: User, *, include_closed: bool = False) -> Select:
    """People in this user's scope with their last contact, one row each."""
    query = select(Person, last_contact_at()).where(people_scope(user))
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
