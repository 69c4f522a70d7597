"""Signed-in devices: one `UserSession` row per sign-in. No Flask in here.

A row is started at sign-in and named by the session cookie. It ends at sign-out, when
she ends it from Settings, when her password changes (all but the device she changed it
on), when an administrator deactivates her or ends it, and when it outlives its limits:
an absolute lifetime whatever the activity, and an idle timeout that is shorter for
supervisors and administrators (who work at a desk) than for officers and peer helpers
(whose phones lock themselves).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, select

from app.models import Role, User, UserSession

# desk roles: a short idle timeout
DESK_ROLES = (Role.supervisor, Role.admin, Role.director)
# last_seen_at is written at most this often, so browsing does not write on every request
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Limits:
    lifetime: timedelta
    idle_desk: timedelta
    idle_field: timedelta

    def idle_for(self, user: User) -> timedelta:
        return self.idle_desk if user.role in DESK_ROLES else self.idle_field


class Check(StrEnum):
    ok = "ok"
    expired = "expired"  # outlived its lifetime or sat idle too long: ended now
    ended = "ended"  # signed out, ended, or never hers


def device_label(user_agent: str) -> str:
    """'Chrome on Android' and the like: enough to recognise a device, no fingerprint."""
    agent = user_agent or ""
    browser = next(
        (name for key, name in BROWSERS if key in agent),
        "Browser",
    )
    system = next((name for key, name in SYSTEMS if key in agent), "")
    return f"{browser} · {system}" if system else browser


# order matters: Edge and Chrome both say Chrome, Chrome says Safari
BROWSERS = (
    ("Edg/", "Edge"),
    ("MicroMessenger", "WeChat"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def start_session(
    db: Session, user: User, *, user_agent: str, ip: str | None, now: datetime
) -> UserSession:
    """A new signed-in device for her; the caller commits."""
    row = UserSession(
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        label=device_label(user_agent)[:120],
        ip=(ip or "")[:64] or None,
    )
    db.add(row)
    return row


def _expired(row: UserSession, user: User, limits: Limits, now: datetime) -> bool:
    return now - row.created_at > limits.lifetime or now - row.last_seen_at > limits.idle_for(user)


def check_session(
    db: Session, session_id, user: User, *, limits: Limits, now: datetime
) -> tuple[Check, UserSession | None]:
    """Is this cookie's session still good? Ends it when it outlived its limits."""
    try:
        key = uuid.UUID(str(session_id))
    except ValueError:
        return Check.ended, None
    row = db.get(UserSession, key)
    if row is None or row.user_id != user.id or row.ended_at is not None or not user.active:
        return Check.ended, None
    if _expired(row, user, limits, now):
        end_session(db, row, reason="expired", now=now)
        return Check.expired, None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        db.add(row)
    return Check.ok, row


def end_session(db: Session, row: UserSession, *, reason: str, now: datetime) -> None:
    """End it; unless she signed out or it lapsed, its device's offline key is destroyed."""
    from app.offline.device_keys import KEEPS_KEY, destroy_keys

    if row.ended_at is None:
        row.ended_at, row.end_reason = now, reason
        db.add(row)
    if reason not in KEEPS_KEY:
        destroy_keys(db, row.user_id, now=now, session_id=row.id)


def end_sessions(
    db: Session, user: User, *, reason: str, now: datetime, keep: uuid.UUID | None = None
) -> int:
    """End every session of hers but `keep`; how many ended. The caller commits."""
    rows = db.exec(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()
    ended = [row for row in rows if row.id != keep]
    for row in ended:
        end_session(db, row, reason=reason, now=now)
    # every device of hers but this one, even one whose session lapsed: its store stays shut
    from app.offline.device_keys import destroy_keys

    destroy_keys(db, user.id, now=now, keep_session=keep)
    return len(ended)


def active_sessions(db: Session, user: User, *, limits: Limits, now: datetime) -> list:
    """Her devices still signed in, most recently used first."""
    rows = db.exec(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    ).all()
    return [row for row in rows if not _expired(row, user, limits, now)]
