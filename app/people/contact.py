"""Correcting a person's phone or address: the online form and the offline sync call this.

`correct_contact(*, session, user, person_id, base_version, data, item_id)` checks the
policy (`person.contact`), validates (`clean_contact`) and flushes; the caller commits
(`app.contract`). `item_id` names the change (the form's hidden field, an outbox item's
id): the same item again answers what it answered the first time, from its
`SyncReceipt`. A correction made on an older version of her record whose phone or
address changed since is never applied over the newer one: it is kept as a
`SyncConflict` for the officer to resolve. Outcomes as for visits: edited, duplicate,
conflict, invalid, refused; the `WriteResult`'s record is the person.
"""

import uuid
from datetime import datetime

from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import LostRace, Outcome, WriteResult, refused, savepoint
from app.models import AuditEvent, Person, SyncConflict, SyncReceipt, User
from app.people.validation import Invalid, clean_contact
from app.policy import Action, can
from app.sync.receipts import find_receipt, item_digest, keep_conflict
from app.types import utcnow

KIND = "person.contact"
# the writes that can change her phone or address; each audits the fields and new version
CONTACT_WRITES = ("person_update", "person_contact")
CONTACT_FIELDS = ("phone", "address")
NOT_YOURS = N_("You may not correct her contact details.")
REUSED = N_("This change was already sent with other content. Enter it again.")
# a correction that loses a race is judged again on the newer version, this often at most
ATTEMPTS = 3


def contact_snapshot(person: Person) -> dict:
    """Her contact details as they stand, with the version they belong to."""
    return {"phone": person.phone, "address": person.address, "version": person.version}


def _answered(session: Session, receipt: SyncReceipt | bool, person: Person) -> WriteResult:
    if receipt is False:
        return refused(REUSED)
    conflict = session.get(SyncConflict, receipt.conflict_id) if receipt.conflict_id else None
    return WriteResult(Outcome(receipt.status), person, conflict=conflict)


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


def _settle(session, user, person: Person, base_version: int, clean: dict, receipt: dict, now):
    """Apply the correction, or keep it as a conflict; its receipt joins either."""
    conflict = None
    if all(getattr(person, name) == value for name, value in clean.items()):
        outcome = Outcome.duplicate
    elif _changed_since(session, person, base_version, clean):
        outcome = Outcome.conflict
        conflict = keep_conflict(
            session,
            user=user,
            person=person,
            kind=KIND,
            item_id=receipt["item_id"],
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
            **receipt,
            record_id=person.id,
            status=outcome.value,
            version=person.version,
            conflict_id=conflict.id if conflict else None,
        )
    )
    session.flush()
    return WriteResult(outcome, person, conflict=conflict)


def correct_contact(
    *,
    session: Session,
    user: User,
    person_id: uuid.UUID,
    base_version: int,
    data: dict,
    item_id: uuid.UUID,
    now: datetime | None = None,
) -> WriteResult:
    """Correct her phone and/or address as seen at `base_version`; flushes."""
    now = now or utcnow()
    person = session.get(Person, person_id)
    digest = item_digest(KIND, person_id, base_version, data)
    receipt = find_receipt(session, user, item_id, digest)
    if receipt is not None:
        return _answered(session, receipt, person)
    if person is None or not can(user, Action.person_contact, person):
        return refused(NOT_YOURS)
    try:
        clean = clean_contact(data)
    except Invalid as invalid:
        errors = {name: [message] for name, message in invalid.errors.items()}
        return WriteResult(Outcome.invalid, person, errors=errors)
    receipt = {"item_id": item_id, "user_id": user.id, "kind": KIND, "digest": digest}
    attempts = 0
    while True:
        try:
            with savepoint(session):
                return _settle(session, user, person, base_version, clean, receipt, now)
        except LostRace:
            # the same item answered alongside: its answer; else her record changed under
            # this one: judge the correction again on the newer version
            answered = find_receipt(session, user, item_id, digest)
            if answered is not None:
                return _answered(session, answered, session.get(Person, person_id))
            attempts += 1
            if attempts == ATTEMPTS:
                raise
            session.refresh(person)
