"""Where a unit stands, and every unit side by side: figures from SQL aggregates, no Flask.

`unit_dashboard(session, user, today=..., zone=...)` runs at most `DASHBOARD_QUERIES`
statements and `city_view(...)` at most `CITY_QUERIES`, whatever the number of people or
visits, scoped by the policy's `units_scope`: GROUP BYs over the person table (its
(unit_id, next_due_on) index); the contact figures from the tallies every visit write
keeps (`app.supervision.tallies`: rows of officers x months x kinds and officers x days,
never one per visit); the waiting risks from partial indexes of the flagged visits and
scale results. No person is loaded to count her, no visit to count it. The counts
are kept per unit and day in this process and worked out anew as soon as any visit or
person changes (the newest `updated_at` of each, read from their indexes in one query),
or after `MEMO_SECONDS` (the daily due refresh writes no `updated_at`): a dashboard opened
again with nothing changed costs three small queries, whatever the size of the unit.

What the figures count, for the people of a unit (a person's unit is her current one):

- *contact*: a visit of any kind but `attempt` with no `failure_reason`, and not her own
  check-in through her link (a sign of life, not an officer's contact). Contacts are
  counted in the month (and by the officer) of the local day they happened on.
- *due today*, *overdue*, *due this week*: the stored next due date (`Person.next_due_on`,
  kept by app/due.py and the daily refresh) is today, before today, or from today to six
  days on. Paused, closed and withdrawn people have none.
- *caseload*: an officer's assigned people who are not closed.
- *phase*: her follow-up phase by days since release under the unit's cadence (each
  phase covers days since release up to `until_day`); before release, or release unknown.
- *on-time rate*: the share of due dates met within the unit's grace days over the last
  `ON_TIME_DAYS` days. Each contact after release on a local day in the window is one due
  date: it was on time when its day is no later than the day it was due plus the unit's
  `grace_days`; it was due `FIRST_CONTACT_DAYS` after her release day for her first contact
  after release, else, after her previous contact, the interval of the unit's cadence for
  the phase that previous contact fell in (`app.schedule.interval_for`). Each person whose
  stored next due date is more than `grace_days` past is one more due date, missed. So
  rate = contacts on time / (contacts in the window + people overdue beyond grace). The
  previous contact is her previous contact after release, however long before (contacts
  on one moment are taken in the order of their ids); with neither one nor a release day
  a contact has no due date. Each contact's verdict is stored as it is written
  (`OnTimeTally`) and judged again when a contact before it comes, goes or moves, when her
  release day changes, or (all of the unit's) when its grace days or cadence change. A
  contact is credited to its author; a due date missed now to her assigned officer.
  Agreed dates and a person's own plan do not enter: the rate measures the unit's rhythm.
- *risk flags waiting*: a self-harm or relapse-signs flag on a visit of someone not
  closed that no later contact with her has followed yet (the visit is not older than her
  stored last contact, `Person.last_contact_at`); self-harm first.
- *funnel*: everyone on the unit's books; released (release day today or before); first
  contact (her last contact on or after her release day); in regular follow-up (of those,
  not closed and not overdue beyond grace: her next due date is no more than `grace_days`
  past, or she has none while paused); closed.

Time: local days are the city's (`zone`); PostgreSQL converts with the zone itself,
SQLite, which has no zones, with the zone's offset on `today`. The tallies keep the
months and days of the schedule's zone (CLOVER_TIMEZONE), which `zone` is everywhere the
app calls these.
"""

import threading
import time as clock
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, case, cast, func, literal, or_, union_all
from sqlmodel import Session, select

from app.models import (
    FOLLOW_UP_RISKS,
    Person,
    PersonStatus,
    RiskFlag,
    Role,
    ScaleResult,
    Unit,
    User,
    Visit,
    VisitKind,
    holds_any,
)
from app.policy import Action, can, people_scope, units_scope
from app.supervision.tallies import ContactTally, OnTimeTally, follow_up_flagged
from app.types import UTCDateTime

ON_TIME_DAYS = 90
CHART_MONTHS = 12
WEEK_DAYS = 7
RISK_LIMIT = 50
WAITING_FLAGS = FOLLOW_UP_RISKS
# the kinds of contact, in the order charts and tables show them
CONTACT_KINDS = tuple(kind for kind in VisitKind if kind != VisitKind.attempt)
STATUS_ORDER = tuple(PersonStatus)
FUNNEL_STAGES = ("enrolled", "released", "first_contact", "regular", "closed")
# the SQL statements each figure set runs at most (fewer when the contact figures are
# kept from an earlier call), whatever the size of the units
DASHBOARD_QUERIES = 8
CITY_QUERIES = 6
MEMO_SECONDS = 600
MEMO_SIZE = 64
_memo: dict = {}
_memo_lock = threading.Lock()
CITY_ZONE = ZoneInfo("Asia/Shanghai")
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class NotOverseen(LookupError):
    """This user oversees no unit: no dashboard to show."""


@dataclass(frozen=True)
class OnTime:
    """Due dates met within grace (`met`) among contacts in the window and missed ones."""

    met: int = 0
    contacts: int = 0
    missed: int = 0  # people overdue beyond grace now

    @property
    def due_dates(self) -> int:
        return self.contacts + self.missed

    @property
    def rate(self) -> float | None:
        """From 0 to 1; None when no due date fell in the window."""
        return self.met / self.due_dates if self.due_dates else None

    def __add__(self, other: "OnTime") -> "OnTime":
        return OnTime(
            self.met + other.met, self.contacts + other.contacts, self.missed + other.missed
        )


@dataclass(frozen=True)
class Phase:
    key: str
    start_day: int | None  # days since release; None for before release / unknown
    until_day: int | None


@dataclass(frozen=True)
class OfficerRow:
    """One line of the officers' table; `officer_id` None: people with no officer."""

    officer_id: uuid.UUID | None
    name: str
    caseload: int = 0
    overdue: int = 0
    due_week: int = 0
    contacts_month: int = 0
    on_time: OnTime = OnTime()
    last_contact_at: datetime | None = None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time.rate


@dataclass(frozen=True)
class PersonRef:
    """A person named on the dashboard (the audit trail records her id)."""

    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class RiskItem:
    # the flagged visit, or the scale result when `kind` is a scale's code
    visit_id: uuid.UUID
    person: PersonRef
    officer_name: str | None
    kind: str
    occurred_at: datetime
    flags: list[str]

    @property
    def self_harm(self) -> bool:
        return RiskFlag.self_harm in self.flags


@dataclass(frozen=True)
class MonthlyContacts:
    """Contacts by month (oldest first, 'YYYY-MM') and kind."""

    months: list[str]
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, month: str, kind: str) -> int:
        return self.counts.get((month, kind), 0)

    def month_total(self, month: str) -> int:
        return sum(self.count(month, kind) for kind in CONTACT_KINDS)

    def kind_total(self, kind: str) -> int:
        return sum(self.count(month, kind) for month in self.months)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class UnitDashboard:
    unit_id: uuid.UUID
    unit_name: str
    today: date
    grace_days: int
    by_status: dict[str, int]
    phases: list[Phase]
    by_phase: dict[str, int]
    due_today: int
    overdue: int
    due_week: int
    contacts_month: int
    on_time: OnTime
    officers: list[OfficerRow]
    risks: list[RiskItem]
    monthly: MonthlyContacts
    funnel: list[tuple[str, int]]

    @property
    def people(self) -> int:
        return sum(self.by_status.values())

    def named(self) -> list[PersonRef]:
        """Everyone the page names: for the audit trail."""
        return list({item.person.id: item.person for item in self.risks}.values())


@dataclass(frozen=True)
class UnitFigures:
    """One unit's aggregates for the city view: counts only, nobody named."""

    unit_id: uuid.UUID
    name: str
    by_status: dict[str, int]
    due_today: int
    overdue: int
    contacts_month: int
    on_time: OnTime

    @property
    def people(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class CityView:
    today: date
    units: list[UnitFigures]

    @property
    def total(self) -> UnitFigures:
        by_status = {s: sum(u.by_status.get(s, 0) for u in self.units) for s in STATUS_ORDER}
        return UnitFigures(
            unit_id=uuid.UUID(int=0),
            name="",
            by_status=by_status,
            due_today=sum(u.due_today for u in self.units),
            overdue=sum(u.overdue for u in self.units),
            contacts_month=sum(u.contacts_month for u in self.units),
            on_time=sum((u.on_time for u in self.units), OnTime()),
        )


# --- local days in SQL, alike on SQLite and PostgreSQL ----------------------------------


class _Days:
    """Integer day numbers of local days, as SQL expressions.

    Only differences and comparisons between them are used, so each dialect may count
    from its own epoch.
    """

    def __init__(self, session: Session, zone: ZoneInfo, today: date):
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.zone = zone
        offset = datetime.combine(today, time(12), zone).utcoffset() or timedelta(0)
        self.modifier = f"{int(offset.total_seconds()):+d} seconds"

    def of_moment(self, column):
        if self.postgres:
            return self.of_date(cast(func.timezone(self.zone.key, column), Date))
        return cast(func.julianday(column, self.modifier) + 0.5, Integer)

    def of_date(self, column):
        if self.postgres:
            return column - literal(date(1970, 1, 1), Date)  # date - date: an integer
        return cast(func.julianday(column) + 0.5, Integer)

    def start(self, day: date) -> datetime:
        """The UTC moment a local day begins."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC)


def phases_of(cadence: list[dict]) -> list[Phase]:
    """The unit's follow-up phases, with before release and release unknown first."""
    phases = [Phase("pre_release", None, None)]
    start = 0
    for step in cadence:
        until = step.get("until_day")
        phases.append(Phase(f"days_{start}", start, until))
        if until is None:
            break
        start = until
    return [*phases, Phase("unknown", None, None)]


def phase_on(phases: list[Phase], release_date: date | None, today: date) -> Phase:
    """Her phase on `today` (as `_phase_case` works it out in SQL)."""
    by_key = {phase.key: phase for phase in phases}
    if release_date is None:
        return by_key["unknown"]
    if release_date > today:
        return by_key["pre_release"]
    since = (today - release_date).days
    follow = [p for p in phases if p.start_day is not None]
    for phase in follow[:-1]:
        if since < phase.until_day:
            return phase
    return follow[-1] if follow else by_key["unknown"]


def _phase_case(phases: list[Phase], today: date):
    """Her phase on `today`: days since release against each phase's end."""
    whens = [
        (Person.release_date.is_(None), "unknown"),
        (Person.release_date > today, "pre_release"),
    ]
    follow = [p for p in phases if p.start_day is not None]
    for phase in follow[:-1]:
        whens.append((Person.release_date > today - timedelta(days=phase.until_day), phase.key))
    return case(*whens, else_=follow[-1].key if follow else "unknown")


def _on_time(session: Session, units: list[Unit], scope, *, today: date, by: str) -> dict:
    """(met, contacts) in the window by author (`by="author"`) or unit: one query of the
    on-time tally, whose rows are officers x days, whatever the number of people."""
    t = OnTimeTally
    key = t.author_id if by == "author" else t.unit_id
    query = (
        select(key, func.sum(t.rated), func.sum(t.met))
        .where(
            t.unit_id.in_([u.id for u in units]),
            scope(t.unit_id),
            t.day >= today - timedelta(days=ON_TIME_DAYS - 1),
            t.day <= today,
        )
        .group_by(key)
    )
    return {row[0]: (int(row[2] or 0), int(row[1] or 0)) for row in session.exec(query)}


def _monthly_starts(today: date) -> list[date]:
    first = today.replace(day=1)
    months = []
    for back in range(CHART_MONTHS - 1, -1, -1):
        index = first.year * 12 + first.month - 1 - back
        months.append(date(index // 12, index % 12 + 1, 1))
    return months


def _data_version(session: Session) -> tuple:
    """The newest change to any visit or person: two index lookups in one query."""
    people = select(func.max(Person.updated_at)).scalar_subquery()
    return tuple(session.exec(select(func.max(Visit.updated_at), people)).one())


def _kept(key: tuple, compute):
    """`compute()`, or what it gave for this key less than MEMO_SECONDS ago.

    The threads of a server share the memo: it changes under a lock (`compute` runs
    outside it, so two first callers may both work a figure out).
    """
    now = clock.monotonic()
    with _memo_lock:
        held = _memo.get(key)
    if held is not None and now - held[0] < MEMO_SECONDS:
        return held[1]
    value = compute()
    with _memo_lock:
        if len(_memo) >= MEMO_SIZE:
            _memo.pop(next(iter(_memo)), None)
        _memo[key] = (now, value)
    return value


def forget_kept_figures() -> None:
    """Drop every kept contact figure (tests; after a bulk load)."""
    with _memo_lock:
        _memo.clear()


def _memo_key(session: Session, kind: str, units: list[Unit], today: date, zone) -> tuple:
    rules = tuple((u.id, u.grace_days, repr(u.default_cadence)) for u in units)
    bind = session.get_bind().url.render_as_string(hide_password=True)
    return (kind, bind, rules, today, zone.key, _data_version(session))


# --- the supervisor's unit ----------------------------------------------------------------


def unit_dashboard(
    session: Session, user: User, *, today: date, zone: ZoneInfo = CITY_ZONE
) -> UnitDashboard:
    """Her unit's figures on `today`, in `DASHBOARD_QUERIES` queries at most (3 when the
    counts are kept from an earlier call and nothing changed since).

    Raises NotOverseen for a user with no unit to oversee.
    """
    if not can(user, Action.unit_overview) or user.unit_id is None:
        raise NotOverseen(user.id)
    unit = session.exec(select(Unit).where(Unit.id == user.unit_id)).one()  # 1
    days = _Days(session, zone, today)
    phases = phases_of(unit.default_cadence or [])

    # 2: the data version; 3-7 (kept while no visit or person changes): the counts
    counts = _kept(
        _memo_key(session, "unit", [unit], today, zone),
        lambda: _unit_counts(
            session, unit, lambda column: units_scope(user, column), days, phases, today
        ),
    )
    by_status, by_phase, funnel, by_officer, monthly_rows, on_time_by, risk_rows = counts
    keys = [f"{start:%Y-%m}" for start in _monthly_starts(today)]
    monthly_counts: dict[tuple[str, str], int] = {}
    by_kind, this_month = monthly_rows
    for month, kind, count in by_kind:
        monthly_counts[(month, kind)] = count
    monthly = MonthlyContacts(months=keys, counts=monthly_counts)

    # 8: the unit's officers, by name
    officers = session.exec(
        select(User)
        .where(User.unit_id == unit.id, User.role == Role.officer)
        .order_by(User.display_name)
    ).all()
    names = {o.id: o.display_name for o in officers}
    risks = [
        RiskItem(
            visit_id=visit_id,
            person=PersonRef(person_id, name),
            officer_name=names.get(officer_id),
            kind=kind,
            occurred_at=occurred_at,
            flags=[f for f in flags or [] if f in {w.value for w in WAITING_FLAGS}],
        )
        for visit_id, kind, occurred_at, flags, person_id, name, officer_id in risk_rows
    ]

    rows = []
    for officer in officers:
        if officer.active or officer.id in by_officer:
            rows.append(
                _officer_row(officer.id, officer.display_name, by_officer, this_month, on_time_by)
            )
    if None in by_officer:
        rows.append(_officer_row(None, "", by_officer, this_month, on_time_by))
    totals = [sum(row[i] for row in by_officer.values()) for i in range(5)]
    on_time = OnTime(
        met=sum(met for met, _ in on_time_by.values()),
        contacts=sum(n for _, n in on_time_by.values()),
        missed=totals[2],
    )
    return UnitDashboard(
        unit_id=unit.id,
        unit_name=unit.name,
        today=today,
        grace_days=unit.grace_days,
        by_status=dict(by_status),
        phases=phases,
        by_phase=dict(by_phase),
        due_today=totals[3],
        overdue=totals[1],
        due_week=totals[4],
        contacts_month=sum(this_month.values()),
        on_time=on_time,
        officers=rows,
        risks=risks,
        monthly=monthly,
        funnel=[(stage, funnel[stage]) for stage in FUNNEL_STAGES],
    )


def _unit_counts(session: Session, unit: Unit, scope, days: _Days, phases, today: date):
    """The unit's counts from people, the tallies and flagged visits: five aggregate queries."""
    in_unit = and_(Person.unit_id == unit.id, scope(Person.unit_id))
    # status by phase, and whether she was reached after release
    reached = and_(
        Person.release_date <= today,
        Person.last_contact_at.is_not(None),
        days.of_moment(Person.last_contact_at) >= days.of_date(Person.release_date),
    )
    late = today - timedelta(days=unit.grace_days)
    on_schedule = and_(
        reached,
        Person.status != PersonStatus.closed,
        or_(
            Person.next_due_on >= late,
            and_(Person.next_due_on.is_(None), Person.status == PersonStatus.paused),
        ),
    )
    # one pass over her people (the (unit_id, next_due_on) index): status by phase, whether
    # she was reached after release, and each officer's standing
    week_end = today + timedelta(days=WEEK_DAYS - 1)

    def flag(condition):
        return case((condition, 1), else_=0)

    people = select(
        Person.assigned_officer_id.label("officer_id"),
        Person.status.label("status"),
        _phase_case(phases, today).label("phase"),
        flag(reached).label("reached"),
        flag(Person.release_date <= today).label("released"),
        flag(on_schedule).label("regular"),
        flag(Person.next_due_on < today).label("overdue"),
        flag(Person.next_due_on < late).label("late"),
        flag(Person.next_due_on == today).label("due_today"),
        flag(and_(Person.next_due_on >= today, Person.next_due_on <= week_end)).label("week"),
        Person.last_contact_at.label("last_contact_at"),
    ).where(in_unit)
    p = people.subquery().c
    keys = (p.officer_id, p.status, p.phase, p.reached, p.released, p.regular)
    sums = (p.overdue, p.late, p.due_today, p.week)
    grouped = select(
        *keys, func.count(), *(func.sum(c) for c in sums), func.max(p.last_contact_at)
    ).group_by(*keys)
    by_status = dict.fromkeys(STATUS_ORDER, 0)
    by_phase = {phase.key: 0 for phase in phases}
    funnel = dict.fromkeys(FUNNEL_STAGES, 0)
    # caseload, overdue, overdue beyond grace, due today, due this week, last contact
    by_officer: dict = {}
    for row in session.exec(grouped):
        officer_id, status, phase, was_reached, released, regular, count, *due, last = row
        by_status[status] = by_status.get(status, 0) + count
        funnel["enrolled"] += count
        funnel["released"] += count if released else 0
        funnel["first_contact"] += count if was_reached else 0
        funnel["regular"] += count if regular else 0
        if status == PersonStatus.closed:
            funnel["closed"] += count
        else:
            by_phase[phase] = by_phase.get(phase, 0) + count
        was = by_officer.get(officer_id, (0, 0, 0, 0, 0, None))
        open_count = 0 if status == PersonStatus.closed else count
        numbers = [x + int(y or 0) for x, y in zip(was[:5], (open_count, *due), strict=True)]
        newest = max((t for t in (was[5], last) if t is not None), default=None)
        by_officer[officer_id] = (*numbers, newest)

    # contacts by month, kind and author over the chart's twelve months; on time by author
    monthly_rows = _monthly_rows(session, unit, scope, _monthly_starts(today))
    on_time_by = _on_time(session, [unit], scope, today=today, by="author")
    risks = _waiting_risks(session, in_unit)
    return by_status, by_phase, funnel, by_officer, monthly_rows, on_time_by, risks


def _monthly_rows(session: Session, unit: Unit, scope, months: list[date]):
    """(month, kind, contacts) over the chart's months; (author, contacts) this month.

    Two queries of the contact tally, whose rows are officers x months x kinds.
    """
    t = ContactTally
    mine = and_(t.unit_id == unit.id, scope(t.unit_id), t.month >= months[0])
    by_kind = select(t.month, t.kind, func.sum(t.contacts)).where(mine).group_by(t.month, t.kind)
    by_author = (
        select(t.author_id, func.sum(t.contacts))
        .where(mine, t.month == months[-1])
        .group_by(t.author_id)
    )
    return (
        [(f"{month:%Y-%m}", kind, int(n)) for month, kind, n in session.exec(by_kind) if n],
        {author: int(n) for author, n in session.exec(by_author)},
    )


def _officer_row(officer_id, name, by_officer, this_month, on_time_by) -> OfficerRow:
    caseload, overdue, late, _today, week, last = by_officer.get(officer_id, (0, 0, 0, 0, 0, None))
    met, contacts = on_time_by.get(officer_id, (0, 0)) if officer_id else (0, 0)
    return OfficerRow(
        officer_id=officer_id,
        name=name,
        caseload=caseload,
        overdue=overdue,
        due_week=week,
        contacts_month=this_month.get(officer_id, 0) if officer_id else 0,
        on_time=OnTime(met=met, contacts=contacts, missed=late),
        last_contact_at=last,
    )


def _waiting_risks(session: Session, in_unit) -> list[tuple]:
    """The flagged visits (and scales, by their code as the kind) waiting for a contact,
    self-harm first, newest first."""
    # not followed by a contact: no older than her last one
    since = func.coalesce(Person.last_contact_at, literal(NEVER, UTCDateTime))

    def flagged(model, kind, at):
        # the flagged rows first, from their partial index; SQLite would otherwise walk
        # every person of the unit (PostgreSQL weighs both ways by its statistics)
        rows = (
            select(
                model.id.label("id"),
                kind.label("kind"),
                at.label("occurred_at"),
                model.risk_flags.label("risk_flags"),
                model.person_id.label("person_id"),
            )
            .where(follow_up_flagged(model.risk_flags))
            .cte(f"flagged_{model.__tablename__}")
            .prefix_with("MATERIALIZED", dialect="sqlite")
        )
        return (
            select(
                *(rows.c[name] for name in ("id", "kind", "occurred_at", "risk_flags")),
                Person.id.label("person_id"),
                Person.name.label("name"),
                Person.assigned_officer_id.label("officer_id"),
            )
            .join(Person, Person.id == rows.c.person_id)
            .where(in_unit, Person.status != PersonStatus.closed, rows.c.occurred_at >= since)
        )

    both = union_all(
        flagged(Visit, Visit.kind, Visit.occurred_at),
        flagged(ScaleResult, ScaleResult.scale, ScaleResult.taken_at),
    ).subquery()
    self_harm = holds_any(both.c.risk_flags, [RiskFlag.self_harm])
    query = (
        select(*both.c)
        .order_by(case((self_harm, 0), else_=1), both.c.occurred_at.desc())
        .limit(RISK_LIMIT)
    )
    return [tuple(row) for row in session.exec(query)]


# --- the city: every unit side by side ------------------------------------------------------


def city_view(session: Session, user: User, *, today: date, zone: ZoneInfo = CITY_ZONE) -> CityView:
    """Every unit's aggregates she may read, side by side, in `CITY_QUERIES` queries."""
    if not can(user, Action.city_view):
        return CityView(today=today, units=[])
    units = session.exec(
        select(Unit).where(units_scope(user, Unit.id)).order_by(Unit.name)
    ).all()  # 1
    if not units:
        return CityView(today=today, units=[])
    scope = units_scope(user, Person.unit_id)
    statuses: dict = {u.id: dict.fromkeys(STATUS_ORDER, 0) for u in units}
    query = select(Person.unit_id, Person.status, func.count()).where(scope)
    for unit_id, status, count in session.exec(query.group_by(Person.unit_id, Person.status)):
        statuses[unit_id][status] = count  # 2
    beyond_grace = or_(
        *(
            and_(Person.unit_id == u.id, Person.next_due_on < today - timedelta(days=u.grace_days))
            for u in units
        )
    )
    due = select(
        Person.unit_id,
        func.sum(case((Person.next_due_on == today, 1), else_=0)),
        func.sum(case((Person.next_due_on < today, 1), else_=0)),
        func.sum(case((beyond_grace, 1), else_=0)),
    ).where(scope)
    standing = {row[0]: row[1:] for row in session.exec(due.group_by(Person.unit_id))}  # 3
    t = ContactTally
    contacts = (
        select(t.unit_id, func.sum(t.contacts))
        .where(units_scope(user, t.unit_id), t.month == today.replace(day=1))
        .group_by(t.unit_id)
    )
    # 4, 5 (kept while no visit or person changes): contacts this month and on time
    this_month, on_time = _kept(
        _memo_key(session, f"city:{user.role}", list(units), today, zone),
        lambda: (
            {unit_id: int(n) for unit_id, n in session.exec(contacts)},
            _on_time(session, list(units), lambda c: units_scope(user, c), today=today, by="unit"),
        ),
    )
    figures = []
    for unit in units:
        due_today, overdue, late = standing.get(unit.id, (0, 0, 0))
        met, counted = on_time.get(unit.id, (0, 0))
        figures.append(
            UnitFigures(
                unit_id=unit.id,
                name=unit.name,
                by_status=statuses[unit.id],
                due_today=int(due_today or 0),
                overdue=int(overdue or 0),
                contacts_month=this_month.get(unit.id, 0),
                on_time=OnTime(met=met, contacts=counted, missed=int(late or 0)),
            )
        )
    return CityView(today=today, units=figures)


# --- an officer's due list, paged -----------------------------------------------------------

DUE_PAGE = 25


@dataclass(frozen=True)
class DuePage:
    people: list[Person]
    page: int
    has_next: bool
    total: int


def officer_due_page(
    session: Session, user: User, officer: User, *, page: int = 1, per_page: int = DUE_PAGE
) -> DuePage:
    """Her people with a next due date, most urgent first, one page (LIMIT/OFFSET on the
    (assigned_officer_id, next_due_on) index), within the reader's people scope."""
    page = max(page, 1)
    where = and_(
        people_scope(user),
        Person.assigned_officer_id == officer.id,
        Person.next_due_on.is_not(None),
    )
    total = session.exec(select(func.count()).select_from(Person).where(where)).one()
    rows = session.exec(
        select(Person)
        .where(where)
        .order_by(Person.next_due_on, Person.id)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    return DuePage(
        people=list(rows[:per_page]), page=page, has_next=len(rows) > per_page, total=total
    )
