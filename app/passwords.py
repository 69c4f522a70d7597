"""Passwords: which ones are refused, changing her own, and an administrator's reset.

No Flask in here. Messages are English source strings marked with `N_`, translated where
they are shown.
"""

import secrets
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlmodel import Session
from werkzeug.security import check_password_hash

from app import audit
from app.models import User
from app.sessions import end_sessions
from app.types import utcnow

MIN_LENGTH = 12
# fewer different characters than this is a pattern, not a password (aaaaaaaaaaaa, 121212121212)
MIN_DISTINCT = 5
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt"
# one-time passwords: words an administrator can read out over the phone without spelling
# them, with no letters that look alike (l/1, O/0)
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def N_(message: str) -> str:
    """Mark a message for translation where it is shown, not where it is raised."""
    return message


class PasswordError(ValueError):
    """A password refused by the rules, or a change that cannot be made as asked.

    `field` names the form field the message belongs to.
    """

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@cache
def common_passwords() -> frozenset[str]:
    """The vendored list of the most common passwords, in lower case (app/data/README.md)."""
    return frozenset(COMMON_PASSWORDS.read_text(encoding="utf-8").split())


def _demo_password() -> str:
    from app.demo import DEMO_PASSWORD  # the demo loader imports accounts, which imports us

    return DEMO_PASSWORD


def password_problem(password: str, *, username: str, environment: str) -> str | None:
    """Why this password is refused for this username (an N_ message), or None if it is fine.

    The demo password is published: under the production configuration nobody may use it.
    """
    folded = password.casefold()
    if len(password) < MIN_LENGTH:
        return N_("The password must have at least 12 characters.")
    if len(set(folded)) < MIN_DISTINCT:
        return N_("The password repeats too few characters: use at least 5 different ones.")
    if folded in common_passwords():
        return N_("This password is among the most common ones: choose another.")
    name = username.strip().casefold()
    if name and name in folded:
        return N_("The password must not contain the username.")
    if environment == "production" and password == _demo_password():
        return N_("This is the published demo password: choose another.")
    return None


def check_new_password(password: str, *, username: str, environment: str) -> None:
    """Raise PasswordError(field="password") when the rules refuse this password."""
    problem = password_problem(password, username=username, environment=environment)
    if problem is not None:
        raise PasswordError("password", problem)


def one_time_password() -> str:
    """A random password to read out once: four groups of four, e.g. `k7mp-3xqa-h9tz-r2cw`.

    Sixteen characters from 31 give about 79 bits.
    """
    groups = ("".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def _hash(password: str) -> str:
    from app import accounts  # hash_password lives with the accounts (tests swap it)

    return accounts.hash_password(password)


def change_password(
    session: Session,
    *,
    user: User,
    current: str,
    new: str,
    repeat: str,
    keep,
    environment: str,
    now: datetime,
) -> int:
    """Her own new password; every other session of hers ends. How many ended.

    `keep` is the id of the session she changes it from. The caller commits.
    """
    if not check_password_hash(user.password_hash, current):
        raise PasswordError("current", N_("The current password is not right."))
    if new != repeat:
        raise PasswordError("repeat", N_("The two new passwords differ."))
    if new == current:
        raise PasswordError("password", N_("The new password must differ from the current one."))
    problem = password_problem(new, username=user.username, environment=environment)
    if problem is not None:
        raise PasswordError("password", problem)
    user.password_hash = _hash(new)
    user.password_changed_at = user.updated_at = now
    user.must_change_password = False
    session.add(user)
    ended = end_sessions(session, user, reason="password_change", now=now, keep=keep)
    audit.record(
        session,
        user=user,
        action="password_change",
        target=user,
        details={"sessions_ended": ended},
    )
    return ended


def reset_password(
    session: Session, *, actor: User, user: User, now: datetime | None = None
) -> str:
    """A one-time password for her, to be shown once; she must change it at sign-in.

    Every session of hers ends, and a sign-in lockout is lifted (the administrator has
    just vouched for her). The caller commits.
    """
    from app.auth.lockout import unlock  # app.auth's views import the accounts, and so us

    now = now or utcnow()
    password = one_time_password()
    user.password_hash = _hash(password)
    user.must_change_password = True
    user.password_changed_at = user.updated_at = now
    session.add(user)
    if user.failed_logins or user.locked_until is not None:
        unlock(session, actor=actor, user=user, now=now)
    ended = end_sessions(session, user, reason="password_reset", now=now)
    audit.record(
        session,
        user=actor,
        action="password_reset",
        target=user,
        details={"username": user.username, "sessions_ended": ended},
    )
    return password
