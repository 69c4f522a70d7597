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

Every flush that writes a visit keeps them (`app.supervision.tally_upkeep`), upserting
the difference with one statement per table, keys in sorted order, `n = n + excluded.n`,
after taking the audit chain's lock on PostgreSQL (every visit write takes it before its
commit anyway): no lost update, no deadlock between two writers. `flask supervision
check-tallies` compares the tables with a recount from the visits (`app.supervision.
recount`).
"""

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Index,
    String,
    and_,
    cast,
    literal_column,
    or_,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel

from app.audit import CHAIN_LOCK
from app.due import officer_contact
from app.models import (
    FIRST_CONTACT_DAYS,
    FOLLOW_UP_RISKS,
    Person,
    ScaleResult,
    Visit,
    VisitKind,
)
from app.schedule import interval_for


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


def counted_contact(visit=Visit):
    """A WHERE clause on visits (or an alias of them): the dashboard's contact,
    `officer_contact()` and not an attempt."""
    return and_(officer_contact(visit), visit.kind != VisitKind.attempt)


def is_contact(kind: str, failure_reason, check_in_link_id) -> bool:
    """`officer_contact()` and not an attempt, on values (the dashboard's contact)."""
    return failure_reason is None and check_in_link_id is None and kind != VisitKind.attempt


def moment_order(contact: Contact) -> tuple:
    return contact.occurred_at, contact.id


def contact_verdicts(
    contacts: Iterable[Contact], release: date | None, rules: Rules, zone, previous=None
):
    """(day, author, met) for each of her contacts that had a due date (module docstring);
    `previous`: the day of her contact after release just before these, if any."""
    for contact, day, before in in_turn(contacts, release, zone, previous):
        met = verdict(day, before, release, rules)
        if met is not None:
            yield day, contact.author_id, met


def in_turn(contacts: Iterable[Contact], release: date | None, zone, previous=None):
    """(contact, its day, the day of her contact before it) for her contacts after release."""
    for contact in sorted(contacts, key=moment_order):
        day = local_day(contact, zone)
        if release is not None and day < release:
            continue
        yield contact, day, previous
        previous = day


def verdict(day: date, previous: date | None, release: date | None, rules: Rules):
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
        month = local_day(contact, zone).replace(day=1)
        by_kind[(her.unit_id, month, contact.author_id, contact.kind)] += 1
    if her.rules is not None:
        verdicts = contact_verdicts(her.contacts.values(), her.release_date, her.rules, zone)
        for day, author_id, met in verdicts:
            on_time[(her.unit_id, day, author_id, "rated")] += 1
            on_time[(her.unit_id, day, author_id, "met")] += met
    return by_kind, on_time


def local_day(contact: Contact, zone) -> date:
    return contact.occurred_at.astimezone(zone).date()


@cache
def _upsert_statement(dialect_name: str, table, key: tuple[str, ...], columns: tuple[str, ...]):
    """INSERT one tally row, or add its numbers to the row of its key: built once."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table)
    added = {name: table.c[name] + statement.excluded[name] for name in columns}
    return statement.on_conflict_do_update(index_elements=key, set_=added)


def upsert(connection, table, key: tuple[str, ...], rows: dict[tuple, dict]) -> None:
    """Add each row's numbers to the tally row of its key (created at 0), in key order."""
    if not rows:
        return
    columns = tuple(next(iter(rows.values())))
    statement = _upsert_statement(connection.dialect.name, table, key, columns)
    connection.execute(statement, [dict(zip(key, k, strict=True)) | rows[k] for k in sorted(rows)])


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
