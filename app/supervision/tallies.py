"""Contact tallies: the dashboard's contact figures kept as they change, not counted anew.

Two small tables, upserted by every flush that creates, changes or removes a visit (or
moves a person's unit or release day), so a fresh dashboard reads rows bounded by
officers x months x kinds, never by people or visits:

- `ContactTally`: contacts by (unit, local month, author, kind): the 12-month chart and
  each officer's contacts this month.
- `OnTimeTally`: by (unit, local day, author): the contacts that had a due date
  (`rated`) and those made within it plus the unit's grace days (`met`): the on-time rate
  over any window of days.

A *contact* is `officer_contact()` and not an attempt (app/due.py); the unit is her
current one; days and months are local to the schedule's zone (CLOVER_TIMEZONE: change
it, then run `flask supervision check-tallies --fix`).

On time (`contact_verdicts`): each contact after her release day (or any, release
unknown) is judged against her previous such contact, or, for the first one, her release
day: it is met when its day is no later than that day plus the interval of the unit's
cadence for the phase the previous contact fell in (`FIRST_CONTACT_DAYS` for the first)
plus the unit's `grace_days`. With neither a previous contact nor a release day there is
no due date: not rated. Contacts on one moment are taken in the order of their ids.

One `before_flush` listener sees every new, changed and deleted Visit (the forms, a sync
batch's deferred INSERT, corrections, check-ins, a group session's derived visits): it
reads the contacts of the people concerned as stored (one query: those from the earliest
moment the flush touches on, and the one before it; all of hers when her unit or release
day changes), applies the flush's changes to them in memory, judges again only what they
can move, and upserts the difference with one statement per table, keys in sorted order,
`n = n + excluded.n`, after taking the audit chain's lock on PostgreSQL (every visit write
takes it before its commit anyway): no lost update, no deadlock between two writers.
A change of a unit's grace days or cadence recounts its tallies (`app.supervision.
recount`). ORM bulk statements on visits (`insert(Visit)` and the like) bypass the unit
of work and are refused unless they say `contact_tallies="recount"` (their caller
recounts after, as the benchmark seeds do). `flask supervision check-tallies` compares
the tables with a recount from the visits.
"""

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Index,
    String,
    and_,
    cast,
    event,
    inspect,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, aliased
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, SQLModel

from app.audit import CHAIN_LOCK
from app.due import officer_contact, schedule_zone
from app.models import (
    FIRST_CONTACT_DAYS,
    FOLLOW_UP_RISKS,
    Person,
    ScaleResult,
    Unit,
    Visit,
    VisitKind,
)
from app.schedule import interval_for

# the columns whose change moves a visit's or a person's place in the tallies
VISIT_COLUMNS = ("person_id", "author_id", "kind", "occurred_at", "failure_reason")
VISIT_COLUMNS += ("check_in_link_id",)
PERSON_COLUMNS = ("unit_id", "release_date")
UNIT_RULES = ("grace_days", "default_cadence")
UPSERT_ROWS = 1000  # rows per upsert statement (SQLite's limit on bound parameters)
RECOUNT = "contact_tallies_recount"  # session.info: units whose rules changed in a flush


class ContactTally(SQLModel, table=True):
    """Contacts by unit, local month, author and kind."""

    __tablename__ = "contact_tally"

    unit_id: uuid.UUID = Field(primary_key=True)
    month: date = Field(primary_key=True)  # the first day of the local month
    author_id: uuid.UUID = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=30)
    contacts: int = Field(default=0)


class OnTimeTally(SQLModel, table=True):
    """Contacts with a due date (`rated`) and those on time (`met`), by unit, day and author."""

    __tablename__ = "on_time_tally"

    unit_id: uuid.UUID = Field(primary_key=True)
    day: date = Field(primary_key=True)  # the local day of the contact
    author_id: uuid.UUID = Field(primary_key=True)
    rated: int = Field(default=0)
    met: int = Field(default=0)


def follow_up_flagged(column):
    """`holds_any(column, FOLLOW_UP_RISKS)` with the codes written into the SQL: a partial
    index below serves only a query whose WHERE says the same as the index's."""
    text_of = cast(column, String)
    codes = sorted(FOLLOW_UP_RISKS)
    return or_(*(text_of.like(literal_column(f"'%\"{code}\"%'")) for code in codes))


# the flagged visits and scale results, few among all: the dashboard's waiting risks read
# these instead of every visit of every person of the unit (tables of app/models.py, so
# kept with the supervision's other tables, here)
for _model, _at in ((Visit, Visit.occurred_at), (ScaleResult, ScaleResult.taken_at)):
    Index(
        f"ix_{_model.__tablename__}_follow_up_flag",
        _model.person_id,
        _at,
        sqlite_where=follow_up_flagged(_model.risk_flags),
        postgresql_where=follow_up_flagged(_model.risk_flags),
    )

# the columns the dashboard and the city view count a unit's people by: their GROUP BYs
# read this index alone, not every person's row
Index(
    "ix_person_unit_standing",
    Person.unit_id,
    Person.assigned_officer_id,
    Person.status,
    Person.release_date,
    Person.next_due_on,
    Person.last_contact_at,
)

CONTACT_KEY = ("unit_id", "month", "author_id", "kind")
ON_TIME_KEY = ("unit_id", "day", "author_id")


@dataclass(frozen=True)
class Contact:
    """A contact as the tallies see it."""

    id: uuid.UUID
    author_id: uuid.UUID
    kind: str
    occurred_at: datetime


@dataclass(frozen=True)
class Rules:
    grace_days: int
    cadence: list


@dataclass
class Her:
    """One person's place in the tallies: her unit, its rules, her release day, contacts."""

    unit_id: uuid.UUID
    rules: Rules | None
    release_date: date | None
    contacts: dict[uuid.UUID, Contact]


def is_contact(kind: str, failure_reason, check_in_link_id) -> bool:
    """`officer_contact()` and not an attempt, on values (the dashboard's contact)."""
    return failure_reason is None and check_in_link_id is None and kind != VisitKind.attempt


def _order(contact: Contact) -> tuple:
    return contact.occurred_at, contact.id


def contact_verdicts(
    contacts: Iterable[Contact], release: date | None, rules: Rules, zone, previous=None
):
    """(day, author, met) for each of her contacts that had a due date (module docstring);
    `previous`: the day of her contact after release just before these, if any."""
    for contact, day, before in _in_turn(contacts, release, zone, previous):
        met = _verdict(day, before, release, rules)
        if met is not None:
            yield day, contact.author_id, met


def _in_turn(contacts: Iterable[Contact], release: date | None, zone, previous=None):
    """(contact, its day, the day of her contact before it) for her contacts after release."""
    for contact in sorted(contacts, key=_order):
        day = _local_day(contact, zone)
        if release is not None and day < release:
            continue
        yield contact, day, previous
        previous = day


def _verdict(day: date, previous: date | None, release: date | None, rules: Rules):
    """Whether a contact on `day` met its due date; None when it had none."""
    base = previous if previous is not None else release
    if base is None:
        return None
    if previous is None:
        allowed = FIRST_CONTACT_DAYS
    else:
        since = (previous - release).days if release is not None else 0
        allowed = interval_for(rules.cadence, since)
    return (day - base).days <= allowed + rules.grace_days


def her_counts(her: Her, zone: ZoneInfo) -> tuple[Counter, Counter]:
    """Her contacts by CONTACT_KEY, and (rated, met) by ON_TIME_KEY + (column,)."""
    by_kind, on_time = Counter(), Counter()
    for contact in her.contacts.values():
        month = _local_day(contact, zone).replace(day=1)
        by_kind[(her.unit_id, month, contact.author_id, contact.kind)] += 1
    if her.rules is not None:
        verdicts = contact_verdicts(her.contacts.values(), her.release_date, her.rules, zone)
        for day, author_id, met in verdicts:
            on_time[(her.unit_id, day, author_id, "rated")] += 1
            on_time[(her.unit_id, day, author_id, "met")] += met
    return by_kind, on_time


def _local_day(contact: Contact, zone) -> date:
    return contact.occurred_at.astimezone(zone).date()


def _moved(before: Her | None, after: Her | None, changed: set, zone) -> tuple:
    """What a flush moves in the tallies for one person: only the changed contacts and the
    verdicts from the earliest of them on, unless her unit or release day changed."""
    whole = before is None or after is None
    whole = whole or (before.unit_id, before.release_date) != (after.unit_id, after.release_date)
    if whole:
        kinds_after, rated_after = her_counts(after, zone) if after else (Counter(), Counter())
        kinds_before, rated_before = her_counts(before, zone) if before else (Counter(), Counter())
        return _difference(kinds_after, kinds_before), _difference(rated_after, rated_before)
    versions = [c for her in (before, after) for c in map(her.contacts.get, changed) if c]
    if not versions:
        return {}, {}
    kinds = Counter()
    for sign, her in ((-1, before), (1, after)):
        for contact in filter(None, map(her.contacts.get, changed)):
            month = _local_day(contact, zone).replace(day=1)
            kinds[(her.unit_id, month, contact.author_id, contact.kind)] += sign
    # a verdict moves only for a contact whose own day or previous contact's day moved
    since = min(map(_order, versions))
    turns = [_turns(her, since, zone) for her in (before, after)]
    rated = Counter()
    for sign, her, mine, other in ((-1, before, *turns), (1, after, *turns[::-1])):
        for contact_id, (day, author_id, previous) in mine.items():
            if other.get(contact_id) == (day, author_id, previous) or her.rules is None:
                continue
            met = _verdict(day, previous, her.release_date, her.rules)
            if met is not None:
                rated[(her.unit_id, day, author_id, "rated")] += sign
                rated[(her.unit_id, day, author_id, "met")] += sign * met
    return {k: n for k, n in kinds.items() if n}, _nonzero(rated)


def _turns(her: Her, since: tuple, zone) -> dict:
    """Her contacts from `since` on: id -> (day, author, the day of her contact before)."""
    contacts = her.contacts.values()
    earlier = [c for c in contacts if _order(c) < since]
    previous = _local_day(max(earlier, key=_order), zone) if earlier else None
    if previous is not None and her.release_date is not None and previous < her.release_date:
        previous = None  # her contacts before release are not judged, nor judge
    later = [c for c in contacts if _order(c) >= since]
    return {
        contact.id: (day, contact.author_id, before)
        for contact, day, before in _in_turn(later, her.release_date, zone, previous)
    }


# --- the listener -------------------------------------------------------------------------


def _changed(obj, columns) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in columns)


def _old(obj, name):
    history = inspect(obj).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(obj, name)


def _flush_changes(session: OrmSession):
    """The visits and people this flush moves in the tallies, and units with new rules."""
    visits, people = [], []
    for obj in session.new:
        if isinstance(obj, Visit):
            visits.append(obj)
        elif isinstance(obj, Person):
            people.append(obj)
    for obj in session.dirty:
        if isinstance(obj, Visit) and _changed(obj, VISIT_COLUMNS):
            visits.append(obj)
        elif isinstance(obj, Person) and _changed(obj, PERSON_COLUMNS):
            people.append(obj)
    deleted = [obj for obj in session.deleted if isinstance(obj, Visit | Person)]
    units = [
        obj.id
        for obj in session.dirty
        if isinstance(obj, Unit) and obj.id is not None and _changed(obj, UNIT_RULES)
    ]
    return visits, people, deleted, units


def _contact(visit=Visit):
    return and_(officer_contact(visit), visit.kind != VisitKind.attempt)


def _stored(connection, person_ids: set, whole: set, since: datetime | None) -> dict:
    """Her unit, its rules, her release day and her contacts as stored, for each of these
    people: all her contacts (`whole`), else those from `since` on and the one before."""
    contact = and_(Visit.person_id == Person.id, _contact())
    if since is not None:
        earlier = aliased(Visit)
        before = (
            select(earlier.id)
            .where(earlier.person_id == Person.id, _contact(earlier), earlier.occurred_at < since)
            .order_by(earlier.occurred_at.desc(), earlier.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        wanted = [Visit.occurred_at >= since, Visit.id == before]
        if whole:
            wanted.append(Person.id.in_(sorted(whole)))
        contact = and_(contact, or_(*wanted))
    query = (
        select(
            Person.id,
            Person.unit_id,
            Person.release_date,
            Unit.grace_days,
            cast(Unit.default_cadence, String).label("cadence"),  # decoded once per unit
            Visit.id,
            Visit.author_id,
            Visit.kind,
            Visit.occurred_at,
        )
        .join(Unit, Unit.id == Person.unit_id)
        .outerjoin(Visit, contact)
        .where(Person.id.in_(sorted(person_ids)))
    )
    stored: dict[uuid.UUID, Her] = {}
    rules: dict[tuple, Rules] = {}
    for row in connection.execute(query):
        her = stored.get(row[0])
        if her is None:
            key = (row.grace_days, row.cadence)
            if key not in rules:
                rules[key] = Rules(row.grace_days, json.loads(row.cadence or "[]") or [])
            her = stored[row[0]] = Her(row.unit_id, rules[key], row.release_date, {})
        if row[5] is not None:
            her.contacts[row[5]] = Contact(row[5], row.author_id, row.kind, row.occurred_at)
    return stored


def _rules_of(session: OrmSession, connection, unit_ids: set) -> dict[uuid.UUID, Rules]:
    """The rules of units none of whose people are stored yet (a unit made in this flush)."""
    found = {}
    for unit_id in unit_ids:
        unit = session.identity_map.get(inspect(Unit).identity_key_from_primary_key((unit_id,)))
        if unit is not None:
            found[unit_id] = Rules(unit.grace_days, unit.default_cadence or [])
    missing = sorted(unit_ids - found.keys())
    if missing:
        query = select(Unit.id, Unit.grace_days, Unit.default_cadence).where(Unit.id.in_(missing))
        for unit_id, grace, cadence in connection.execute(query):
            found[unit_id] = Rules(grace, cadence or [])
    return found


def _after(session, connection, before: dict, visits, people, deleted) -> dict:
    """Her place once this flush is written: the stored one with its changes applied."""
    after = {
        person_id: Her(her.unit_id, her.rules, her.release_date, dict(her.contacts))
        for person_id, her in before.items()
    }
    for person in people:
        her = after.get(person.id)
        if her is None:
            after[person.id] = Her(person.unit_id, None, person.release_date, {})
        else:
            if her.unit_id != person.unit_id:
                her.rules = None  # her new unit's rules, below
            her.unit_id, her.release_date = person.unit_id, person.release_date
    for obj in deleted:
        if isinstance(obj, Person):
            after.pop(obj.id, None)
    gone = [obj for obj in deleted if isinstance(obj, Visit)]
    for visit in visits + gone:
        for person_id in (_old(visit, "person_id"), visit.person_id):
            if person_id in after:
                after[person_id].contacts.pop(visit.id, None)  # changed, moved or deleted
        if any(visit is other for other in gone):
            continue
        her = after.get(visit.person_id)
        if her is not None and is_contact(visit.kind, visit.failure_reason, visit.check_in_link_id):
            her.contacts[visit.id] = Contact(
                visit.id, visit.author_id, visit.kind, visit.occurred_at
            )
    unknown = {her.unit_id for her in after.values() if her.rules is None}
    if unknown:
        rules = _rules_of(session, connection, unknown)
        for her in after.values():
            if her.rules is None:
                her.rules = rules.get(her.unit_id)
    return after


def _nonzero(counts: Counter) -> dict:
    return {key: n for key, n in counts.items() if n}


def _difference(after: Counter, before: Counter) -> dict:
    keys = after.keys() | before.keys()
    return {key: after[key] - before[key] for key in keys if after[key] != before[key]}


def upsert(connection, table, key: tuple[str, ...], rows: dict[tuple, dict]) -> None:
    """Add each row's numbers to the tally row of its key (created at 0), in key order."""
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    values = [dict(zip(key, k, strict=True)) | rows[k] for k in sorted(rows)]
    columns = list(next(iter(rows.values())))
    for start in range(0, len(values), UPSERT_ROWS):
        statement = dialect.insert(table).values(values[start : start + UPSERT_ROWS])
        added = {name: table.c[name] + statement.excluded[name] for name in columns}
        connection.execute(statement.on_conflict_do_update(index_elements=key, set_=added))


def apply_counts(connection, by_kind: dict, on_time: dict) -> None:
    """Write tally differences: contacts by CONTACT_KEY, rated/met by ON_TIME_KEY + column."""
    if not by_kind and not on_time:
        return
    if connection.dialect.name == "postgresql":
        # every writer of visits takes the audit chain's lock before its commit; taking it
        # before the tally rows too, two writers never hold rows the other waits for
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    upsert(
        connection,
        ContactTally.__table__,
        CONTACT_KEY,
        {key: {"contacts": n} for key, n in by_kind.items()},
    )
    days: dict[tuple, dict] = {}
    for (*key, column), n in on_time.items():
        days.setdefault(tuple(key), {"rated": 0, "met": 0})[column] += n
    upsert(connection, OnTimeTally.__table__, ON_TIME_KEY, days)


@event.listens_for(OrmSession, "before_flush")
def _follow_the_visits(session: OrmSession, _context, _instances) -> None:
    visits, people, deleted, units = _flush_changes(session)
    session.info[RECOUNT] = units
    if not (visits or deleted or any(p not in session.new for p in people)):
        return  # nothing, or only new people with no visit yet
    # people whose every contact may move (her unit, her release day, a moment unknown);
    # for the others, what a flush moves starts at the earliest moment it touches
    whole = {p.id for p in people} | {obj.id for obj in deleted if isinstance(obj, Person)}
    person_ids, moments = set(whole), []
    for visit in visits + [obj for obj in deleted if isinstance(obj, Visit)]:
        person_ids |= {visit.person_id, _old(visit, "person_id")}
        old = inspect(visit).attrs.occurred_at.history
        if old.has_changes() and not old.deleted and visit not in session.new:
            whole |= {visit.person_id, _old(visit, "person_id")}  # the moment it had: unread
        moments += [visit.occurred_at, *old.deleted]
    person_ids.discard(None)
    connection = session.connection()
    zone = schedule_zone()
    since = min(moments) if moments and person_ids - whole else None
    before = _stored(connection, person_ids, whole, since)
    after = _after(session, connection, before, visits, people, deleted)
    changed: dict[uuid.UUID, set] = {}
    for visit in visits + [obj for obj in deleted if isinstance(obj, Visit)]:
        for person_id in (visit.person_id, _old(visit, "person_id")):
            changed.setdefault(person_id, set()).add(visit.id)
    kinds, rated = Counter(), Counter()
    for person_id in person_ids:
        moved_kinds, moved_rated = _moved(
            before.get(person_id), after.get(person_id), changed.get(person_id, set()), zone
        )
        kinds.update(moved_kinds)
        rated.update(moved_rated)
    apply_counts(connection, _nonzero(kinds), _nonzero(rated))


@event.listens_for(OrmSession, "after_flush")
def _recount_new_rules(session: OrmSession, _context) -> None:
    units = session.info.pop(RECOUNT, None)
    if units:
        from app.supervision.recount import recount

        recount(session.connection(), schedule_zone(), unit_ids=units)


@event.listens_for(OrmSession, "do_orm_execute")
def _refuse_bulk_visit_writes(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ is not Visit:
        return
    if state.execution_options.get("contact_tallies") != "recount":
        raise RuntimeError(
            "visits change through the session (add, delete, attributes) so the contact "
            "tallies follow; a bulk statement must say contact_tallies='recount' and recount"
        )
