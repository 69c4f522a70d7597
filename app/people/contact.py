"""Correcting a person's phone or address: the online form and the offline sync call this.

`correct_contact(*, session, user, person_id, base_version, data, item_id)` checks the
policy (`person.contact`), validates (`clean_contact`), and commits. `item_id` names the
change (the form's hidden field, an outbox item's id): the same item again answers what
it answered the first time, from its `SyncReceipt`. A correction made on an older
version of her record whose phone or address changed since is never applied over
the newer one: it is kept as a `SyncConflict` for the officer to resolve. Outcomes as for visits
(`app.visits.service.Outcome`): edited, duplicate, conflict, invalid, refused.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.models import AuditEvent, Person, SyncConflict, SyncReceipt, User
from app.people.validation import Invalid, clean_contact
from app.policy import Action, can
from app.sync.receipts import find_receipt, item_digest, keep_conflict
from app.types import utcnow
from app.visits.service import Outcome

KIND = "person.contact"
# the writes that can change her phone or address; each audits the fields and new version
CONTACT_WRITES = ("person_update", "person_contact")
CONTACT_FIELDS = ("phone", "address")
NOT_YOURS = N_("You may not correct her contact details.")
REUSED = N_("This change was already sent with other content. Enter it again.")


@dataclass(frozen=True)
class ContactResult:
    outcome: Outcome
    person: Person | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflict: SyncConflict | None = None

    @property
    def saved(self) -> bool:
        return self.outcome in (Outcome.edited, Outcome.duplicate)


def contact_snapshot(person: Person) -> dict:
    """Her contact details as they stand, with the version they belong to."""
    return {"phone": person.phone, "address": person.address, "version": person.version}


def _answered(session: Session, receipt: SyncReceipt | bool, person: Person) -> ContactResult:
    if receipt is False:
        return ContactResult(Outcome.refused, errors={"_form": [REUSED]})
    conflict = session.get(SyncConflict, receipt.conflict_id) if receipt.conflict_id else None
    return ContactResult(Outcome(receipt.status), person, conflict=conflict)


def _changed_since(session: Session, person: Person, base_version: int, names) -> bool:
    """Did anyone change these fields after `base_version`?

    Her version also moves for a status change, an assignment or a visit that ends
    'lost contact'; none of those touch her phone or address, so none is a conflict.
    """
    if base_version == person.version:
        return False
    if not 1 <= base_version < person.version:
        return True
    details = session.exec(
        select(AuditEvent.details).where(
            AuditEvent.person_id == person.id, AuditEvent.action.in_(CONTACT_WRITES)
        )
    ).all()
    return any(
        d.get("version", 0) > base_version and set(d.get("fields", [])) & set(names)
        for d in details
    )


def _apply(session: Session, user: User, person: Person, clean: dict, now: datetime) -> None:
    changed = sorted(name for name, value in clean.items() if getattr(person, name) != value)
    for name, value in clean.items():
        setattr(person, name, value)
    person.version += 1
    person.updated_at = now
    # field names only: the audit trail must not become a second copy of the data
    audit.record(
        session,
        user=user,
        action="person_contact",
        person=person,
        target=person,
        details={"fields": changed, "version": person.version},
    )


def correct_contact(
    *,
    session: Session,
    user: User,
    person_id: uuid.UUID,
    base_version: int,
    data: dict,
    item_id: uuid.UUID,
    now: datetime | None = None,
) -> ContactResult:
    """Correct her phone and/or address as seen at `base_version`; commits."""
    now = now or utcnow()
    person = session.get(Person, person_id)
    digest = item_digest(KIND, person_id, base_version, data)
    receipt = find_receipt(session, user, item_id, digest)
    if receipt is not None:
        return _answered(session, receipt, person)
    if person is None or not can(user, Action.person_contact, person):
        return ContactResult(Outcome.refused, errors={"_form": [NOT_YOURS]})
    try:
        clean = clean_contact(data)
    except Invalid as invalid:
        errors = {name: [message] for name, message in invalid.errors.items()}
        return ContactResult(Outcome.invalid, person, errors=errors)
    conflict = None
    try:
        if all(getattr(person, name) == value for name, value in clean.items()):
            outcome = Outcome.duplicate
        elif _changed_since(session, person, base_version, clean):
            outcome = Outcome.conflict
            conflict = keep_conflict(
                session,
                user=user,
                person=person,
                kind=KIND,
                item_id=item_id,
                record_id=person.id,
                base_version=base_version,
                incoming=clean,
                server=contact_snapshot(person),
                server_version=person.version,
            )
            session.flush()  # the conflict before the receipt that points to it
        else:
            outcome = Outcome.edited
            _apply(session, user, person, clean, now)
        session.add(
            SyncReceipt(
                item_id=item_id,
                user_id=user.id,
                kind=KIND,
                record_id=person.id,
                digest=digest,
                status=outcome.value,
                version=person.version,
                conflict_id=conflict.id if conflict else None,
            )
        )
        session.commit()
    except IntegrityError:
        # the same item answered by a request running alongside: give its answer
        session.rollback()
        receipt = find_receipt(session, user, item_id, digest)
        if receipt is None:
            raise
        return _answered(session, receipt, session.get(Person, person_id))
    return ContactResult(outcome, person, conflict=conflict)
