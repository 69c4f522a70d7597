"""The periodic report (月报 / 季报 / 年报): a unit's figures for a month, quarter or year.

No Flask here: `build_report(session, user, period, zone=...)` runs a fixed number of SQL
aggregate queries (`QUERIES`), scoped by the policy's `units_scope`, whatever the number of
people or visits. Figures are counts only: no person is named, and officers (staff, not
the women) are named only to a reader who may see their accounts (`colleagues_scope`).

What each figure counts, for the people of a unit (a person's unit is her current one):

- *follow-up* (人次): a completed contact, that is a visit of any kind but `attempt` with
  no `failure_reason`, whose `occurred_at` falls in the period. A failed attempt (kind
  `attempt`, or any visit with a failure reason) is not a follow-up; attempts are counted
  on their own line. `follow_up` (scheduled follow-up, 定期回访) is a follow-up kind of its
  own, beside the seven kinds of the studio's report.
- *people reached*: distinct people with at least one follow-up in the period.
- *by officer*: follow-ups by who recorded them; a peer helper's are added up in one row
  (peer helpers are former residents: their names stay out of reports).
- *support applications received*: first versions of a support application (consent
  version 1) signed on a day of the period.
- *consents withdrawn*: support applications whose `withdrawn_at` falls in the period.
- *released*: people whose release date is a day of the period; *first contacted in time*:
  those of them with a follow-up on a local day from the release day to `first_contact_days`
  (FIRST_CONTACT_DAYS unless given) days after it, even when that day is after the period
  (a report of a period that ended less than that many days ago may still rise);
  *prepared before release* (出所前完成准备): those of them whose six release preparation
  items (`ReleaseItem`) all stand done, each marked done on a local day before the release
  day (an item undone again, or done only on or after that day, does not count).
- *lost contact*: distinct people with a status change to `lost_contact` taking effect on a
  day of the period.
- *risk flags raised*: flags on follow-ups in the period, one per flag code on a visit;
  *handled*: of those, the flags of a visit followed by another follow-up with the same
  person after it and before the period's end.
- *peer helpers active*: peer helpers who recorded a follow-up in the period; *talks* and
  *check-ins*: their follow-ups of kind `talk` and `online_check_in`. A helper active in
  two units counts in each.
- *group sessions* (团体活动, 次): group sessions of the unit held in the period, each once
  however many attended; each attendee's visit is a follow-up (人次) under its kind above.
  *led by peer helpers*: those of them a peer helper led.

Time: `occurred_at` and `withdrawn_at` are UTC; a period is whole calendar days in the
city's zone (`zone`), so a visit at 23:30 local on the last day of a month is that month's.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, String, and_, case, cast, exists, func, literal, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.models import (
    FIRST_CONTACT_DAYS,
    Consent,
    GroupSession,
    Person,
    PersonStatus,
    ReleaseItem,
    ReleasePreparation,
    RiskFlag,
    Role,
    StatusChange,
    Unit,
    User,
    Visit,
    VisitKind,
    holds_any,
)
from app.policy import Action, can, colleagues_scope, units_scope
from app.supervision.period import Period, day_start
from app.types import UTCDateTime

# the kinds of follow-up in the order of the studio's report; attempts are not follow-ups
FOLLOW_UP_KINDS = (
    VisitKind.phone_consultation,
    VisitKind.home_visit,
    VisitKind.psychological_training,
    VisitKind.family_therapy,
    VisitKind.parent_child_counselling,
    VisitKind.talk,
    VisitKind.online_check_in,
    VisitKind.follow_up,
    VisitKind.group_counselling,
)
RISK_FLAGS = tuple(RiskFlag)
OTHERS_ORDER = 1  # named staff first, then the unnamed, then the peer helpers
# the SQL statements `build_report` runs, whatever the size of the units
QUERIES = 8


@dataclass
class Figures:
    """One unit's figures for the period (or the sum of several units')."""

    follow_ups_by_kind: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    people_reached: int = 0
    applications: int = 0
    consents_withdrawn: int = 0
    released: int = 0
    first_contact_in_time: int = 0
    prepared_before_release: int = 0
    lost_contact: int = 0
    risk_flags_raised: dict[str, int] = field(default_factory=dict)
    risk_flags_handled: dict[str, int] = field(default_factory=dict)
    helpers_active: int = 0
    helper_talks: int = 0
    helper_check_ins: int = 0
    group_sessions: int = 0
    helper_group_sessions: int = 0

    @property
    def follow_ups(self) -> int:
        return sum(self.follow_ups_by_kind.values())

    @property
    def risk_flags_raised_total(self) -> int:
        return sum(self.risk_flags_raised.values())

    @property
    def risk_flags_handled_total(self) -> int:
        return sum(self.risk_flags_handled.values())

    @property
    def first_contact_share(self) -> float | None:
        """The share of people released in the period first contacted in time, 0 to 1."""
        return self.first_contact_in_time / self.released if self.released else None

    @property
    def prepared_share(self) -> float | None:
        """The share of people released in the period prepared before release, 0 to 1."""
        return self.prepared_before_release / self.released if self.released else None


# the figures added up across units, in the order reports show them
COUNT_FIELDS = (
    "attempts",
    "people_reached",
    "applications",
    "consents_withdrawn",
    "released",
    "first_contact_in_time",
    "prepared_before_release",
    "lost_contact",
    "helpers_active",
    "helper_talks",
    "helper_check_ins",
    "group_sessions",
    "helper_group_sessions",
)


@dataclass(frozen=True)
class UnitFigures:
    unit_id: uuid.UUID
    name: str
    figures: Figures


@dataclass(frozen=True)
class OfficerRow:
    """Follow-ups one staff member recorded, or a group's added up with no name."""

    # her display name for `officer`; None for `other_staff` (staff out of the reader's
    # view, named nowhere) and `peer_helpers` (every helper's together)
    name: str | None
    group: str
    by_kind: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


@dataclass(frozen=True)
class Report:
    period: Period
    first_contact_days: int
    units: list[UnitFigures]
    total: Figures
    # by who recorded them: only for one unit and a reader who may see its staff's names
    by_officer: list[OfficerRow] | None


def _sum(figures: list[Figures]) -> Figures:
    total = Figures(
        follow_ups_by_kind={
            k: sum(f.follow_ups_by_kind[k] for f in figures) for k in FOLLOW_UP_KINDS
        },
        risk_flags_raised={k: sum(f.risk_flags_raised[k] for f in figures) for k in RISK_FLAGS},
        risk_flags_handled={k: sum(f.risk_flags_handled[k] for f in figures) for k in RISK_FLAGS},
    )
    for name in COUNT_FIELDS:
        setattr(total, name, sum(getattr(f, name) for f in figures))
    return total


def _empty() -> Figures:
    return Figures(
        follow_ups_by_kind=dict.fromkeys(FOLLOW_UP_KINDS, 0),
        risk_flags_raised=dict.fromkeys(RISK_FLAGS, 0),
        risk_flags_handled=dict.fromkeys(RISK_FLAGS, 0),
    )


def completed(visit=Visit):
    """A WHERE clause on visits: a contact that reached her (not a failed attempt)."""
    return and_(visit.failure_reason.is_(None), visit.kind != VisitKind.attempt)


def _has_flag(code: str):
    return holds_any(Visit.risk_flags, [code])


def _local_day_start(session, day_column, days: list[date], zone: ZoneInfo, *, after: int = 0):
    """An SQL expression: the UTC moment the local day `after` days past `day_column` begins.

    PostgreSQL knows the zones (`timezone(zone, timestamp)`); SQLite does not, so there the
    answer for each day that can occur (a year at most) is worked out here and sent as a CASE.
    """
    if session.get_bind().dialect.name == "postgresql":
        return func.timezone(zone.key, cast(day_column + after, DateTime))
    whens = {
        day: literal(day_start(day + timedelta(days=after), zone), UTCDateTime()) for day in days
    }
    return case(whens, value=day_column, else_=literal(None, UTCDateTime()))


def build_report(
    session: Session,
    user: User,
    period: Period,
    *,
    zone: ZoneInfo,
    unit_id: uuid.UUID | None = None,
    first_contact_days: int = FIRST_CONTACT_DAYS,
) -> Report:
    """The report of the units `user` may read (or of one of them) for `period`.

    Runs `QUERIES` aggregate statements, however many people and visits there are.
    """
    start, until = period.bounds(zone)
    units_where = units_scope(user, Unit.id)
    if unit_id is not None:
        units_where = and_(units_where, Unit.id == unit_id)
    units = session.exec(select(Unit.id, Unit.name).where(units_where).order_by(Unit.name)).all()
    figures = {row.id: _empty() for row in units}
    ids = list(figures)
    people = Person.unit_id.in_(ids)
    in_period = and_(Visit.occurred_at >= start, Visit.occurred_at < until)

    by_officer = _contacts(session, user, figures, people, in_period)
    _reached(session, figures, people, in_period)
    _applications(session, figures, people, period, start, until)
    _releases(session, figures, people, period, zone, first_contact_days)
    _lost_contact(session, figures, people, period)
    _risk_flags(session, figures, people, in_period, until)
    _group_sessions(session, figures, ids, start, until)

    unit_rows = [UnitFigures(row.id, row.name, figures[row.id]) for row in units]
    return Report(
        period=period,
        first_contact_days=first_contact_days,
        units=unit_rows,
        total=_sum([u.figures for u in unit_rows]) if unit_rows else _empty(),
        # staff by name: one unit, for a reader who may see its accounts (not a director)
        by_officer=by_officer if len(unit_rows) == 1 and can(user, Action.user_view) else None,
    )


def _contacts(session, user, figures, people, in_period) -> list[OfficerRow]:
    """Visits in the period by unit, author and kind: follow-ups, attempts, peer helpers."""
    # a name only for a reader who may see her account; max() over one author's rows
    named = func.max(case((colleagues_scope(user), User.display_name), else_=None))
    # grouped on expressions free of bound values: PostgreSQL matches GROUP BY to SELECT
    reached_her = Visit.failure_reason.is_(None)
    rows = session.exec(
        select(
            Person.unit_id,
            Visit.author_id,
            User.role,
            named,
            Visit.kind,
            reached_her,
            func.count(),
        )
        .select_from(Visit)
        .join(Person, Person.id == Visit.person_id)
        .join(User, User.id == Visit.author_id)
        .where(people, in_period)
        .group_by(Person.unit_id, Visit.author_id, User.role, Visit.kind, reached_her)
    ).all()
    helpers: dict[uuid.UUID, set] = {}
    officers: dict[tuple, dict[str, int]] = {}
    names: dict[uuid.UUID, str] = {}
    for unit_id, author_id, role, name, kind, reached, count in rows:
        unit = figures[unit_id]
        if not reached or kind not in unit.follow_ups_by_kind:
            unit.attempts += count
            continue
        unit.follow_ups_by_kind[kind] += count
        helper = role == Role.peer_helper
        if helper:
            helpers.setdefault(unit_id, set()).add(author_id)
            unit.helper_talks += count if kind == VisitKind.talk else 0
            unit.helper_check_ins += count if kind == VisitKind.online_check_in else 0
        if helper:
            key = (OTHERS_ORDER + 1, "peer_helpers", None)
        elif name:
            key = (0, name, author_id)
            names[author_id] = name
        else:
            key = (OTHERS_ORDER, "other_staff", None)
        kinds = officers.setdefault(key, dict.fromkeys(FOLLOW_UP_KINDS, 0))
        kinds[kind] += count
    for unit_id, authors in helpers.items():
        figures[unit_id].helpers_active = len(authors)
    return [
        OfficerRow(
            name=names.get(key[2]),
            group="officer" if key[0] == 0 else key[1],
            by_kind=officers[key],
        )
        for key in sorted(officers, key=lambda key: (key[0], key[1], str(key[2])))
    ]


def _reached(session, figures, people, in_period) -> None:
    rows = session.exec(
        select(Person.unit_id, func.count(func.distinct(Visit.person_id)))
        .select_from(Visit)
        .join(Person, Person.id == Visit.person_id)
        .where(people, in_period, completed())
        .group_by(Person.unit_id)
    ).all()
    for unit_id, count in rows:
        figures[unit_id].people_reached = count


def _applications(session, figures, people, period, start, until) -> None:
    received = and_(
        Consent.version == 1, Consent.signed_on >= period.start, Consent.signed_on <= period.end
    )
    withdrawn = and_(Consent.withdrawn_at >= start, Consent.withdrawn_at < until)
    rows = session.exec(
        select(
            Person.unit_id,
            func.sum(case((received, 1), else_=0)),
            func.sum(case((withdrawn, 1), else_=0)),
        )
        .select_from(Consent)
        .join(Person, Person.id == Consent.person_id)
        .where(people, or_(received, withdrawn))
        .group_by(Person.unit_id)
    ).all()
    for unit_id, count_received, count_withdrawn in rows:
        figures[unit_id].applications = int(count_received or 0)
        figures[unit_id].consents_withdrawn = int(count_withdrawn or 0)


def _releases(session, figures, people, period, zone, first_contact_days) -> None:
    days = [period.start + timedelta(days=n) for n in range((period.end - period.start).days + 1)]
    released_from = _local_day_start(session, Person.release_date, days, zone)
    # the window ends as the local day after release day + N begins
    in_time_until = _local_day_start(
        session, Person.release_date, days, zone, after=first_contact_days + 1
    )
    contact = aliased(Visit)
    in_time = exists().where(
        contact.person_id == Person.id,
        completed(contact),
        contact.occurred_at >= released_from,
        contact.occurred_at < in_time_until,
    )
    # in the same statement: her items done, each marked before her release day
    done_before = (
        select(func.count())
        .select_from(ReleasePreparation)
        .where(
            ReleasePreparation.person_id == Person.id,
            ReleasePreparation.done,
            ReleasePreparation.marked_on < Person.release_date,
        )
        .scalar_subquery()
    )
    prepared = done_before >= len(ReleaseItem)
    rows = session.exec(
        select(
            Person.unit_id,
            func.count(),
            func.sum(case((in_time, 1), else_=0)),
            func.sum(case((prepared, 1), else_=0)),
        )
        .where(people, Person.release_date >= period.start, Person.release_date <= period.end)
        .group_by(Person.unit_id)
    ).all()
    for unit_id, released, in_time_count, prepared_count in rows:
        figures[unit_id].released = released
        figures[unit_id].first_contact_in_time = int(in_time_count or 0)
        figures[unit_id].prepared_before_release = int(prepared_count or 0)


def _group_sessions(session, figures, ids, start, until) -> None:
    """Group sessions held in the period, once each, and those a peer helper led."""
    led_by_helper = User.role == Role.peer_helper
    rows = session.exec(
        select(GroupSession.unit_id, led_by_helper, func.count())
        .select_from(GroupSession)
        .join(User, User.id == GroupSession.leader_id)
        .where(
            GroupSession.unit_id.in_(ids),
            GroupSession.occurred_at >= start,
            GroupSession.occurred_at < until,
        )
        .group_by(GroupSession.unit_id, led_by_helper)
    ).all()
    for unit_id, helper, count in rows:
        figures[unit_id].group_sessions += count
        if helper:
            figures[unit_id].helper_group_sessions += count


def _lost_contact(session, figures, people, period) -> None:
    rows = session.exec(
        select(Person.unit_id, func.count(func.distinct(StatusChange.person_id)))
        .select_from(StatusChange)
        .join(Person, Person.id == StatusChange.person_id)
        .where(
            people,
            StatusChange.to_status == PersonStatus.lost_contact,
            StatusChange.effective_on >= period.start,
            StatusChange.effective_on <= period.end,
        )
        .group_by(Person.unit_id)
    ).all()
    for unit_id, count in rows:
        figures[unit_id].lost_contact = count


def _risk_flags(session, figures, people, in_period, until) -> None:
    later = aliased(Visit)
    handled = exists().where(
        later.person_id == Visit.person_id,
        completed(later),
        later.occurred_at > Visit.occurred_at,
        later.occurred_at < until,
    )
    # each flagged visit once, with whether it was handled; the flags are counted over it
    flagged = (
        select(
            Person.unit_id.label("unit_id"),
            cast(Visit.risk_flags, String).label("flags"),
            case((handled, 1), else_=0).label("handled"),
        )
        .select_from(Visit)
        .join(Person, Person.id == Visit.person_id)
        .where(people, in_period, completed(), or_(*(_has_flag(code) for code in RISK_FLAGS)))
        .subquery()
    )
    columns = []
    for code in RISK_FLAGS:
        has = flagged.c.flags.like(f'%"{code}"%')
        columns.append(func.sum(case((has, 1), else_=0)))
        columns.append(func.sum(case((has, flagged.c.handled), else_=0)))
    rows = session.exec(select(flagged.c.unit_id, *columns).group_by(flagged.c.unit_id)).all()
    for unit_id, *sums in rows:
        for index, code in enumerate(RISK_FLAGS):
            figures[unit_id].risk_flags_raised[code] = int(sums[2 * index] or 0)
            figures[unit_id].risk_flags_handled[code] = int(sums[2 * index + 1] or 0)
