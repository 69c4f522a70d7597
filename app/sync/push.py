"""A batch of outbox items from a phone, applied one by one through the online write paths.

`push_items(*, session, user, items)` answers each item in order with an `ItemResult`.
Visits go through `record_visit` / `edit_visit`, contact corrections through
`correct_contact`: the same validation, policy and audit as the online forms. Each item
runs in its own SAVEPOINT; whatever one item raises rolls back that SAVEPOINT only and
becomes its `error` answer with a reference that is logged, so one bad item never holds
back the others. The batch commits once (`visit_batch` reads its visits and people once
and stores each person's due standing once); should that commit fail, every item is
applied again on its own, committed alone as before. A batch of new visits only is
first tried without the SAVEPOINTs, its rows written together. No Flask in here.
"""

import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import text
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import LostRace, Outcome, WriteResult, commit, rollback, savepoint
from app.groups.attendance import attendees_of
from app.groups.fields import clean_group, group_snapshot
from app.groups.service import edit_group_session, record_group_session
from app.inputs import Choice, Model, Uuid, validate
from app.models import GroupSession, Person, SyncConflict, SyncReceipt, User, Visit
from app.people.contact import contact_snapshot, correct_contact
from app.sync.receipts import find_receipt, item_digest, keep_conflict
from app.types import utcnow
from app.visits.fields import clean_visit, snapshot
from app.visits.service import NotDeferrable, edit_visit, record_visit, visit_batch

MAX_ITEMS = 100
KINDS = ("visit.create", "visit.edit", "person.contact", "group.create", "group.edit")
# the kinds that make a record under the item's own id, with no version yet
CREATES = ("visit.create", "group.create")
REUSED = N_("This change was already sent with other content. Enter it again.")
FAILED = N_(
    "The server could not save this change (reference %(reference)s). It stays on the phone;"
    " if this does not go away, tell your supervisor the reference."
)
log = logging.getLogger("clover.sync")


@dataclass(frozen=True)
class ItemResult:
    """The answer to one outbox item, as the push endpoint sends it."""

    id: str | None
    status: Outcome
    record_id: uuid.UUID | None = None
    version: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    server: dict | None = None
    conflict_id: uuid.UUID | None = None
    # for an `error`: the reference logged with the failure
    reference: str | None = None


MAX_VERSION = 2**31 - 1  # the version column is a 32-bit integer
UNREADABLE_ITEM = N_("This change could not be read.")
NO_VERSION = N_("This change does not say which version it corrects.")
NO_RECORD = N_("This change names no valid record.")
NO_CONTENT = N_("This change has no content.")
UNKNOWN_KIND = N_("This kind of change is not known.")
NO_ID = N_("This change has no valid identifier.")


class Item(Model):
    """One outbox item: a visit or a group session recorded or corrected, or her contact
    corrected."""

    id: Uuid(NO_ID, required=NO_ID) = Field(
        description="Minted on the device; a resend carries the same id."
    )
    kind: Choice(KINDS, UNKNOWN_KIND, required=UNKNOWN_KIND) = Field(alias="type")
    record_id: Uuid(NO_RECORD, required=NO_RECORD) = Field(
        description="The visit or group session (the item id for a visit.create or a "
        "group.create) or the person."
    )
    base_version: Annotated[int, Field(ge=1, le=MAX_VERSION)] | None = Field(
        default=None,
        description="The version the change was made on: required for visit.edit, "
        "group.edit and person.contact, null for visit.create and group.create.",
    )
    data: dict[str, Any] = Field(
        description="The visit's fields as the visit form posts them (with person_id for a "
        "visit.create), the group session's as its form posts them (attendees: a list of "
        "person ids), or {phone, address} for person.contact."
    )


def parse_item(raw) -> tuple[Item | None, dict[str, list[str]]]:
    """The item's envelope checked: a known type, UUIDs, a version where one is needed."""
    messages = {"_form": UNREADABLE_ITEM, "base_version": NO_VERSION, "data": NO_CONTENT}
    item, errors = validate(Item, raw, messages=messages)
    if item is None:
        return None, errors
    if item.kind in CREATES and item.record_id != item.id:
        errors["record_id"] = [NO_RECORD]
    if item.kind in CREATES and item.base_version is not None:
        errors["base_version"] = [N_("A new record has no version yet: send null.")]
    if item.kind not in CREATES and item.base_version is None:
        errors["base_version"] = [NO_VERSION]
    return (None, errors) if errors else (item, {})


def _visit_server(visit: Visit) -> dict:
    return {**snapshot(visit), "id": str(visit.id), "version": visit.version}


def _from_visit(item: Item, result: WriteResult, conflict: SyncConflict | None = None):
    visit = result.record
    return ItemResult(
        str(item.id),
        result.outcome,
        record_id=visit.id if visit else item.record_id,
        version=visit.version if visit else None,
        errors=result.errors,
        server=_visit_server(visit) if conflict else None,
        conflict_id=conflict.id if conflict else None,
    )


def _incoming(user: User, visit: Visit, data: dict, now: datetime) -> dict:
    """Her change, cleaned as the write path would; a correction names no visit or person."""
    data = {**data, "id": str(visit.id), "person_id": str(visit.person_id)}
    clean, _errors = clean_visit(data, timezone=user.timezone, now=now)
    return snapshot(clean)


def _keep_visit_conflict(session, user, item: Item, visit: Visit, data: dict, now):
    return keep_conflict(
        session,
        user=user,
        person=session.get(Person, visit.person_id),
        kind=item.kind,
        item_id=item.id,
        record_id=visit.id,
        base_version=item.base_version,
        incoming=_incoming(user, visit, data, now),
        server=_visit_server(visit),
        server_version=visit.version,
    )


def _conflict_of(session: Session, item: Item) -> SyncConflict | None:
    return session.exec(select(SyncConflict).where(SyncConflict.item_id == item.id)).first()


def _create_visit(session: Session, user: User, item: Item, now: datetime) -> ItemResult:
    data = {**item.data, "id": str(item.id)}
    result = record_visit(session=session, user=user, data=data, now=now)
    if result.outcome != Outcome.conflict:
        return _from_visit(item, result)
    conflict = _kept_once(
        session, item, lambda: _keep_visit_conflict(session, user, item, result.record, data, now)
    )
    return _from_visit(item, result, conflict)


def _kept_once(session: Session, item: Item, keep) -> SyncConflict:
    """A create whose UUID is stored with other content: hers kept (`keep()`) once, however
    often it is resent, also by a resend running alongside."""
    conflict = _conflict_of(session, item)
    if conflict is None:
        try:
            with savepoint(session):
                conflict = keep()
                session.flush()
        except LostRace:  # kept by a resend running alongside
            conflict = _conflict_of(session, item)
    return conflict


def _receipt_answer(session: Session, item: Item, receipt) -> ItemResult:
    if receipt is False:
        return ItemResult(str(item.id), Outcome.refused, errors={"_form": [REUSED]})
    conflict = session.get(SyncConflict, receipt.conflict_id) if receipt.conflict_id else None
    return ItemResult(
        str(item.id),
        Outcome(receipt.status),
        record_id=receipt.record_id,
        version=receipt.version,
        server=conflict.server if conflict else None,
        conflict_id=conflict.id if conflict else None,
    )


def _edit_visit(session: Session, user: User, item: Item, now: datetime) -> ItemResult:
    def edit():
        return edit_visit(
            session=session,
            user=user,
            visit_id=item.record_id,
            base_version=item.base_version,
            data=item.data,
            now=now,
        )

    def keep(visit):
        return _keep_visit_conflict(session, user, item, visit, item.data, now)

    return _edit_with_receipt(session, user, item, edit, keep, _from_visit)


def _edit_with_receipt(session: Session, user: User, item: Item, edit, keep, answer):
    """An edit answered once per item id: a resend gets the first answer from its receipt."""
    digest = item_digest(item.kind, item.record_id, item.base_version, item.data)
    receipt = find_receipt(session, user, item.id, digest)
    if receipt is not None:
        return _receipt_answer(session, item, receipt)
    # the receipt is claimed first: a request carrying the same item waits on its key,
    # then reads this one's answer; the edit and its receipt commit together or not at all
    claim = SyncReceipt(
        item_id=item.id,
        user_id=user.id,
        kind=item.kind,
        digest=digest,
        record_id=item.record_id,
        status=Outcome.edited,
        version=item.base_version + 1,
    )
    try:
        with savepoint(session):
            session.add(claim)
            session.flush()
    except LostRace:
        return _receipt_answer(session, item, find_receipt(session, user, item.id, digest))
    result = edit()
    if result.outcome == Outcome.edited:
        return answer(item, result)
    if result.outcome not in (Outcome.duplicate, Outcome.conflict):
        session.delete(claim)  # nothing applied, nothing to answer again
        session.flush()
        return answer(item, result)
    record, conflict = result.record, None
    if result.outcome == Outcome.conflict:
        conflict = keep(record)
        session.flush()  # the conflict before the receipt that points to it
    claim.status, claim.version = result.outcome, record.version
    claim.conflict_id = conflict.id if conflict else None
    session.flush()
    return answer(item, result, conflict)


def _correct_contact(session: Session, user: User, item: Item, now: datetime) -> ItemResult:
    result = correct_contact(
        session=session,
        user=user,
        person_id=item.record_id,
        base_version=item.base_version,
        data=item.data,
        item_id=item.id,
        now=now,
    )
    person, conflict = result.record, result.conflict
    return ItemResult(
        str(item.id),
        result.outcome,
        record_id=item.record_id,
        version=person.version if person is not None and result.saved else None,
        errors=result.errors,
        server=contact_snapshot(person) if conflict else None,
        conflict_id=conflict.id if conflict else None,
    )


def group_server(session: Session, group: GroupSession) -> dict:
    """A group session as a conflict shows it: its content, id and version."""
    content = group_snapshot(group, attendees_of(session, group))
    return {**content, "id": str(group.id), "version": group.version}


def _group_answer(session: Session):
    def answer(item: Item, result: WriteResult, conflict: SyncConflict | None = None):
        group = result.record
        return ItemResult(
            str(item.id),
            result.outcome,
            record_id=group.id if group else item.record_id,
            version=group.version if group else None,
            errors=result.errors,
            server=group_server(session, group) if conflict else None,
            conflict_id=conflict.id if conflict else None,
        )

    return answer


def _keep_group_conflict(session, user, item: Item, group: GroupSession, now):
    """Her version of the session beside the server's, kept under her first attendee."""
    clean, _errors = clean_group(
        {**item.data, "id": str(group.id)}, timezone=user.timezone, now=now
    )
    clean["leader_id"] = clean.get("leader_id") or group.leader_id
    incoming = group_snapshot(clean)
    first = (incoming["attendees"] or [str(a) for a in attendees_of(session, group)])[0]
    return keep_conflict(
        session,
        user=user,
        person=session.get(Person, uuid.UUID(first)),
        kind=item.kind,
        item_id=item.id,
        record_id=group.id,
        base_version=item.base_version,
        incoming=incoming,
        server=group_server(session, group),
        server_version=group.version,
    )


def _create_group(session: Session, user: User, item: Item, now: datetime) -> ItemResult:
    data = {**item.data, "id": str(item.id)}
    result = record_group_session(session=session, user=user, data=data, now=now)
    answer = _group_answer(session)
    if result.outcome != Outcome.conflict:
        return answer(item, result)
    conflict = _kept_once(
        session, item, lambda: _keep_group_conflict(session, user, item, result.record, now)
    )
    return answer(item, result, conflict)


def _edit_group(session: Session, user: User, item: Item, now: datetime) -> ItemResult:
    def edit():
        return edit_group_session(
            session=session,
            user=user,
            group_id=item.record_id,
            base_version=item.base_version,
            data=item.data,
            now=now,
        )

    def keep(group):
        return _keep_group_conflict(session, user, item, group, now)

    return _edit_with_receipt(session, user, item, edit, keep, _group_answer(session))


APPLY = {
    "visit.create": _create_visit,
    "visit.edit": _edit_visit,
    "person.contact": _correct_contact,
    "group.create": _create_group,
    "group.edit": _edit_group,
}


def _raw_id(raw) -> str | None:
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    return str(raw_id)[:64] if isinstance(raw_id, str | int) and raw_id != "" else None


def _failed(user: User, item: Item) -> ItemResult:
    """The `error` answer of an item the server failed on; the failure is logged."""
    reference = secrets.token_hex(6)
    log.exception("sync item %s of user %s failed, reference %s", item.id, user.id, reference)
    return ItemResult(str(item.id), Outcome.error, errors={"_form": [FAILED]}, reference=reference)


def _push_alone(session: Session, user: User, item: Item, now: datetime) -> ItemResult:
    """One item in its own SAVEPOINT, committed on its own; a failure is its `error`."""
    try:
        with session.begin_nested():
            result = APPLY[item.kind](session, user, item, now)
        commit(session)
    except Exception:  # noqa: BLE001 - whatever one item raises must not stop the batch
        rollback(session)
        return _failed(user, item)
    return result


def _push_in_batch(session: Session, user: User, item: Item, now: datetime) -> ItemResult:
    """One item in its own SAVEPOINT of the batch's transaction; a failure is its `error`."""
    # what waits for the commit (a saved visit's alerts, kept by `contract.after_commit`)
    # goes with the item if it fails
    waiting = session.info.setdefault("after_commit", [])
    before = len(waiting)
    try:
        with session.begin_nested():
            return APPLY[item.kind](session, user, item, now)
    except Exception:  # noqa: BLE001 - whatever one item raises must not stop the batch
        del waiting[before:]
        return _failed(user, item)


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _named(items: list[Item]) -> tuple[set, set]:
    """The visits and people a batch names, to read each once for all of its items."""
    visits, people = set(), set()
    for item in items:
        if item.kind == "person.contact":
            people.add(item.record_id)
            continue
        if not item.kind.startswith("visit."):
            continue  # a group session reads its attendees itself
        visits.add(item.record_id)
        person_id = _uuid(item.data.get("person_id"))
        if item.kind == "visit.create" and person_id is not None:
            people.add(person_id)
    return visits, people


def _queue_for_the_audit_chain(session: Session) -> None:
    """On PostgreSQL, take the audit chain's lock before any row lock of the batch.

    The batch holds it to its commit once it has written one audit row; taken first, two
    batches queue here instead of each holding a row the other waits for.
    """
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": audit.CHAIN_LOCK})


def _push_batch(session: Session, user: User, valid: list[Item], now, *, deferred: bool):
    """The batch's items in one transaction, committed once: their answers by item."""
    if valid:
        _queue_for_the_audit_chain(session)
    visits, people = _named(valid)
    # deferred, every item is a new visit, and one failing fails the attempt
    push = APPLY["visit.create"] if deferred else _push_in_batch
    with visit_batch(session, visit_ids=visits, person_ids=people, now=now, deferred=deferred):
        applied = {id(item): push(session, user, item, now) for item in valid}
    commit(session)
    return applied


def push_items(
    *, session: Session, user: User, items: list, now: datetime | None = None
) -> list[ItemResult]:
    """Apply each item in order; the batch commits once.

    A batch of new visits only (a phone catching up) is first written together, a few
    statements for all of it. Should that meet anything else (a visit stored already, a
    clash with a request alongside), it is rolled back and applied again with each item
    in its own SAVEPOINT; should that fail as a whole, each item alone.
    """
    now = now or utcnow()
    parsed = [parse_item(raw) for raw in items]
    valid = [item for item, _errors in parsed if item is not None]
    applied = None
    if valid and all(item.kind == "visit.create" for item in valid):
        try:
            applied = _push_batch(session, user, valid, now, deferred=True)
        except NotDeferrable:
            rollback(session)
        except Exception:  # noqa: BLE001 - e.g. an id saved alongside: the careful way
            rollback(session)
            log.info("sync batch of user %s goes again item by item", user.id, exc_info=True)
    if applied is None:
        try:
            applied = _push_batch(session, user, valid, now, deferred=False)
        except Exception:  # noqa: BLE001 - the batch as a whole failed: each item alone
            rollback(session)
            log.exception("sync batch of user %s failed; its items go again one by one", user.id)
            applied = {id(item): _push_alone(session, user, item, now) for item in valid}
    return [
        applied[id(item)]
        if item is not None
        else ItemResult(_raw_id(raw), Outcome.invalid, errors=errors)
        for raw, (item, errors) in zip(items, parsed, strict=True)
    ]
