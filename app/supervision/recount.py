"""The contact tallies counted again from the visits, set-based, on SQLite and PostgreSQL.

`recount` rebuilds them (the migration's backfill, `check-tallies --fix`, a unit whose
grace days or cadence changed) with one INSERT ... SELECT per table; `check_tallies`
compares what is stored with the recount. The rule is the one `app.supervision.tallies`
applies at each write, in SQL: each contact after release judged against the one before
it (`LAG` over her contacts after release, ordered by moment and id).

Local days: PostgreSQL converts with the zone itself; SQLite, which has no zones, with the
zone's offset now (exact for a zone without daylight saving, as Asia/Shanghai).
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, case, cast, delete, func, insert, literal, or_, select

from app.models import FIRST_CONTACT_DAYS, Person, Unit, Visit
from app.supervision.tallies import (
    CONTACT_KEY,
    ON_TIME_KEY,
    ContactTally,
    OnTimeTally,
    counted_contact,
)


class _Calendar:
    """Local days and months of UTC moments, as SQL expressions."""

    def __init__(self, dialect: str, zone: ZoneInfo):
        self.postgres = dialect == "postgresql"
        self.zone = zone
        offset = datetime.now(zone).utcoffset()
        self.modifier = f"{int(offset.total_seconds()):+d} seconds"

    def day(self, moment):
        if self.postgres:
            return cast(func.timezone(self.zone.key, moment), Date)
        return func.date(moment, self.modifier, type_=Date)

    def month(self, moment):
        if self.postgres:
            return cast(func.date_trunc("month", func.timezone(self.zone.key, moment)), Date)
        return func.date(moment, self.modifier, "start of month", type_=Date)

    def number(self, day):
        """A day as an integer: only differences between two are used."""
        if self.postgres:
            return day - literal(date(1970, 1, 1), Date)
        return cast(func.julianday(day), Integer)


def interval_case(cadence: list[dict], since_release):
    """`app.schedule.interval_for` in SQL: days between contacts in the phase of that day."""
    whens = []
    for step in cadence:
        if step.get("until_day") is None:
            return case(*whens, else_=int(step["every_days"])) if whens else int(step["every_days"])
        whens.append((since_release < int(step["until_day"]), int(step["every_days"])))
    last = int(cadence[-1]["every_days"]) if cadence else 30
    return case(*whens, else_=last) if whens else literal(last)


def _where(unit_ids):
    return [Person.unit_id.in_(sorted(unit_ids))] if unit_ids is not None else []


def _contacts(calendar: _Calendar, unit_ids):
    """Every contact with its unit, author, kind, local day and month."""
    return (
        select(
            Person.unit_id.label("unit_id"),
            Visit.author_id.label("author_id"),
            Visit.kind.label("kind"),
            calendar.month(Visit.occurred_at).label("month"),
        )
        .join(Person, Person.id == Visit.person_id)
        .where(counted_contact(), *_where(unit_ids))
    )


def _verdicts(calendar: _Calendar, units: list[tuple], unit_ids):
    """(unit, day, author, met) for each contact after release that had a due date."""
    day = calendar.day(Visit.occurred_at)
    number = calendar.number(day)
    release = calendar.number(Person.release_date)
    after_release = or_(Person.release_date.is_(None), number >= release)
    contacts = (
        select(
            Person.unit_id.label("unit_id"),
            Visit.author_id.label("author_id"),
            day.label("day"),
            number.label("n"),
            release.label("release_n"),
            func.lag(number)
            .over(partition_by=Visit.person_id, order_by=(Visit.occurred_at, Visit.id))
            .label("prev_n"),
        )
        .join(Person, Person.id == Visit.person_id)
        .where(counted_contact(), after_release)
        .where(*_where(unit_ids))
        .subquery()
    )
    c = contacts.c
    since_release = case((c.release_n.is_(None), 0), else_=c.prev_n - c.release_n)

    def allowed(cadence, grace):
        interval = case(
            (c.prev_n.is_(None), FIRST_CONTACT_DAYS),
            else_=interval_case(cadence or [], since_release),
        )
        return interval + grace

    rules = case(
        *[(c.unit_id == unit_id, allowed(cadence, grace)) for unit_id, grace, cadence in units],
        else_=-1,
    )
    base = func.coalesce(c.prev_n, c.release_n)
    met = case((c.n - base <= rules, 1), else_=0)
    return select(c.unit_id, c.day, c.author_id, met.label("met")).where(base.is_not(None))


def _units(connection, unit_ids) -> list[tuple]:
    query = select(Unit.id, Unit.grace_days, Unit.default_cadence).order_by(Unit.id)
    if unit_ids is not None:
        query = query.where(Unit.id.in_(sorted(unit_ids)))
    return [tuple(row) for row in connection.execute(query)]


def _counted(connection, zone: ZoneInfo, unit_ids):
    """The two tallies as the visits say, as SELECTs grouped by their keys."""
    calendar = _Calendar(connection.dialect.name, zone)
    units = _units(connection, unit_ids)
    k = _contacts(calendar, unit_ids).subquery().c
    by_kind = select(
        k.unit_id, k.month, k.author_id, k.kind, func.count().label("contacts")
    ).group_by(k.unit_id, k.month, k.author_id, k.kind)
    v = _verdicts(calendar, units, unit_ids).subquery().c if units else None
    on_time = (
        select(
            v.unit_id, v.day, v.author_id, func.count().label("rated"), func.sum(v.met).label("met")
        ).group_by(v.unit_id, v.day, v.author_id)
        if units
        else None
    )
    return by_kind, on_time


def recount(connection, zone: ZoneInfo, *, unit_ids=None) -> None:
    """Replace the tallies of these units (None: all) by a count from the visits."""
    unit_ids = list(unit_ids) if unit_ids is not None else None
    for table in (ContactTally, OnTimeTally):
        query = delete(table)
        if unit_ids is not None:
            query = query.where(table.unit_id.in_(sorted(unit_ids)))
        connection.execute(query)
    by_kind, on_time = _counted(connection, zone, unit_ids)
    connection.execute(insert(ContactTally).from_select([*CONTACT_KEY, "contacts"], by_kind))
    if on_time is not None:
        columns = [*ON_TIME_KEY, "rated", "met"]
        connection.execute(insert(OnTimeTally).from_select(columns, on_time))


@dataclass(frozen=True)
class TallyDifference:
    table: str
    key: tuple
    stored: tuple
    counted: tuple

    def __str__(self) -> str:
        key = ", ".join(str(part) for part in self.key)
        return f"{self.table} ({key}): stored {self.stored}, counted {self.counted}"


def check_tallies(connection, zone: ZoneInfo) -> list[TallyDifference]:
    """Every tally row that differs from a count from the visits (rows of zeros aside),
    found by the database: a full outer join of what is stored and what is counted."""
    by_kind, on_time = _counted(connection, zone, None)
    found = _differing(connection, ContactTally, CONTACT_KEY, ("contacts",), by_kind)
    if on_time is not None:
        found += _differing(connection, OnTimeTally, ON_TIME_KEY, ("rated", "met"), on_time)
    return found


def _differing(connection, model, key, values, counted) -> list[TallyDifference]:
    table, count = model.__table__, counted.subquery()
    same_key = and_(*(table.c[name] == count.c[name] for name in key))
    query = (
        select(
            *(func.coalesce(table.c[name], count.c[name]) for name in key),
            *(func.coalesce(table.c[name], 0) for name in values),
            *(func.coalesce(count.c[name], 0) for name in values),
        )
        .select_from(table.join(count, same_key, full=True))
        .where(
            or_(
                *(
                    func.coalesce(table.c[name], 0) != func.coalesce(count.c[name], 0)
                    for name in values
                )
            )
        )
    )
    width = len(values)
    return [
        TallyDifference(
            table.name,
            tuple(row[: len(key)]),
            tuple(int(n) for n in row[len(key) : len(key) + width]),
            tuple(int(n) for n in row[len(key) + width :]),
        )
        for row in connection.execute(query)
    ]
