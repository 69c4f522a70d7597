"""A group session's versions, newest first, for its history page. No Flask in here."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from app.groups.attendance import attendees_of
from app.groups.fields import changed_fields, group_snapshot, restore
from app.models import GroupSession, GroupSessionVersion


@dataclass(frozen=True)
class VersionView:
    """One version of a group session as the history page shows it."""

    version: int
    content: dict
    author_id: uuid.UUID
    saved_at: datetime
    changed: list[str]


def group_history(session: Session, group: GroupSession) -> list[VersionView]:
    """Every version of a group session, newest first, each with the fields it changed."""
    older = session.exec(
        select(GroupSessionVersion)
        .where(GroupSessionVersion.group_session_id == group.id)
        .order_by(GroupSessionVersion.version)
    ).all()
    rows = [(v.version, v.content, v.author_id, v.saved_at) for v in older]
    current = group_snapshot(group, attendees_of(session, group))
    rows.append((group.version, current, group.edited_by_id or group.author_id, group.updated_at))
    views, previous = [], None
    for version, content, author_id, saved_at in rows:
        changed = changed_fields(previous, content) if previous is not None else []
        views.append(VersionView(version, restore(content), author_id, saved_at, changed))
        previous = content
    return views[::-1]
