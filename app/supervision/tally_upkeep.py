"""The contact tallies kept by every write: one listener on every session's flush.

`before_flush` sees every new, changed and deleted Visit (the forms, a sync batch's
deferred INSERT, corrections, check-ins, a group session's derived visits) and every
person whose unit or release day changes. It reads the contacts of the people concerned
as stored (one query: those from the earliest moment the flush touches on, and the one
before it; all of hers when her unit or release day changes), applies the flush's changes
to them in memory, judges again only the contacts whose day or previous contact moved,
and writes the difference (`app.supervision.tallies.apply_counts`). `after_flush`
recounts the tallies of a unit whose grace days or cadence changed
(`app.supervision.recount`). ORM bulk statements on visits (`insert(Visit)` and the like)
bypass the unit of work: they are refused unless they say `contact_tallies="recount"`,
and their caller recounts after (as the benchmark seeds do).

Registered by importing `app.supervision` (its `__init__`), so every process that can
write a visit through the app keeps the tallies.
"""

import json
import uuid
from collections import Counter
from datetime import datetime
from functools import cache

from sqlalchemy import String, and_, bindparam, cast, event, inspect, select, union
from sqlalchemy.orm import ORMExecuteState, aliased
from sqlalchemy.orm import Session as OrmSession

from app.due import schedule_zone
from app.models import Person, Unit, Visit
from app.supervision.tallies import (
    Contact,
    Her,
    Rules,
    apply_counts,
    counted_contact,
    her_counts,
    in_turn,
    is_contact,
    local_day,
    moment_order,
    verdict,
)

# the columns whose change moves a visit's or a person's place in the tallies
VISIT_COLUMNS = ("person_id", "author_id", "kind", "occurred_at", "failure_reason")
VISIT_COLUMNS += ("check_in_link_id",)
PERSON_COLUMNS = ("unit_id", "release_date")
UNIT_RULES = ("grace_days", "default_cadence")
RECOUNT = "contact_tallies_recount"  # session.info: units whose rules changed in a flush


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
            month = local_day(contact, zone).replace(day=1)
            kinds[(her.unit_id, month, contact.author_id, contact.kind)] += sign
    # a verdict moves only for a contact whose own day or previous contact's day moved
    since = min(map(moment_order, versions))
    turns = [_turns(her, since, zone) for her in (before, after)]
    rated = Counter()
    for sign, her, mine, other in ((-1, before, *turns), (1, after, *turns[::-1])):
        for contact_id, (day, author_id, previous) in mine.items():
            if other.get(contact_id) == (day, author_id, previous) or her.rules is None:
                continue
            met = verdict(day, previous, her.release_date, her.rules)
            if met is not None:
                rated[(her.unit_id, day, author_id, "rated")] += sign
                rated[(her.unit_id, day, author_id, "met")] += sign * met
    return {k: n for k, n in kinds.items() if n}, _nonzero(rated)


def _turns(her: Her, since: tuple, zone) -> dict:
    """Her contacts from `since` on: id -> (day, author, the day of her contact before)."""
    contacts = her.contacts.values()
    earlier = [c for c in contacts if moment_order(c) < since]
    previous = local_day(max(earlier, key=moment_order), zone) if earlier else None
    if previous is not None and her.release_date is not None and previous < her.release_date:
        previous = None  # her contacts before release are not judged, nor judge
    later = [c for c in contacts if moment_order(c) >= since]
    return {
        contact.id: (day, contact.author_id, before)
        for contact, day, before in in_turn(later, her.release_date, zone, previous)
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


@cache
def _stored_query(since: bool, whole: bool):
    """The statement `_stored` runs, built once for each shape: building it costs more than
    running it (a few milliseconds a flush). Parameters: people, since, whole.

    With `since`, the contacts wanted are listed first, each part through the index on
    (person, moment): hers from `since` on, the one just before, all of the `whole`
    people's. One join condition with an OR of these had PostgreSQL scan every visit.
    """
    people = bindparam("people", expanding=True)
    columns = (
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
    query = select(*columns).join(Unit, Unit.id == Person.unit_id).where(Person.id.in_(people))
    if not since:
        return query.outerjoin(Visit, and_(Visit.person_id == Person.id, counted_contact()))
    earlier = aliased(Visit)
    before = (
        select(earlier.id)
        .where(
            earlier.person_id == Person.id,
            counted_contact(earlier),
            earlier.occurred_at < bindparam("since"),
        )
        .order_by(earlier.occurred_at.desc(), earlier.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    parts = [
        select(Visit.id.label("visit_id"), Visit.person_id.label("person_id")).where(
            Visit.person_id.in_(people), counted_contact(), Visit.occurred_at >= bindparam("since")
        ),
        select(before.label("visit_id"), Person.id.label("person_id")).where(Person.id.in_(people)),
    ]
    if whole:
        everything = Visit.person_id.in_(bindparam("whole", expanding=True))
        parts.append(select(Visit.id, Visit.person_id).where(everything, counted_contact()))
    wanted = union(*parts).subquery("wanted")
    return query.outerjoin(wanted, wanted.c.person_id == Person.id).outerjoin(
        Visit, Visit.id == wanted.c.visit_id
    )


def _stored(connection, person_ids: set, whole: set, since: datetime | None) -> dict:
    """Her unit, its rules, her release day and her contacts as stored, for each of these
    people: all her contacts (`whole`), else those from `since` on and the one before."""
    parameters = {"people": sorted(person_ids)}
    if since is not None:
        parameters["since"] = since
        if whole:
            parameters["whole"] = sorted(whole)
    query = _stored_query("since" in parameters, "whole" in parameters)
    stored: dict[uuid.UUID, Her] = {}
    rules: dict[tuple, Rules] = {}
    for row in connection.execute(query, parameters):
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
