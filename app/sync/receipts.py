"""Receipts and kept conflicts: how a resent outbox item gets the answer it got before.

No Flask in here: the sync push, the contact form and the conflict pages share it.
"""

import hashlib
import json
import uuid

from sqlmodel import Session, select

from app import audit
from app.models import Person, SyncConflict, SyncReceipt, User


def item_digest(kind: str, record_id, base_version, data) -> str:
    """A fingerprint of a change as sent: the same item id with another one is not a resend."""
    text = json.dumps(
        [kind, str(record_id), base_version, data], sort_keys=True, ensure_ascii=False, default=str
    )
    # a lone surrogate must reach validation and be refused there, not fail here
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def find_receipt(session: Session, user: User, item_id: uuid.UUID, digest: str):
    """The receipt of this item if it was answered before; `False` when the id is not hers.

    An id already used by someone else, or with other content, is not a resend: the
    caller refuses it rather than answer with another change's result.
    """
    receipt = session.get(SyncReceipt, item_id)
    if receipt is None:
        return None
    if receipt.user_id != user.id or receipt.digest != digest:
        return False
    return receipt


def keep_conflict(
    session: Session,
    *,
    user: User,
    person: Person,
    kind: str,
    item_id: uuid.UUID,
    record_id: uuid.UUID,
    base_version: int | None,
    incoming: dict,
    server: dict,
    server_version: int,
) -> SyncConflict:
    """Keep a change that met a newer version whole, for the officer to resolve; uncommitted."""
    conflict = SyncConflict(
        item_id=item_id,
        user_id=user.id,
        person_id=person.id,
        kind=kind,
        record_id=record_id,
        base_version=base_version,
        incoming=incoming,
        server=server,
        server_version=server_version,
    )
    session.add(conflict)
    audit.record(
        session,
        user=user,
        action="sync_conflict",
        person=person,
        target=conflict,
        details={"kind": kind, "record_id": str(record_id), "server_version": server_version},
    )
    return conflict


def conflicts_of_record(session: Session, record_id: uuid.UUID) -> list[SyncConflict]:
    """Every conflict kept for a visit or a person, for its history page."""
    query = select(SyncConflict).where(SyncConflict.record_id == record_id)
    return list(session.exec(query.order_by(SyncConflict.created_at)))
