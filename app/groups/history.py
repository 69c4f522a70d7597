"""A group session's versions, newest first, for its history page. No Flask in here."""

from sqlmodel import Session, select

from app.groups.attendance import attendees_of
from app.groups.fields import changed_fields, group_snapshot, restore
from app.models import GroupSession, GroupSessionVersion
from app.versions import VersionView, newest_first


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
    return newest_first(rows, changed_fields=changed_fields, restore=restore)
