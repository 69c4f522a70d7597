"""Support applications (consent) and support plans: versioned records, no Flask in here.

A change adds a version; earlier versions stay readable. Saving the same `record_id`
twice saves once. A form saved on an older version than the one in force saves nothing
and raises `StaleEdit`: of two people editing the same version, the first one saved is
kept and the other sees it beside her own input. The caller commits.
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
from app.models import Consent, Person, SupportPlan, User
from app.people.validation import Invalid, clean_consent, clean_plan
from app.policy import Action, require
from app.types import utcnow


def _latest(session: Session, model, person: Person):
    return session.exec(
        select(model).where(model.person_id == person.id).order_by(model.version.desc()).limit(1)
    ).first()


def _versions(session: Session, model, person: Person, author) -> list:
    """Every version, newest first, each with the user who wrote it."""
    return list(
        session.exec(
            select(model, User)
            .join(User, User.id == author)
            .where(model.person_id == person.id)
            .order_by(model.version.desc())
        )
    )


def current_consent(session: Session, person: Person) -> Consent | None:
    """The support application in force: the latest version."""
    return _latest(session, Consent, person)


def consent_versions(session: Session, person: Person) -> list[tuple[Consent, User]]:
    return _versions(session, Consent, person, Consent.taken_by_id)


def current_plan(session: Session, person: Person) -> SupportPlan | None:
    """The support plan in force: the latest version."""
    return _latest(session, SupportPlan, person)


def plan_versions(session: Session, person: Person) -> list[tuple[SupportPlan, User]]:
    return _versions(session, SupportPlan, person, SupportPlan.author_id)


def _replayed(session: Session, model, record_id: uuid.UUID | None, person: Person):
    """The record already saved under this id, when a form or a phone sends it again."""
    if record_id is None:
        return None
    existing = session.get(model, record_id)
    return existing if existing is not None and existing.person_id == person.id else None


def _touch(person: Person) -> None:
    person.version += 1
    person.updated_at = utcnow()


def _check_base(latest, base_version: int) -> None:
    if (latest.version if latest else 0) != base_version:
        raise StaleEdit(latest)


def _add_version(
    session: Session, *, user: User, person: Person, record, action: str, zone: ZoneInfo
):
    """Save the next version of a versioned record; her due date and the audit follow.

    Two saves of one version race for the same (person, version) key and her record's
    version: the second raises `StaleEdit` with the version that won.
    """
    with versioned(session, person, lambda: _latest(session, type(record), person)):
        session.add(record)
        _touch(person)
        session.flush()
        refresh_next_due(session, person)
        audit.record(
            session,
            user=user,
            action=action,
            person=person,
            target=record,
            details={"version": record.version},
        )
    return record


def record_consent(
    *,
    session: Session,
    user: User,
    person: Person,
    data: Mapping,
    today: date,
    zone: ZoneInfo,
    base_version: int,
    record_id: uuid.UUID | None = None,
) -> Consent:
    """A new version of her support application, taken by `user`; it ends a withdrawal.

    `base_version` is the version in force when the form was opened (0: none yet).
    """
    require(user, Action.consent_record, person)
    if (existing := _replayed(session, Consent, record_id, person)) is not None:
        return existing
    cleaned = clean_consent(data, today=today)
    latest = current_consent(session, person)
    _check_base(latest, base_version)
    consent = Consent(
        id=record_id or uuid.uuid4(),
        person_id=person.id,
        version=latest.version + 1 if latest else 1,
        taken_by_id=user.id,
        **cleaned,
    )
    person.consent_withdrawn_at = None
    return _add_version(
        session, user=user, person=person, record=consent, action="consent_record", zone=zone
    )


def withdraw_consent(
    *, session: Session, user: User, person: Person, reason: str, zone: ZoneInfo
) -> Consent:
    """She withdraws consent: no visits may be recorded or scheduled until she signs again."""
    require(user, Action.consent_record, person)
    consent = current_consent(session, person)
    if consent is None or consent.withdrawn_at is not None:
        raise Invalid({"reason": N_("There is no consent in force to withdraw.")})
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid({"reason": N_("Give the reason for the change.")})
    if len(reason) > 300:
        raise Invalid({"reason": N_("This is too long.")})
    with versioned(session, person, lambda: current_consent(session, person)):
        consent.withdrawn_at = utcnow()
        consent.withdrawn_reason = reason
        session.add(consent)
        person.consent_withdrawn_at = consent.withdrawn_at
        _touch(person)
        refresh_next_due(session, person)
        audit.record(
            session,
            user=user,
            action="consent_withdraw",
            person=person,
            target=consent,
            details={"version": consent.version},
        )
    return consent


def record_plan(
    *,
    session: Session,
    user: User,
    person: Person,
    data: Mapping,
    today: date,
    zone: ZoneInfo,
    base_version: int,
    record_id: uuid.UUID | None = None,
) -> SupportPlan:
    """A new version of her support plan, written by `user`; the due date follows it.

    `base_version` is the version in force when the form was opened.
    """
    require(user, Action.plan_record, person)
    if (existing := _replayed(session, SupportPlan, record_id, person)) is not None:
        return existing
    cleaned = clean_plan(data, today=today)
    latest = current_plan(session, person)
    _check_base(latest, base_version)
    plan = SupportPlan(
        id=record_id or uuid.uuid4(),
        person_id=person.id,
        version=latest.version + 1 if latest else 1,
        author_id=user.id,
        **cleaned,
    )
    return _add_version(
        session, user=user, person=person, record=plan, action="plan_record", zone=zone
    )
