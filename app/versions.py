"""A record's versions as its history page shows them: newest first, each with what changed.

Visits and group sessions keep each replaced version's content as a snapshot; the history
pages read them through `newest_first`. No Flask in here.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class VersionView:
    """One version of a record as the history page shows it."""

    version: int
    content: dict
    author_id: uuid.UUID
    saved_at: datetime
    changed: list[str]


def newest_first(
    rows: Iterable[tuple[int, dict, uuid.UUID, datetime]],
    *,
    changed_fields: Callable[[dict, dict], list[str]],
    restore: Callable[[dict], dict],
) -> list[VersionView]:
    """The versions (version, snapshot, author, saved at), given oldest first, newest first;
    each says the fields it changed from the one before (`changed_fields`), its content as
    the page shows it (`restore`)."""
    views, previous = [], None
    for version, content, author_id, saved_at in rows:
        changed = changed_fields(previous, content) if previous is not None else []
        views.append(VersionView(version, restore(content), author_id, saved_at, changed))
        previous = content
    return views[::-1]
