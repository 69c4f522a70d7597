"""When the next follow-up is due under a person's plan: one rule, stored on the person.

`Person.next_due_on` is kept by `refresh_next_due`; call it after anything that moves
the date: a visit recorded, a plan, a status or a consent changed.
"""

from datetime import UTC, date, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import (
    FIRST_CONTACT_DAYS,
    OPEN_STATUSES,
    PRE_RELEASE_DAYS,
    Person,
    PersonStatus,
    SupportPlan,
    Unit,
    Visit,
    default_cadence,
)


def every_days_at(cadence: list[dict], day: int) -> int:
    """The interval of the phase that covers `day` days since release."""
    for phase in cadence:
        if phase["until_day"] is None or day < phase["until_day"]:
            return phase["every_days"]
    return cadence[-1]["every_days"]


def next_due_on(
    *,
    status: str,
    consent_withdrawn: bool,
    release_date: date | None,
    last_contact_on: date | None,
    cadence: list[dict],
) -> date | None:
    """The date the next contact is due, or None when none is (paused, closed, withdrawn).

    Before release: a contact `PRE_RELEASE_DAYS` before it, then the first contact
    `FIRST_CONTACT_DAYS` after it. After release: the interval of the phase she is in,
    counted from the last contact.
    """
    if status not in OPEN_STATUSES or consent_withdrawn:
        return None
    cadence = cadence or default_cadence()
    if release_date is None:
        return (
            last_contact_on + timedelta(days=cadence[0]["every_days"]) if last_contact_on else None
        )
    preparation = release_date - timedelta(days=PRE_RELEASE_DAYS)
    if status == PersonStatus.pre_release and (
        last_contact_on is None or last_contact_on < preparation
    ):
        return preparation
    if last_contact_on is None or last_contact_on < release_date:
        return release_date + timedelta(days=FIRST_CONTACT_DAYS)
    day = (last_contact_on - release_date).days
    return last_contact_on + timedelta(days=every_days_at(cadence, day))


def current_cadence(session: Session, person: Person) -> list[dict]:
    """The cadence of her plan in force, or her unit's default."""
    plan = session.exec(
        select(SupportPlan.cadence)
        .where(SupportPlan.person_id == person.id)
        .order_by(SupportPlan.version.desc())
        .limit(1)
    ).first()
    if plan:
        return plan
    unit = session.get(Unit, person.unit_id)
    return unit.default_cadence if unit else default_cadence()


def last_contact_on(session: Session, person: Person, *, zone) -> date | None:
    """The local date of her latest completed contact (failed attempts do not count)."""
    latest = session.exec(
        select(func.max(Visit.occurred_at)).where(
            Visit.person_id == person.id, Visit.failure_reason.is_(None)
        )
    ).one()
    if latest is None:
        return None
    if latest.tzinfo is None:  # an aggregate may come back without the column's type
        latest = latest.replace(tzinfo=UTC)
    return latest.astimezone(zone).date()


def refresh_next_due(session: Session, person: Person, *, zone) -> date | None:
    """Recompute and set `person.next_due_on`; `zone` is the unit's time zone."""
    person.next_due_on = next_due_on(
        status=person.status,
        consent_withdrawn=person.consent_withdrawn_at is not None,
        release_date=person.release_date,
        last_contact_on=last_contact_on(session, person, zone=zone),
        cadence=current_cadence(session, person),
    )
    session.add(person)
    return person.next_due_on
