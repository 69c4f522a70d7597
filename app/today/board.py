"""What Today shows, with no Flask in it: who is due for the signed-in user, grouped by
officer for a supervisor, with fresh self-harm flags on top. A fixed number of queries.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, cast
from sqlmodel import Session, select

from app.due import DueCounts, DueItem, count_due, due_items
from app.models import Person, RiskFlag, User, Visit
from app.policy import Action, can, people_scope
from app.schedule import DueState, local_date

# how long a self-harm flag stays on top of a supervisor's Today
SELF_HARM_ALERT_DAYS = 14


@dataclass(frozen=True)
class TodayBoard:
    today: date
    items: list[DueItem]
    counts: DueCounts
    # a supervisor's view: (officer or None when unassigned, her people who are due)
    groups: list[tuple[User | None, list[DueItem]]] | None
    alerts: list[tuple[Visit, Person]]

    def in_state(self, state: str) -> list[DueItem]:
        return [item for item in self.items if item.due.state == DueState(state)]


def self_harm_alerts(session: Session, user: User, *, now: datetime) -> list[tuple[Visit, Person]]:
    """Visits in the user's scope recorded or corrected lately with a self-harm flag."""
    since = now - timedelta(days=SELF_HARM_ALERT_DAYS)
    # the flags are a JSON list; its text holds the quoted code on SQLite and PostgreSQL
    flagged = cast(Visit.risk_flags, String).like(f'%"{RiskFlag.self_harm.value}"%')
    query = (
        select(Visit, Person)
        .join(Person, Person.id == Visit.person_id)
        .where(people_scope(user), Visit.updated_at >= since, flagged)
        .order_by(Visit.occurred_at.desc())
    )
    return list(session.exec(query))


def _by_officer(session: Session, items: list[DueItem]):
    ids = {item.person.assigned_officer_id for item in items} - {None}
    officers = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids)))} if ids else {}
    groups: dict = {}
    for item in items:
        groups.setdefault(item.person.assigned_officer_id, []).append(item)
    order = sorted(groups, key=lambda i: (i is None, officers[i].display_name if i else ""))
    return [(officers.get(officer_id), groups[officer_id]) for officer_id in order]


def today_board(session: Session, user: User, *, now: datetime) -> TodayBoard:
    """Overdue first, then due today, then the next 7 days, in the user's own time zone."""
    today = local_date(now, user.timezone)
    items = due_items(session, user, today=today)
    overview = can(user, Action.unit_overview)
    return TodayBoard(
        today=today,
        items=items,
        counts=count_due(items),
        groups=_by_officer(session, items) if overview else None,
        alerts=self_harm_alerts(session, user, now=now) if overview else [],
    )
