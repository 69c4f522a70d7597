"""Who is due: the schedule rules applied to a caseload, in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from app.models import Person, PersonStatus, SupportPlan, Unit, User, Visit
from app.policy import people_scope
from app.schedule import NOT_DUE, ContactHistory, Due, DueState, due_status, local_date

UPCOMING_DAYS = 7
STATE_ORDER = {DueState.overdue: 0, DueState.due_today: 1, DueState.upcoming: 2}


@dataclass(frozen=True)
class DueItem:
    person: Person
    due: Due
    last_contact_at: datetime | None


@dataclass(frozen=True)
class DueCounts:
    overdue: int = 0
    due_today: int = 0
    upcoming: int = 0  # within the next UPCOMING_DAYS days

    @property
    def total_due(self) -> int:
        return self.overdue + self.due_today


def _newest(model, column):
    """A column of each person's newest row of a versioned table (consent, support plan)."""
    return (
        select(column)
        .where(model.person_id == Person.id)
        .order_by(model.version.desc())
        .limit(1)
        .scalar_subquery()
    )


def _history_query(scope):
    """People in scope with everything the rules need, one row each.

    Correlated subqueries per person ride the (person_id, occurred_at) index, so the cost
    follows the size of the caseload, not of the whole visit table.
    """
    completed = Visit.failure_reason.is_(None)
    last_at = (
        select(func.max(Visit.occurred_at))
        .where(Visit.person_id == Person.id, completed)
        .correlate(Person)  # also inside failed_since, two levels down
        .scalar_subquery()
    )
    planned_on = (
        select(Visit.next_contact_on)
        .where(Visit.person_id == Person.id, completed)
        .order_by(Visit.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    attempt = aliased(Visit)
    failed_since = (
        select(func.count())
        .select_from(attempt)
        .where(
            attempt.person_id == Person.id,
            attempt.failure_reason.is_not(None),
            or_(last_at.is_(None), attempt.occurred_at > last_at),
        )
        .scalar_subquery()
    )
    return (
        select(
            Person,
            last_at,
            planned_on,
            failed_since,
            _newest(SupportPlan, SupportPlan.cadence),
            Unit.default_cadence,
            Unit.lost_contact_after_days,
        )
        .join(Unit, Unit.id == Person.unit_id)
        .where(scope, Person.status != PersonStatus.closed)
    )


def _due_of(row, *, today: date, timezone: str) -> DueItem:
    person, last_at, planned_on, failed, cadence, default, lost_days = row
    history = ContactHistory(
        last_contact_on=local_date(last_at, timezone) if last_at else None,
        failed_attempts_since=failed or 0,
        next_planned_on=planned_on,
    )
    due = due_status(
        status=person.status,
        consent_withdrawn=person.consent_withdrawn_at is not None,
        release_date=person.release_date,
        cadence=cadence or default,
        history=history,
        today=today,
        lost_contact_after_days=lost_days,
    )
    return DueItem(person, due, last_at)


def due_items(session: Session, user: User, *, today: date, timezone: str) -> list[DueItem]:
    """Everyone in the user's scope who is due, overdue or due within a week, most urgent first."""
    horizon = today + timedelta(days=UPCOMING_DAYS)
    items = []
    for row in session.exec(_history_query(people_scope(user))):
        item = _due_of(row, today=today, timezone=timezone)
        if item.due.state != DueState.not_due and item.due.due_on <= horizon:
            items.append(item)
    items.sort(key=lambda i: (STATE_ORDER[i.due.state], i.due.due_on, i.person.name))
    return items


def due_for_person(session: Session, person: Person, *, today: date, timezone: str) -> Due:
    """Where one person stands today, by the same rules and query as the due list."""
    row = session.exec(_history_query(Person.id == person.id)).first()
    return _due_of(row, today=today, timezone=timezone).due if row else NOT_DUE


def refresh_next_due(session: Session, person: Person, *, zone: ZoneInfo) -> date | None:
    """Store her next due date on `Person.next_due_on` (the people list sorts by it).

    Call after anything that moves it: a visit, a plan, a status or a consent change.
    The date mirrors her schedule rather than being part of her record, so it is written
    without the version check: a visit never fails because her record changed alongside.
    """
    session.flush()
    today = datetime.now(zone).date()
    due_on = due_for_person(session, person, today=today, timezone=zone.key).due_on
    if due_on != person.next_due_on:
        session.execute(
            update(Person)
            .where(Person.id == person.id)
            .values(next_due_on=due_on)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(person, "next_due_on", due_on)
    return due_on


def count_due(items: list[DueItem]) -> DueCounts:
    """How many are overdue, due today and coming up."""
    states = [item.due.state for item in items]
    return DueCounts(
        overdue=states.count(DueState.overdue),
        due_today=states.count(DueState.due_today),
        upcoming=states.count(DueState.upcoming),
    )
