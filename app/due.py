"""Who is due: the schedule rules' answers, stored on each person and read by range queries.

The rules (`app/schedule.py`) run when something moves a person's standing: a write (a
visit, a plan, a status or a consent change, through `refresh_next_due`) or the passage
of time (the daily `refresh_due`, for people whose `due_recheck_on` has come). Due lists
then select on `next_due_on` over an index, and `check_due` recomputes the rules to
prove the stored answers equal them.
"""

import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from app.models import (
    FOLLOW_UP_RISKS,
    Person,
    ScaleResult,
    SupportPlan,
    Unit,
    User,
    Visit,
    holds_any,
)
from app.policy import people_scope
from app.schedule import (
    NOT_DUE,
    ContactHistory,
    Due,
    DueReason,
    DueState,
    Standing,
    local_date,
    standing,
)

UPCOMING_DAYS = 7
STATE_ORDER = {DueState.overdue: 0, DueState.due_today: 1, DueState.upcoming: 2}
FOLLOW_UP_FLAGS = frozenset(flag.value for flag in FOLLOW_UP_RISKS)
BATCH = 1000  # people per query when refreshing or checking many
# reasons that put her first on Today ("needs you now"), whatever the date
URGENT_REASONS = (DueReason.risk, DueReason.asked_to_talk)
DEFAULT_ZONE = "Asia/Shanghai"


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


@dataclass(frozen=True)
class Worked:
    """The rules' answer for one person: her standing and her last contact."""

    person_id: uuid.UUID
    standing: Standing
    last_contact_at: datetime | None

    def stored(self) -> dict:
        """The person columns that hold it."""
        return {
            "next_due_on": self.standing.due_on,
            "due_reason": self.standing.reason.value if self.standing.reason else None,
            "lost_contact_from": self.standing.lost_contact_from,
            "due_recheck_on": self.standing.recheck_on,
            "last_contact_at": self.last_contact_at,
        }


def schedule_zone() -> ZoneInfo:
    """The zone whose calendar the schedule keeps: the city's (CLOVER_TIMEZONE)."""
    name = current_app.config["CLOVER_TIMEZONE"] if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def schedule_today(now: datetime | None = None) -> date:
    """The calendar day of `now` (or of this moment) in the schedule's zone."""
    zone = schedule_zone()
    return now.astimezone(zone).date() if now else datetime.now(zone).date()


def stored_standing(person: Person) -> Standing:
    """Her standing as the columns of her row hold it."""
    return Standing(
        due_on=person.next_due_on,
        reason=DueReason(person.due_reason) if person.due_reason else None,
        lost_contact_from=person.lost_contact_from,
        recheck_on=person.due_recheck_on,
    )


def officer_contact(visit=Visit):
    """A WHERE clause on visits: a contact that reached her, made by an officer or a helper.

    A failed attempt is not one, nor her own check-in through her link: that is a sign of
    life, which must not reset her due date (README "Self check-in").
    """
    return and_(visit.failure_reason.is_(None), visit.check_in_link_id.is_(None))


def _newest(model, column):
    """A column of each person's newest row of a versioned table (consent, support plan)."""
    return (
        select(column)
        .where(model.person_id == Person.id)
        .order_by(model.version.desc())
        .limit(1)
        .scalar_subquery()
    )


def _history_query(where):
    """People matching `where` with everything the rules need, one row each.

    Correlated subqueries per person ride the (person_id, occurred_at) index, so the cost
    follows the number of people asked for, not the size of the whole visit table.
    """
    completed = officer_contact()
    last_at = (
        select(func.max(Visit.occurred_at))
        .where(Visit.person_id == Person.id, completed)
        .correlate(Person)  # also inside failed_since, two levels down
        .scalar_subquery()
    )

    def of_last_contact(column):
        return (
            select(column)
            .where(Visit.person_id == Person.id, completed)
            .order_by(Visit.occurred_at.desc())
            .limit(1)
            .scalar_subquery()
        )

    planned_on = of_last_contact(Visit.next_contact_on)
    last_flags = of_last_contact(Visit.risk_flags)
    # a scale whose answers flagged a risk (PHQ-9 item 9) at or after her last contact:
    # open as a flagged contact is, until a later contact follows it
    scale_risk_at = (
        select(func.max(ScaleResult.taken_at))
        .where(
            ScaleResult.person_id == Person.id,
            holds_any(ScaleResult.risk_flags, FOLLOW_UP_FLAGS),
            or_(last_at.is_(None), ScaleResult.taken_at >= last_at),
        )
        .scalar_subquery()
    )
    # her own check-in asking to talk after her last contact: open until one follows (a
    # check-in is timed to the minute, as the form times a contact: a call in that minute
    # clears it)
    asked_at = (
        select(func.max(Visit.occurred_at))
        .where(
            Visit.person_id == Person.id,
            Visit.asked_to_talk.is_(True),
            or_(last_at.is_(None), Visit.occurred_at > last_at),
        )
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
            Person.id,
            Person.status,
            Person.consent_withdrawn_at,
            Person.release_date,
            last_at,
            planned_on,
            failed_since,
            _newest(SupportPlan, SupportPlan.cadence),
            Unit.default_cadence,
            Unit.lost_contact_after_days,
            last_flags,
            Unit.risk_follow_up_hours,
            scale_risk_at,
            asked_at,
        )
        .join(Unit, Unit.id == Person.unit_id)
        .where(where)
    )


def _worked(row, *, today: date, zone: ZoneInfo) -> Worked:
    (person_id, status, withdrawn_at, release, last_at, planned_on, failed) = row[:7]
    cadence, default, lost_days, last_flags, risk_hours, scale_risk_at, asked_at = row[7:]
    last_on = local_date(last_at, zone.key) if last_at else None
    # her last contact, or a scale taken since, flagged a risk: no later contact followed it
    risks = [last_on] if last_on and FOLLOW_UP_FLAGS & set(last_flags or ()) else []
    if scale_risk_at is not None:
        risks.append(local_date(scale_risk_at, zone.key))
    history = ContactHistory(
        last_contact_on=last_on,
        failed_attempts_since=failed or 0,
        next_planned_on=planned_on,
        open_risk_on=max(risks, default=None),
        asked_to_talk_on=local_date(asked_at, zone.key) if asked_at else None,
    )
    answer = standing(
        status=status,
        consent_withdrawn=withdrawn_at is not None,
        release_date=release,
        cadence=cadence or default,
        history=history,
        today=today,
        lost_contact_after_days=lost_days,
        risk_follow_up_hours=risk_hours,
    )
    return Worked(person_id, answer, last_at)


def work_out(
    session: Session, ids: Iterable[uuid.UUID], *, today: date, zone: ZoneInfo
) -> Iterator[Worked]:
    """Run the rules for these people, a batch of them per query."""
    ids = list(ids)
    for start in range(0, len(ids), BATCH):
        query = _history_query(Person.id.in_(ids[start : start + BATCH]))
        for row in session.exec(query):
            yield _worked(row, today=today, zone=zone)


def due_for_person(session: Session, person: Person, *, today: date, timezone: str) -> Due:
    """Where one person stands today, by the rules themselves, in a given time zone."""
    row = session.exec(_history_query(Person.id == person.id)).first()
    return _worked(row, today=today, zone=ZoneInfo(timezone)).standing.on(today) if row else NOT_DUE


def refresh_next_due(session: Session, person: Person, *, today: date | None = None) -> Standing:
    """Store her standing (next due date, reason, lost-contact day, recheck day, last contact).

    Call after anything that moves it: a visit, a plan, a status or a consent change.
    The standing mirrors her schedule rather than being part of her record, so it is
    written without the version check: a visit never fails because her record changed
    alongside.
    """
    session.flush()
    today = today or schedule_today()
    (worked,) = work_out(session, [person.id], today=today, zone=schedule_zone())
    values = worked.stored()
    if any(getattr(person, name) != value for name, value in values.items()):
        session.execute(
            update(Person)
            .where(Person.id == person.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        for name, value in values.items():
            set_committed_value(person, name, value)
    return worked.standing


def refresh_next_due_of(session: Session, people: Iterable[Person], *, today: date) -> None:
    """`refresh_next_due` for many people at once: one query for the rules, one UPDATE.

    For a batch of writes (a sync push) that moved these people's standing: each is
    stored once, whatever the number of visits, and as by `refresh_next_due` only where
    it changed. Rows are updated in id order, so two batches lock shared people alike.
    """
    held = {person.id: person for person in people}
    if not held:
        return
    session.flush()
    answers = sorted(
        work_out(session, held, today=today, zone=schedule_zone()), key=lambda w: w.person_id
    )
    moved = [
        worked
        for worked in answers
        if any(getattr(held[worked.person_id], n) != v for n, v in worked.stored().items())
    ]
    if not moved:
        return
    table = Person.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("person_id"))
        .values({name: bindparam(name) for name in moved[0].stored()})
    )
    session.connection().execute(
        statement, [{"person_id": w.person_id, **w.stored()} for w in moved]
    )
    for worked in moved:
        for name, value in worked.stored().items():
            set_committed_value(held[worked.person_id], name, value)


def _store(session: Session, answers: list[Worked]) -> None:
    """Write many people's standings in one executemany UPDATE (no version check, as above)."""
    if not answers:
        return
    table = Person.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("person_id"))
        .values({name: bindparam(name) for name in answers[0].stored()})
    )
    session.connection().execute(
        statement, [{"person_id": w.person_id, **w.stored()} for w in answers]
    )
    written, columns = {w.person_id for w in answers}, list(answers[0].stored())
    for held in list(session.identity_map.values()):
        if isinstance(held, Person) and held.id in written:
            session.expire(held, columns)  # the session reads the new standing next time


def refresh_due(
    session: Session, *, today: date, everyone: bool = False, unit_id: uuid.UUID | None = None
) -> int:
    """The daily job: store the standing of everyone whose recheck day has come (or all;
    or only the people of one unit, whose rules changed).

    Commits after each batch, so a long run holds no lock for long. Returns how many
    people were refreshed.
    """
    query = select(Person.id).order_by(Person.id)
    if not everyone:
        query = query.where(Person.due_recheck_on <= today)
    if unit_id is not None:
        query = query.where(Person.unit_id == unit_id)
    ids = list(session.exec(query))
    zone = schedule_zone()
    for start in range(0, len(ids), BATCH):
        _store(session, list(work_out(session, ids[start : start + BATCH], today=today, zone=zone)))
        session.commit()
    return len(ids)


@dataclass(frozen=True)
class Difference:
    person_id: uuid.UUID
    stored: dict
    rules: dict


@dataclass(frozen=True)
class CheckReport:
    checked: int
    awaiting_refresh: int  # recheck day come: the daily refresh will store them anew
    differences: list[Difference]


def check_due(session: Session, *, today: date, sample: int | None = None) -> CheckReport:
    """Recompute the rules for a sample of people (or all) and compare with what is stored."""
    ids = list(session.exec(select(Person.id).order_by(Person.id)))
    if sample is not None and sample < len(ids):
        ids = random.sample(ids, sample)
    columns = list(Worked(uuid.UUID(int=0), Standing(), None).stored())
    stored = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        query = select(Person.id, *(getattr(Person, c) for c in columns))
        for person_id, *values in session.exec(query.where(Person.id.in_(batch))):
            stored[person_id] = dict(zip(columns, values, strict=True))
    awaiting, differences = 0, []
    for worked in work_out(session, ids, today=today, zone=schedule_zone()):
        held = stored[worked.person_id]
        if held["due_recheck_on"] is not None and held["due_recheck_on"] <= today:
            awaiting += 1
        elif held != worked.stored():
            differences.append(Difference(worked.person_id, held, worked.stored()))
    return CheckReport(len(ids), awaiting, differences)


def due_items(session: Session, user: User, *, today: date) -> list[DueItem]:
    """Everyone in the user's scope who is due, overdue or due within a week, most urgent first.

    One range query on (scope, next_due_on). People whose recheck day has come before the
    daily refresh stored them anew are worked out by the rules in one more query.
    """
    horizon = today + timedelta(days=UPCOMING_DAYS)
    query = select(Person).where(
        people_scope(user),
        or_(Person.next_due_on <= horizon, Person.due_recheck_on <= today),
    )
    people = list(session.exec(query))
    standings = {p.id: (stored_standing(p), p.last_contact_at) for p in people}
    stale = [p.id for p in people if p.due_recheck_on is not None and p.due_recheck_on <= today]
    for worked in work_out(session, stale, today=today, zone=schedule_zone()):
        standings[worked.person_id] = (worked.standing, worked.last_contact_at)
    items = []
    for person in people:
        answer, last_at = standings[person.id]
        due = answer.on(today)
        if due.state != DueState.not_due and due.due_on <= horizon:
            items.append(DueItem(person, due, last_at))
    # an open risk or her asking to talk first, whatever its date; then the most overdue
    items.sort(
        key=lambda i: (
            i.due.reason not in URGENT_REASONS,
            STATE_ORDER[i.due.state],
            i.due.due_on,
            i.person.name,
        )
    )
    return items


def count_due(items: list[DueItem]) -> DueCounts:
    """How many are overdue, due today and coming up."""
    states = [item.due.state for item in items]
    return DueCounts(
        overdue=states.count(DueState.overdue),
        due_today=states.count(DueState.due_today),
        upcoming=states.count(DueState.upcoming),
    )
