"""PIPL retention: a closed person's records are anonymised N years after her closing.

N is her unit's `retention_years`. The ledger stays (counts, dates and kinds of visits
still make the unit's reports), but everything that names or describes her is cleared.
Her audit rows are kept: their details are scrubbed and replaced by a redaction marker
holding the digest of what was there and the id of the retention row that did it, so
the hash chain still verifies (see app/audit.py). No Flask here.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from app import audit
from app.models import (
    Assignment,
    AuditEvent,
    Consent,
    Person,
    PersonStatus,
    ReleasePreparation,
    StatusChange,
    SupportPlan,
    SyncConflict,
    Unit,
    Visit,
    VisitVersion,
)

ANONYMISED = "已匿名"
# free text a visit (and each kept version of it) may hold about her
VISIT_TEXT = ("notes", "agreed_actions")


@dataclass(frozen=True)
class Due:
    """A person whose retention period has run out."""

    person: Person
    unit: Unit
    closed_on: date


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def due_for_anonymising(session: Session, *, today: date) -> list[Due]:
    """Closed people whose latest closing is older than their unit's retention period."""
    closed_on = (
        select(StatusChange.person_id, func.max(StatusChange.effective_on).label("closed_on"))
        .where(StatusChange.to_status == PersonStatus.closed)
        .group_by(StatusChange.person_id)
        .subquery()
    )
    rows = session.exec(
        select(Person, Unit, closed_on.c.closed_on)
        .join(Unit, Unit.id == Person.unit_id)
        .join(closed_on, closed_on.c.person_id == Person.id)
        .where(Person.status == PersonStatus.closed, Person.name != ANONYMISED)
        .order_by(closed_on.c.closed_on, Person.id)
    ).all()
    return [
        Due(person, unit, closed)
        for person, unit, closed in rows
        if closed < _years_before(today, unit.retention_years)
    ]


def anonymise(session: Session, due: Due) -> AuditEvent:
    """Clear what names or describes her; scrub her audit rows; record that it was done."""
    person = due.person
    person.name, person.search_keys = ANONYMISED, ""
    person.phone = person.address = person.date_of_birth = None
    person.id_number_encrypted = person.id_number_hash = person.id_number_tail = None
    person.emergency_contacts = []
    session.add(person)
    visits = session.exec(select(Visit).where(Visit.person_id == person.id)).all()
    for visit in visits:
        visit.notes = visit.agreed_actions = ""
        session.add(visit)
    versions = session.exec(
        select(VisitVersion)
        .join(Visit, Visit.id == VisitVersion.visit_id)
        .where(Visit.person_id == person.id)
    ).all()
    for version in versions:
        version.content = {**version.content, **{key: "" for key in VISIT_TEXT}}
        session.add(version)
    for plan in session.exec(select(SupportPlan).where(SupportPlan.person_id == person.id)):
        plan.goals = ""
        session.add(plan)
    for consent in session.exec(select(Consent).where(Consent.person_id == person.id)):
        consent.preferred_contact_times, consent.withdrawn_reason = "", ""
        session.add(consent)
    for change in session.exec(select(StatusChange).where(StatusChange.person_id == person.id)):
        change.note = ""
        session.add(change)
    for assignment in session.exec(select(Assignment).where(Assignment.person_id == person.id)):
        assignment.reason = ""
        session.add(assignment)
    for conflict in session.exec(select(SyncConflict).where(SyncConflict.person_id == person.id)):
        conflict.incoming, conflict.server = {}, {}
        session.add(conflict)
    preparation = select(ReleasePreparation).where(ReleasePreparation.person_id == person.id)
    for item in session.exec(preparation):
        item.note = ""
        session.add(item)
    rows = [
        row
        for row in session.exec(select(AuditEvent).where(AuditEvent.person_id == person.id))
        if row.details and audit.REDACTED not in row.details
    ]
    details = {
        "closed_on": due.closed_on.isoformat(),
        "years": due.unit.retention_years,
        "visits": len(visits),
        "audit_rows_scrubbed": len(rows),
    }
    done = audit.record(
        session, user=None, action=audit.RETENTION_ACTION, person=person, details=details
    )
    with audit.retention_window(session):
        for row in rows:
            digest = audit.details_digest(row.details)
            row.details = {audit.REDACTED: {"digest": digest, "by": str(done.id)}}
            session.add(row)
    return done


def run(session: Session, *, today: date, dry_run: bool) -> list[Due]:
    """Anonymise everyone due (or only list them); the caller commits."""
    due = due_for_anonymising(session, today=today)
    if not dry_run:
        for item in due:
            anonymise(session, item)
    return due
