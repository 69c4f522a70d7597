"""Managing accounts: edit, hand over a caseload, deactivate, end a session. No Flask in here.

Every change is checked by the policy and audited with the acting admin as its user; no
secret ever goes into the audit details. The caller commits.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, select

from app import audit
from app.accounts import N_, AccountError, check_role_and_unit
from app.contract import StaleEdit
from app.models import Person, PersonStatus, PushSubscription, Role, Unit, User, UserSession
from app.people.assignment import assign
from app.people.validation import Invalid
from app.policy import Action, colleagues_scope, require
from app.sessions import end_session, end_sessions

# the roles that carry a caseload, and the person column that names them
CASELOAD = {Role.officer: Person.assigned_officer_id, Role.peer_helper: Person.peer_helper_id}


@dataclass(frozen=True)
class UserState:
    """What the list and her page show about an account, beside its fields."""

    user: User
    unit_name: str | None
    locked: bool
    second_factor: bool


def list_users(session: Session, *, actor: User, now: datetime) -> list[UserState]:
    """The accounts she may see, by role then name: all for an admin, her unit's otherwise."""
    require(actor, Action.user_view)
    units = {unit.id: unit.name for unit in session.exec(select(Unit))}
    users = session.exec(
        select(User).where(colleagues_scope(actor)).order_by(User.role, User.display_name)
    ).all()
    return [user_state(user, units.get(user.unit_id), now) for user in users]


def user_state(user: User, unit_name: str | None, now: datetime) -> UserState:
    return UserState(
        user=user,
        unit_name=unit_name,
        locked=user.locked_until is not None and user.locked_until > now,
        second_factor=user.totp_enrolled_at is not None,
    )


def caseload(session: Session, user: User) -> list[Person]:
    """Her open ledgers: the people a hand-over moves (a closed ledger stays as it was)."""
    column = CASELOAD.get(user.role)
    if column is None:
        return []
    return list(
        session.exec(
            select(Person)
            .where(column == user.id, Person.status != PersonStatus.closed)
            .order_by(Person.name, Person.id)
        )
    )


def caseload_size(session: Session, user: User) -> int:
    column = CASELOAD.get(user.role)
    if column is None:
        return 0
    query = select(func.count()).where(column == user.id, Person.status != PersonStatus.closed)
    return session.exec(query).one()


def update_user(
    session: Session,
    *,
    actor: User,
    user: User,
    display_name: str,
    role: str,
    unit_id: uuid.UUID | None,
    now: datetime,
) -> dict:
    """Change her name, role or unit; what changed, as {field: [from, to]}.

    A new role or unit with people still in her care would leave them with an officer
    outside their unit: she hands them over first. A new role ends her sessions, so her
    next sign-in follows the new role's rules (a second factor for a supervisor).
    """
    require(actor, Action.user_manage, user)
    display_name = " ".join((display_name or "").split())
    _check_edit(session, actor, user, display_name, role, unit_id)
    wanted = {"display_name": display_name, "role": role, "unit_id": unit_id}
    changes = {
        name: [_text(getattr(user, name)), _text(value)]
        for name, value in wanted.items()
        if getattr(user, name) != value
    }
    if not changes:
        raise AccountError("display_name", N_("Nothing was changed."))
    if ("role" in changes or "unit_id" in changes) and caseload_size(session, user):
        raise AccountError("role", N_("She still has people in her care: hand them over first."))
    for name, value in wanted.items():
        setattr(user, name, value)
    user.updated_at = now
    session.add(user)
    details: dict = {"changes": changes}
    if "role" in changes:
        details["sessions_ended"] = end_sessions(session, user, reason="role_changed", now=now)
    audit.record(session, user=actor, action="user_edit", target=user, details=details)
    session.flush()
    return changes


def _check_edit(session, actor, user, display_name, role, unit_id) -> None:
    if not display_name:
        raise AccountError("display_name", N_("Enter a name."))
    if len(display_name) > 120:
        raise AccountError("display_name", N_("This is too long."))
    check_role_and_unit(session, role, unit_id)
    if user.id == actor.id and role != user.role:
        raise AccountError("role", N_("You cannot change your own role."))


def _text(value) -> str | None:
    return str(value) if value is not None else None


@dataclass
class HandOver:
    """What a hand-over did: the people moved, and those left because they changed."""

    moved: list[Person] = field(default_factory=list)
    stale: list[Person] = field(default_factory=list)
    refused: list[Person] = field(default_factory=list)


def handover_choices(session: Session, user: User) -> list[User]:
    """Who can take her people: the other active users of her role in her unit."""
    if user.role not in CASELOAD or user.unit_id is None:
        return []
    return list(
        session.exec(
            select(User)
            .where(
                User.unit_id == user.unit_id,
                User.role == user.role,
                User.active,
                User.id != user.id,
            )
            .order_by(User.display_name)
        )
    )


def hand_over(
    session: Session,
    *,
    actor: User,
    user: User,
    to_user_id: uuid.UUID | None,
    reason: str,
    versions: dict[uuid.UUID, int],
) -> HandOver:
    """Move each of her people to another officer (or peer helper) of her unit, in one go.

    Each move goes through `assign`, so it joins her history with the reason and is
    audited like any reassignment. `versions` are the versions the form was opened at: a
    person changed since (or new to her caseload since) is left as she is and reported.
    """
    require(actor, Action.user_manage, user)
    to_user = next((u for u in handover_choices(session, user) if u.id == to_user_id), None)
    errors = {}
    if to_user is None:
        errors["to_user"] = N_("Choose from the list.")
    reason = " ".join((reason or "").split())
    if not reason:
        errors["reason"] = N_("Give the reason for the change.")
    elif len(reason) > 300:
        errors["reason"] = N_("This is too long.")
    if errors:
        raise Invalid(errors)
    result = HandOver()
    for person in caseload(session, user):
        if person.id not in versions:
            result.stale.append(person)
            continue
        _move(session, actor, user, to_user, person, reason, versions[person.id], result)
    audit.record(
        session,
        user=actor,
        action="user_handover",
        target=user,
        details={
            "to": str(to_user.id),
            "moved": len(result.moved),
            "stale": len(result.stale),
            "refused": len(result.refused),
        },
    )
    session.flush()
    return result


def _move(session, actor, user, to_user, person, reason, version, result: HandOver) -> None:
    officer, helper = person.assigned_officer_id, person.peer_helper_id
    if user.role == Role.officer:
        officer = to_user.id
    else:
        helper = to_user.id
    try:
        assign(
            session=session,
            user=actor,
            person=person,
            officer_id=officer,
            peer_helper_id=helper,
            reason=reason,
            base_version=version,
        )
    except StaleEdit:
        result.stale.append(person)
    except Invalid:
        result.refused.append(person)
    else:
        result.moved.append(person)


def deactivate(session: Session, *, actor: User, user: User, now: datetime) -> dict:
    """She can no longer sign in: her sessions end and her phones stop getting reminders.

    Her records, assignments and audit trail stay as they are.
    """
    require(actor, Action.user_manage, user)
    if user.id == actor.id:
        raise AccountError("active", N_("You cannot deactivate your own account."))
    if not user.active:
        raise AccountError("active", N_("This account is already inactive."))
    user.active = False
    user.updated_at = now
    session.add(user)
    details = {
        "sessions_ended": end_sessions(session, user, reason="deactivated", now=now),
        "push_subscriptions_removed": session.execute(
            delete(PushSubscription).where(PushSubscription.user_id == user.id)
        ).rowcount,
    }
    audit.record(session, user=actor, action="user_deactivate", target=user, details=details)
    session.flush()
    return details


def reactivate(session: Session, *, actor: User, user: User, now: datetime) -> None:
    """She may sign in again, with the password she had."""
    require(actor, Action.user_manage, user)
    if user.active:
        raise AccountError("active", N_("This account is already active."))
    user.active = True
    user.updated_at = now
    session.add(user)
    audit.record(session, user=actor, action="user_reactivate", target=user)
    session.flush()


def end_user_session(
    session: Session, *, actor: User, user: User, session_id: uuid.UUID, now: datetime
) -> UserSession | None:
    """End one signed-in device of hers; None when it is not hers or already ended."""
    row = session.get(UserSession, session_id)
    if actor.id != user.id:
        require(actor, Action.user_manage, user)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return None
    reason = "ended_by_user" if actor.id == user.id else "ended_by_admin"
    end_session(session, row, reason=reason, now=now)
    audit.record(
        session,
        user=actor,
        action="session_end",
        target=user,
        details={"session": str(row.id), "label": row.label, "reason": reason},
    )
    session.flush()
    return row
