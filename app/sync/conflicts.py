"""Conflicts resolved by people: hers and the current record, field by field.

`resolve_conflict(*, session, user, conflict_id, base_version, picks, merged)` makes
the next version through the same write path as the online forms (`edit_visit`,
`edit_group_session`, `correct_contact`), with `base_version` the version the officer saw
while choosing. Both originals stay: the server's in the record's history, hers in the
conflict row.
Resolving twice changes nothing the second time. The caller commits. No Flask in here.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import Outcome, WriteResult, refused
from app.groups import fields as group_fields
from app.groups.attendance import attendees_of
from app.groups.service import edit_group_session
from app.models import GroupSession, Person, SyncConflict, User, Visit
from app.people.contact import CONTACT_FIELDS, correct_contact
from app.types import utcnow
from app.visits.fields import CONTENT_FIELDS, TEXT_FIELDS, restore, snapshot
from app.visits.service import edit_visit

VISIT_FIELDS = tuple(name for name in CONTENT_FIELDS if name != "person_id")
PICKS = ("mine", "current", "merged")


@dataclass(frozen=True)
class FieldChoice:
    """One field of the record: her value, the current one, and whether it is free text."""

    name: str
    mine: object
    current: object
    differs: bool
    text: bool


def is_visit(conflict: SyncConflict) -> bool:
    return conflict.kind.startswith("visit.")


def is_group(conflict: SyncConflict) -> bool:
    return conflict.kind.startswith("group.")


def current_record(session: Session, conflict: SyncConflict) -> tuple[dict, int]:
    """The record as it stands now (not as it was when the conflict arose), and its version."""
    if is_group(conflict):
        group = session.get(GroupSession, conflict.record_id)
        return group_fields.group_snapshot(group, attendees_of(session, group)), group.version
    if is_visit(conflict):
        visit = session.get(Visit, conflict.record_id)
        return snapshot(visit), visit.version
    person = session.get(Person, conflict.record_id)
    return {name: getattr(person, name) for name in CONTACT_FIELDS}, person.version


def field_choices(session: Session, conflict: SyncConflict) -> tuple[list[FieldChoice], int]:
    """Every field she sent beside the current value, and the version now on the server."""
    current, version = current_record(session, conflict)
    if is_group(conflict):
        names, texts = group_fields.CONTENT_FIELDS, group_fields.TEXT_FIELDS
        shown = group_fields.restore
    elif is_visit(conflict):
        names, texts, shown = VISIT_FIELDS, TEXT_FIELDS, restore
    else:
        names = [n for n in CONTACT_FIELDS if n in conflict.incoming]
        texts, shown = (), restore
    mine_shown, current_shown = shown(conflict.incoming), shown(current)
    choices = [
        FieldChoice(
            name,
            mine_shown.get(name),
            current_shown.get(name),
            conflict.incoming.get(name) != current.get(name),
            name in texts,
        )
        for name in names
    ]
    return choices, version


def open_conflicts(session: Session, user: User) -> list[SyncConflict]:
    """Her unresolved conflicts, oldest first."""
    query = (
        select(SyncConflict)
        .where(SyncConflict.user_id == user.id, SyncConflict.resolved_at.is_(None))
        .order_by(SyncConflict.created_at)
    )
    return list(session.exec(query))


def _chosen(choices: list[FieldChoice], conflict, current, picks, merged) -> dict:
    chosen = dict(current)
    for choice in choices:
        pick = picks.get(choice.name, "mine")
        if not choice.differs or pick == "current":
            continue
        if pick == "merged" and choice.text:
            chosen[choice.name] = str(merged.get(choice.name, ""))
        else:
            chosen[choice.name] = conflict.incoming.get(choice.name)
    return chosen


def _mark_resolved(session, user, conflict: SyncConflict, version: int, now) -> None:
    conflict.resolved_at, conflict.resolved_by_id, conflict.resolved_version = now, user.id, version
    audit.record(
        session,
        user=user,
        action="sync_conflict_resolve",
        person=session.get(Person, conflict.person_id),
        target=conflict,
        details={"version": version},
    )


def resolve_conflict(
    *,
    session: Session,
    user: User,
    conflict_id: uuid.UUID,
    base_version: int,
    picks: Mapping[str, str],
    merged: Mapping[str, str],
    now: datetime | None = None,
) -> WriteResult:
    """Save what she chose as the next version, made on `base_version`; flushes."""
    now = now or utcnow()
    conflict = session.get(SyncConflict, conflict_id)
    if conflict is None or conflict.user_id != user.id:
        return refused(N_("This is not your conflict."))
    if conflict.resolved_at is not None:
        return WriteResult(Outcome.duplicate, conflict)
    choices, _version = field_choices(session, conflict)
    current, _version = current_record(session, conflict)
    data = _chosen(choices, conflict, current, picks, merged)
    if is_group(conflict):
        result = edit_group_session(
            session=session,
            user=user,
            group_id=conflict.record_id,
            base_version=base_version,
            data=data,
            now=now,
        )
    elif is_visit(conflict):
        result = edit_visit(
            session=session,
            user=user,
            visit_id=conflict.record_id,
            base_version=base_version,
            data=data,
            now=now,
        )
    else:
        result = correct_contact(
            session=session,
            user=user,
            person_id=conflict.record_id,
            base_version=base_version,
            data={name: data[name] for name in CONTACT_FIELDS if name in conflict.incoming},
            # one change per conflict and version seen: a double submit answers the same
            item_id=uuid.uuid5(conflict.id, str(base_version)),
            now=now,
        )
    if not result.saved:
        return WriteResult(result.outcome, conflict, result.errors)
    _mark_resolved(session, user, conflict, result.record.version, now)
    return WriteResult(result.outcome, conflict)
