"""The people list: search, filters and one page of rows in a fixed number of queries."""

import uuid
from dataclasses import dataclass

from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from app.caseload import caseload_query
from app.models import Person, Role, User
from app.policy import colleagues_scope
from app.search_keys import normalise_query


@dataclass
class PeopleFilter:
    """What the search box and the filters ask for."""

    q: str = ""
    status: str = ""
    officer_id: uuid.UUID | None = None
    page: int = 1


PAGE_SIZE = 30  # people per page of the list, unless PEOPLE_PAGE_SIZE is configured


def _matching(query, filters: PeopleFilter):
    text = normalise_query(filters.q)
    if text.isdigit():
        # officers know a phone number or an ID card by its last digits
        query = query.where(
            or_(Person.phone.endswith(text, autoescape=True), Person.id_number_tail == text[-4:])
            if len(text) >= 4
            else Person.phone.endswith(text, autoescape=True)
        )
    elif text:
        query = query.where(Person.search_keys.contains(text, autoescape=True))
    if filters.status:
        query = query.where(Person.status == filters.status)
    if filters.officer_id:
        query = query.where(Person.assigned_officer_id == filters.officer_id)
    return query


def people_page(
    *, session: Session, user: User, filters: PeopleFilter, page_size: int
) -> tuple[list, int]:
    """One page of (person, last contact, officer) rows, next due first, and the total."""
    officer = aliased(User)
    query = _matching(caseload_query(user, include_closed=True), filters)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.add_columns(officer.display_name)
        .outerjoin(officer, officer.id == Person.assigned_officer_id)
        .order_by(Person.next_due_on.is_(None), Person.next_due_on, Person.name, Person.id)
        .offset((max(filters.page, 1) - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total


def officer_choices(session: Session, user: User) -> list[User]:
    """Officers she may filter by: her unit's (everyone's for an administrator)."""
    query = select(User).where(User.role == Role.officer, colleagues_scope(user))
    return list(session.exec(query.order_by(User.display_name)))
