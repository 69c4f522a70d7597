"""Assigning a person to an officer and pairing her with a peer helper; changing her status.

No Flask in here. Every change joins a history (Assignment, StatusChange rows) with its
reason, and is audited. Each is made on the version of her record the form was opened
at (`base_version`): when she changed since, nothing is saved and `StaleEdit` carries her
record as it stands. The caller commits.
"""

import uuid
from collections.abc import Mapping
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import StaleEdit, versioned
from app.due import refresh_next_due
from app.models import Assignment, Person, PersonStatus, Role, StatusChange, User
from app.people.validation import Invalid, clean_status
from app.policy import Action, require
from app.types import utcnow


def assignable_users(session: Session, person: Person, role: str) -> list[User]:
    """Active users of her unit who can take this part: officers or peer helpers."""
    return list(
        session.exec(
            select(User)
            .where(User.unit_id == person.unit_id, User.role == role, User.active)
            .order_by(User.display_name)
        )
    )


def _check(session, person, wanted: dict, current: dict, reason: str) -> None:
    errors: dict[str, str] = {}
    for role, user_id in wanted.items():
        allowed = {u.id for u in assignable_users(session, person, role)}
        if user_id is not None and user_id not in allowed:
            errors[role] = N_("Choose from the list.")
    if not reason:
        errors["reason"] = N_("Give the reason for the change.")
    elif len(reason) > 300:
        errors["reason"] = N_("This is too long.")
    if not errors and wanted == current:
        errors["officer"] = N_("Nothing was changed.")
    if errors:
        raise Invalid(errors)


def _end_current(session: Session, person: Person, role: str, now) -> None:
    for row in session.exec(
        select(Assignment).where(
            Assignment.person_id == person.id,
            Assignment.role == role,
            Assignment.ended_at.is_(None),
        )
    ):
        row.ended_at = now
        session.add(row)


def assign(
    *,
    session: Session,
    user: User,
    person: Person,
    officer_id: uuid.UUID | None,
    peer_helper_id: uuid.UUID | None,
    reason: str,
    base_version: int,
) -> list[Assignment]:
    """Assign or reassign her officer and peer helper; each change joins the history."""
    require(user, Action.person_assign, person)
    reason = " ".join((reason or "").split())
    wanted = {Role.officer: officer_id, Role.peer_helper: peer_helper_id}
    current = {Role.officer: person.assigned_officer_id, Role.peer_helper: person.peer_helper_id}
    if base_version != person.version:
        raise StaleEdit(person)
    _check(session, person, wanted, current, reason)
    with versioned(session, person):
        return _reassign(session, user, person, wanted, current, reason)


def _reassign(session, user: User, person: Person, wanted, current, reason) -> list[Assignment]:
    now, added = utcnow(), []
    for role, user_id in wanted.items():
        if user_id == current[role]:
            continue
        _end_current(session, person, role, now)
        if user_id is not None:
            added.append(
                Assignment(
                    person_id=person.id,
                    user_id=user_id,
                    role=role,
                    started_at=now,
                    assigned_by_id=user.id,
                    reason=reason,
                )
            )
        audit.record(
            session,
            user=user,
            action="person_assign",
            person=person,
            target=person,
            details={"role": role, "from": _str(current[role]), "to": _str(user_id)},
        )
    session.add_all(added)
    person.assigned_officer_id = wanted[Role.officer]
    person.peer_helper_id = wanted[Role.peer_helper]
    person.version += 1
    person.updated_at = now
    session.add(person)
    session.flush()
    return added


def _str(value) -> str | None:
    return str(value) if value is not None else None


def change_status(
    *,
    session: Session,
    user: User,
    person: Person,
    data: Mapping,
    today: date,
    zone: ZoneInfo,
    base_version: int,
) -> StatusChange:
    """A new status with its reason and date; closing needs the right to close."""
    require(user, Action.person_status, person)
    # judged on her record as the form showed it: a newer one is shown to her first
    if base_version != person.version:
        raise StaleEdit(person)
    cleaned = clean_status(data, current=person.status, today=today)
    if cleaned["to_status"] == PersonStatus.closed:
        require(user, Action.person_close, person)
    with versioned(session, person):
        return _new_status(session, user, person, cleaned, zone)


def _new_status(session, user: User, person: Person, cleaned: dict, zone) -> StatusChange:
    change = StatusChange(
        person_id=person.id,
        from_status=person.status,
        author_id=user.id,
        **cleaned,
    )
    session.add(change)
    person.status = cleaned["to_status"]
    person.version += 1
    person.updated_at = utcnow()
    refresh_next_due(session, person)
    audit.record(
        session,
        user=user,
        action="person_status",
        person=person,
        target=change,
        details={"from": change.from_status, "to": change.to_status, "reason": change.reason},
    )
    return change
