"""What a ledger page shows, loaded in a fixed number of queries: no Flask in here.

Who may see whom is app.policy's; what a peer helper is shown is `load_peer_ledger`.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.crypto import IdCipher, mask_id_number
from app.due import FOLLOW_UP_FLAGS
from app.models import (
    Assignment,
    Consent,
    Person,
    PersonStatus,
    StatusChange,
    SupportPlan,
    Unit,
    User,
    Visit,
)
from app.people.records import current_consent, current_plan
from app.policy import PEER_HELPER_VISIT_KINDS, people_scope
from app.schedule import DueReason


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

    peer = False

    @property
    def closed(self) -> bool:
        return self.person.status == PersonStatus.closed

    @property
    def consent_withdrawn(self) -> bool:
        return self.person.consent_withdrawn_at is not None

    @property
    def open_risk(self) -> "OpenRisk | None":
        """The contact whose self-harm or relapse flag no later contact has followed yet."""
        if self.person.due_reason != DueReason.risk:
            return None
        for entry in self.timeline:  # newest first
            if entry.kind == "visit" and entry.record.failure_reason is None:
                flags = [f for f in entry.record.risk_flags or [] if f in FOLLOW_UP_FLAGS]
                return OpenRisk(entry.record, flags) if flags else None
        return None


@dataclass(frozen=True)
class OpenRisk:
    visit: Visit
    flags: list[str]


@dataclass
class PeerLedger:
    """What a peer helper needs to keep in touch: no officer's record, no address or ID."""

    person: Person
    preferred_contact_times: str
    # the talks and online check-ins she logged herself, newest first
    visits: list[Visit]

    peer = True


def find_person(session: Session, user: User, person_id: uuid.UUID) -> Person | None:
    """The person with this id if she is in the user's scope; otherwise None (a 404)."""
    return session.exec(select(Person).where(Person.id == person_id, people_scope(user))).first()


def age_on(born: date | None, day: date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _timeline(session: Session, person: Person) -> list[TimelineEntry]:
    author, subject = aliased(User), aliased(User)
    entries = [
        TimelineEntry(visit.occurred_at, "visit", visit, writer)
        for visit, writer in session.exec(
            select(Visit, author)
            .join(author, author.id == Visit.author_id)
            .where(Visit.person_id == person.id)
        )
    ]
    for change, writer in session.exec(
        select(StatusChange, author)
        .join(author, author.id == StatusChange.author_id)
        .where(StatusChange.person_id == person.id)
    ):
        # it sits on the day it took effect; recorded that day, at the time it was recorded
        at = change.created_at
        if at.date() != change.effective_on:
            at = datetime.combine(change.effective_on, time(12), tzinfo=UTC)
        entries.append(TimelineEntry(at, "status", change, writer))
    for row, by, who in session.exec(
        select(Assignment, author, subject)
        .outerjoin(author, author.id == Assignment.assigned_by_id)
        .join(subject, subject.id == Assignment.user_id)
        .where(Assignment.person_id == person.id)
    ):
        entries.append(TimelineEntry(row.started_at, "assigned", row, by, who))
        if row.ended_at is not None:
            entries.append(TimelineEntry(row.ended_at, "unassigned", row, None, who))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


def load_ledger(*, session: Session, person: Person, cipher: IdCipher) -> Ledger:
    """Everything on her ledger page: plan, consent, the people around her, the timeline."""
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
    return Ledger(
        person=person,
        unit=session.get(Unit, person.unit_id),
        officer=users.get(person.assigned_officer_id),
        peer_helper=users.get(person.peer_helper_id),
        consent=consent,
        plan=plan,
        users=users,
        id_number_masked=mask_id_number(number, person.id_number_tail),
        timeline=_timeline(session, person),
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
    return PeerLedger(
        person=person,
        preferred_contact_times=consent.preferred_contact_times if consent else "",
        visits=list(own),
    )
