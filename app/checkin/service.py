"""Self check-in links and the check-ins they write. No Flask in here.

A link carries a long random token; only its keyed hash is stored (`app.crypto` digest),
so the database never holds a working link. A check-in is written by the one visit write
path (`record_visit`) as an `online_check_in` with the officer who gave the link as its
author and the link on the visit. It is a sign of life, not an officer's contact: it does
not move her due date (`app.due.officer_contact`); asking to talk puts her first on her
officer's Today until an officer's contact follows.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func, update
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import Outcome
from app.crypto import get_cipher
from app.due import schedule_today, schedule_zone
from app.models import CheckInLink, Person, User, Visit, VisitKind
from app.policy import may_record_visit, open_for_contact
from app.visits.service import record_visit

DAILY_CHECK_INS = 3  # per link per local day: a form, not a chat
QUIET_DAYS = 7  # no check-in for longer than this: a hint of lost contact on her ledger
MAX_NOTE = 500
MAX_TOKEN = 100  # a token is 43 characters; anything far longer is not one
NOTE_TOO_LONG = N_("The note is too long (at most 500 characters).")


def hash_token(token: str) -> str:
    """The keyed hash a link's token is stored as (HMAC-SHA256 with the hash key)."""
    return get_cipher().digest(token)


def _active(now: datetime):
    return CheckInLink.revoked_at.is_(None), CheckInLink.expires_at > now


def current_link(session: Session, person: Person, *, now: datetime) -> CheckInLink | None:
    """Her link in force: neither revoked nor expired."""
    query = select(CheckInLink).where(CheckInLink.person_id == person.id, *_active(now))
    return session.exec(query.order_by(CheckInLink.created_at.desc()).limit(1)).first()


def _revoke_all(session: Session, user: User, person: Person, now: datetime) -> list[str]:
    """Revoke every link of hers still in force; their ids."""
    ids = list(
        session.exec(
            select(CheckInLink.id).where(CheckInLink.person_id == person.id, *_active(now))
        )
    )
    if ids:
        session.execute(
            update(CheckInLink)
            .where(CheckInLink.id.in_(ids))
            .values(revoked_at=now, revoked_by_id=user.id)
            .execution_options(synchronize_session=False)
        )
    return [str(link_id) for link_id in ids]


def issue_link(
    *, session: Session, user: User, person: Person, now: datetime, days: int
) -> tuple[CheckInLink, str]:
    """A new link for her, replacing any before it; the token, to show or send once.

    The caller has checked `may_manage_check_in_link`. The audit row names the link, never
    its token.
    """
    replaced = _revoke_all(session, user, person, now)
    token = secrets.token_urlsafe(32)
    link = CheckInLink(
        person_id=person.id,
        issued_by_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(link)
    session.flush()
    details = {"expires_at": link.expires_at.isoformat(), "replaced": replaced}
    audit.record(
        session,
        user=user,
        action="check_in_link_issue",
        person=person,
        target=link,
        details=details,
    )
    return link, token


def revoke_link(*, session: Session, user: User, person: Person, now: datetime) -> list[str]:
    """Revoke her link in force (if any); audited when one was."""
    revoked = _revoke_all(session, user, person, now)
    if revoked:
        audit.record(
            session,
            user=user,
            action="check_in_link_revoke",
            person=person,
            details={"links": revoked},
        )
    return revoked


def find_link(session: Session, token: str, *, now: datetime) -> CheckInLink | None:
    """The link in force this token opens; None for an unknown, expired or revoked one, and
    for one that can no longer write (her ledger closed or her consent withdrawn, or the
    officer who gave it no longer follows her: her new officer gives her a new link)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    query = select(CheckInLink).where(CheckInLink.token_hash == hash_token(token), *_active(now))
    link = session.exec(query).first()
    if link is None:
        return None
    person, officer = session.get(Person, link.person_id), session.get(User, link.issued_by_id)
    writes = open_for_contact(person) and may_record_visit(
        session, officer, person, kind=VisitKind.online_check_in, occurred_at=now
    )
    return link if writes else None


class CheckInOutcome(StrEnum):
    saved = "saved"
    invalid = "invalid"  # `errors` says what to correct
    too_many = "too_many"  # DAILY_CHECK_INS already today: nothing stored
    gone = "gone"  # the link no longer writes (her ledger closed, the officer moved on)


@dataclass(frozen=True)
class CheckInResult:
    outcome: CheckInOutcome
    visit: Visit | None = None
    errors: dict[str, list[str]] | None = None


def _day_start(now: datetime) -> datetime:
    """The moment her local day (the schedule's zone) began."""
    return datetime.combine(schedule_today(now), time(), schedule_zone())


def check_ins_today(session: Session, link: CheckInLink, *, now: datetime) -> int:
    query = select(func.count()).where(
        Visit.check_in_link_id == link.id, Visit.occurred_at >= _day_start(now)
    )
    return session.exec(query).one()


def _number(value) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def check_in_id(link: CheckInLink, form_id) -> uuid.UUID:
    """The id of the check-in a form makes: the form's own UUID, within her link's ids.

    The form carries a UUID made when it was shown, so a double tap or a resend stores one
    check-in; derived from the link, no form can name a record of someone else's.
    """
    try:
        chosen = uuid.UUID(form_id) if isinstance(form_id, str) else uuid.uuid4()
    except ValueError:
        chosen = uuid.uuid4()
    return uuid.uuid5(link.id, str(chosen))


def check_in(*, session: Session, link: CheckInLink, form, now: datetime) -> CheckInResult:
    """Write her check-in from the form (mood, craving, talk, note) through her link.

    The form sent again (a double tap, a reload after a lost answer) is the check-in it
    already wrote: `saved`, nothing stored twice.
    """
    # one check-in at a time per link, so two taps at once cannot pass the daily count
    session.exec(select(CheckInLink.id).where(CheckInLink.id == link.id).with_for_update()).one()
    visit_id = check_in_id(link, form.get("id"))
    stored = session.get(Visit, visit_id)
    if stored is not None:
        return CheckInResult(CheckInOutcome.saved, stored)
    if check_ins_today(session, link, now=now) >= DAILY_CHECK_INS:
        return CheckInResult(CheckInOutcome.too_many)
    note = (form.get("note") or "").strip()
    if len(note) > MAX_NOTE:
        return CheckInResult(CheckInOutcome.invalid, errors={"notes": [NOTE_TOO_LONG]})
    officer = session.get(User, link.issued_by_id)
    data = {
        "id": str(visit_id),
        "person_id": str(link.person_id),
        "kind": VisitKind.online_check_in.value,
        # to the minute, as an officer's form times a contact: her call in that minute follows it
        "occurred_at": now.replace(second=0, microsecond=0).isoformat(),
        "mood": _number(form.get("mood")),
        "craving": _number(form.get("craving")),
        "notes": note,
    }
    result = record_visit(
        session=session,
        user=officer,
        data=data,
        now=now,
        check_in_link_id=link.id,
        asked_to_talk=form.get("talk") == "yes",
    )
    if result.outcome == Outcome.created:
        return CheckInResult(CheckInOutcome.saved, result.record)
    if result.outcome == Outcome.invalid:
        return CheckInResult(CheckInOutcome.invalid, errors=result.errors)
    return CheckInResult(CheckInOutcome.gone)


@dataclass(frozen=True)
class CheckInPanel:
    """The check-in section of her ledger: her link in force and her last check-in."""

    link_expires_at: datetime | None  # None: no link in force
    last_check_in_at: datetime | None
    days_quiet: int | None  # days since her last check-in, when over QUIET_DAYS

    @property
    def quiet(self) -> bool:
        return self.days_quiet is not None


def check_in_panel(session: Session, person: Person, *, now: datetime) -> CheckInPanel:
    """Her link in force and her last self check-in, with the days since when too many.

    One query (the ledger's count is pinned by a test).
    """

    def of_newest_link(column):
        return (
            select(column)
            .where(CheckInLink.person_id == person.id, *_active(now))
            .order_by(CheckInLink.created_at.desc())
            .limit(1)
            .scalar_subquery()
        )

    last_at = (
        select(func.max(Visit.occurred_at))
        .where(Visit.person_id == person.id, Visit.check_in_link_id.is_not(None))
        .scalar_subquery()
    )
    query = select(
        last_at, of_newest_link(CheckInLink.created_at), of_newest_link(CheckInLink.expires_at)
    )
    last, given_at, expires_at = session.exec(query).one()
    since = last or given_at
    quiet = None
    if since is not None:
        days = (schedule_today(now) - schedule_today(since)).days
        quiet = days if days > QUIET_DAYS else None
    return CheckInPanel(expires_at, last, quiet)
