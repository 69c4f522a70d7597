"""What a ledger page shows, loaded in a fixed number of queries: no Flask in here.

Who may see whom is app.policy's; what a peer helper is shown is `load_peer_ledger`.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.crypto import IdCipher, mask_id_number
from app.due import FOLLOW_UP_FLAGS, officer_contact
from app.groups.ledger import GroupEntry, group_entries
from app.models import (
    Assignment,
    Consent,
    Person,
    PersonStatus,
    ScaleResult,
    StatusChange,
    SupportPlan,
    Unit,
    User,
    Visit,
    holds_any,
)
from app.people.records import current_consent, current_plan
from app.policy import PEER_HELPER_VISIT_KINDS, people_scope
from app.schedule import DueReason

TIMELINE_PAGE = 30  # visits on a page of her ledger


@dataclass
class TimelineEntry:
    """One line of the ledger: a visit, a status change or a change of officer or helper."""

    at: datetime
    kind: str  # visit, status, assigned, unassigned
    record: object
    author: User | None
    subject: User | None = None


@dataclass
class Ledger:
    person: Person
    unit: Unit
    officer: User | None
    peer_helper: User | None
    consent: Consent | None
    plan: SupportPlan | None
    users: dict[uuid.UUID, User]
    id_number_masked: str
    timeline: list[TimelineEntry] = field(default_factory=list)
    open_risk: "OpenRisk | None" = None
    page: int = 1
    pages: int = 1
    # the group sessions of the visits on this page, by id
    groups: dict[uuid.UUID, GroupEntry] = field(default_factory=dict)

    peer = False

    @property
    def closed(self) -> bool:
        return self.person.status == PersonStatus.closed

    @property
    def consent_withdrawn(self) -> bool:
        return self.person.consent_withdrawn_at is not None


@dataclass(frozen=True)
class OpenRisk:
    """Her last contact (or a scale taken since), which flagged a risk no later contact has
    followed yet."""

    visit: Visit | ScaleResult
    flags: list[str]


def _open_risk(session: Session, person: Person) -> OpenRisk | None:
    if person.due_reason != DueReason.risk:
        return None
    last = session.exec(
        select(Visit)
        .where(Visit.person_id == person.id, officer_contact())
        .order_by(Visit.occurred_at.desc())
        .limit(1)
    ).first()
    flags = [f for f in (last.risk_flags or []) if f in FOLLOW_UP_FLAGS] if last else []
    if flags:
        return OpenRisk(last, flags)
    # else a scale taken since flagged it (PHQ-9 item 9): shown by its time, as a contact's
    scale = session.exec(
        select(ScaleResult)
        .where(
            ScaleResult.person_id == person.id,
            holds_any(ScaleResult.risk_flags, FOLLOW_UP_FLAGS),
        )
        .order_by(ScaleResult.taken_at.desc())
        .limit(1)
    ).first()
    flags = [f for f in (scale.risk_flags or []) if f in FOLLOW_UP_FLAGS] if scale else []
    return OpenRisk(scale, flags) if flags else None


@dataclass
class PeerLedger:
    """What a peer helper needs to keep in touch: no officer's record, no address or ID."""

    person: Person
    preferred_contact_times: str
    # the talks and online check-ins she logged herself, newest first
    visits: list[Visit]
    groups: dict[uuid.UUID, GroupEntry] = field(default_factory=dict)

    peer = True


def find_person(session: Session, user: User, person_id: uuid.UUID) -> Person | None:
    """The person with this id if she is in the user's scope; otherwise None (a 404)."""
    return session.exec(select(Person).where(Person.id == person_id, people_scope(user))).first()


def age_on(born: date | None, day: date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _timeline(session: Session, person: Person, page: int) -> tuple[list[TimelineEntry], int, int]:
    """One page of her timeline, newest first; the page shown (within range); the pages.

    A page holds `TIMELINE_PAGE` visits, and the status changes and assignments that fall
    between its visits and the previous page's (the first page also those after its
    newest visit, the last those before its oldest).
    """
    author, subject = aliased(User), aliased(User)
    visits = select(Visit, author).join(author, author.id == Visit.author_id)
    visits = visits.where(Visit.person_id == person.id)
    newest_first = (Visit.occurred_at.desc(), Visit.id.desc())
    total = session.exec(
        select(func.count()).select_from(Visit).where(Visit.person_id == person.id)
    ).one()
    pages = max(1, -(-total // TIMELINE_PAGE))
    page = min(max(page, 1), pages)
    first = (page - 1) * TIMELINE_PAGE
    rows = session.exec(visits.order_by(*newest_first).offset(first).limit(TIMELINE_PAGE)).all()
    entries = [TimelineEntry(visit.occurred_at, "visit", visit, writer) for visit, writer in rows]
    # the time span of this page: up to where the previous page ended, down to its oldest
    # visit (the last page reaches back to the beginning)
    upper = None
    if page > 1:
        upper = session.exec(
            select(Visit.occurred_at)
            .where(Visit.person_id == person.id)
            .order_by(*newest_first)
            .offset(first - 1)
            .limit(1)
        ).one()
    lower = rows[-1][0].occurred_at if rows and page < pages else None

    def on_this_page(at: datetime) -> bool:
        return (upper is None or at < upper) and (lower is None or at >= lower)

    others: list[TimelineEntry] = []
    for change, writer in session.exec(
        select(StatusChange, author)
        .join(author, author.id == StatusChange.author_id)
        .where(StatusChange.person_id == person.id)
    ):
        # it sits on the day it took effect; recorded that day, at the time it was recorded
        at = change.created_at
        if at.date() != change.effective_on:
            at = datetime.combine(change.effective_on, time(12), tzinfo=UTC)
        others.append(TimelineEntry(at, "status", change, writer))
    for row, by, who in session.exec(
        select(Assignment, author, subject)
        .outerjoin(author, author.id == Assignment.assigned_by_id)
        .join(subject, subject.id == Assignment.user_id)
        .where(Assignment.person_id == person.id)
    ):
        others.append(TimelineEntry(row.started_at, "assigned", row, by, who))
        if row.ended_at is not None:
            others.append(TimelineEntry(row.ended_at, "unassigned", row, None, who))
    entries += [entry for entry in others if on_this_page(entry.at)]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries, page, pages


def load_ledger(*, session: Session, person: Person, cipher: IdCipher, page: int = 1) -> Ledger:
    """Everything on her ledger page: plan, consent, the people around her, a page of the
    timeline."""
    consent = current_consent(session, person)
    plan = current_plan(session, person)
    wanted = {
        person.assigned_officer_id,
        person.peer_helper_id,
        consent.taken_by_id if consent else None,
        plan.author_id if plan else None,
    } - {None}
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(wanted)))}
    number = cipher.decrypt(person.id_number_encrypted) if person.id_number_encrypted else None
    timeline, page, pages = _timeline(session, person, page)
    return Ledger(
        person=person,
        unit=session.get(Unit, person.unit_id),
        officer=users.get(person.assigned_officer_id),
        peer_helper=users.get(person.peer_helper_id),
        consent=consent,
        plan=plan,
        users=users,
        id_number_masked=mask_id_number(number, person.id_number_tail),
        timeline=timeline,
        open_risk=_open_risk(session, person),
        page=page,
        pages=pages,
        groups=group_entries(session, [e.record for e in timeline if e.kind == "visit"]),
    )


def load_peer_ledger(*, session: Session, person: Person, helper: User) -> PeerLedger:
    """Her peer view: name, phone, the agreed contact times, the helper's own talks."""
    consent = current_consent(session, person)
    own = session.exec(
        select(Visit)
        .where(
            Visit.person_id == person.id,
            Visit.author_id == helper.id,
            Visit.kind.in_(sorted(PEER_HELPER_VISIT_KINDS)),
        )
        .order_by(Visit.occurred_at.desc())
    )
    visits = list(own)
    return PeerLedger(
        person=person,
        preferred_contact_times=consent.preferred_contact_times if consent else "",
        visits=visits,
        groups=group_entries(session, visits),
    )
