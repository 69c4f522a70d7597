"""Sign-in failures counted per account: a growing wait after five, a lockout after ten.

No Flask in here. After `FREE_FAILURES` wrong passwords in a row each further failure
makes her wait longer (1, 2, 4, 8, 16 seconds); after `LOCK_AFTER` the account is locked
for `LOCK_FOR`, and every failure after that locks it again. A try inside the wait or the
lock is refused without checking the password. A sign-in that gets her in clears the
count (a right password alone does not when a second factor follows: wrong codes count
too), and so does an administrator's unlock.

Usernames nobody has go through the same steps (their count kept in `Strangers`, outside
the database), so neither the answer nor its timing tells whether a username exists.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlmodel import Session, select

from app import audit
from app.accounts import password_matches
from app.models import User

FREE_FAILURES = 5
LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=15)
MAX_WAIT = timedelta(minutes=1)


class Refusal(StrEnum):
    wrong = "wrong"  # wrong username or password (or an account that cannot sign in)
    wait = "wait"  # inside the wait after failures: the password was not checked
    locked = "locked"  # locked after too many failures: the password was not checked


@dataclass(frozen=True)
class Tries:
    """Failures in a row, and no sign-in before `until`."""

    failures: int = 0
    until: datetime | None = None


class Strangers(Protocol):
    """Where the failures of usernames nobody has are kept."""

    def get(self, username: str) -> Tries: ...

    def put(self, username: str, tries: Tries) -> None: ...


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt: her user when the password was right, else why it was refused."""

    user: User | None
    refusal: Refusal | None


def wait_after(failures: int) -> timedelta | None:
    """How long she waits after this many failures in a row (None: not at all)."""
    if failures >= LOCK_AFTER:
        return LOCK_FOR
    if failures >= FREE_FAILURES:
        return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_WAIT)
    return None


def refusal(tries: Tries, now: datetime) -> Refusal | None:
    """Why a try now is refused before its password is checked, or None."""
    if tries.until is None or now >= tries.until:
        return None
    return Refusal.locked if tries.failures >= LOCK_AFTER else Refusal.wait


def after_failure(tries: Tries, now: datetime) -> Tries:
    failures = tries.failures + 1
    wait = wait_after(failures)
    return Tries(failures, now + wait if wait is not None else None)


def is_locked(user: User, now: datetime) -> bool:
    """Is she locked out (or waiting) now?"""
    return refusal(Tries(user.failed_logins, user.locked_until), now) is not None


def attempt(
    db: Session, username: str, password: str, *, now: datetime, strangers: Strangers
) -> Attempt:
    """Check a sign-in; counts, audits and locks. The caller commits.

    Her row is read FOR UPDATE: tries at the same account queue one behind the other, so a
    burst of them cannot all pass before the first failure is counted.
    """
    name = username.strip().lower()[:64]
    user = db.exec(
        select(User)
        .where(User.username == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    tries = strangers.get(name) if user is None else Tries(user.failed_logins, user.locked_until)
    refused = refusal(tries, now)
    if refused is not None:
        _audit(db, user, "login_failed", name, reason=str(refused), failures=tries.failures)
        return Attempt(None, refused)
    if password_matches(user, password):
        if not user.active:
            _audit(db, user, "login_failed", name, reason="inactive")
            return Attempt(None, Refusal.wrong)
        # her failures are cleared once she is in (`clear`), not yet: a second factor may follow
        return Attempt(user, None)
    tries = record_failure(db, user, name, tries, reason="password", now=now, strangers=strangers)
    return Attempt(None, refusal(tries, now) or Refusal.wrong)


def record_failure(
    db: Session,
    user: User | None,
    name: str,
    tries: Tries,
    *,
    reason: str,
    now: datetime,
    strangers: Strangers | None = None,
) -> Tries:
    """One more failure in a row, a wrong password or code: counted, audited, and the
    lock it brings audited too. An unknown username is counted among `strangers`."""
    tries = after_failure(tries, now)
    if user is None:
        strangers.put(name, tries)
    else:
        user.failed_logins, user.locked_until = tries.failures, tries.until
        db.add(user)
    _audit(db, user, "login_failed", name, reason=reason, failures=tries.failures)
    if tries.failures >= LOCK_AFTER:
        _audit(db, user, "login_locked", name, until=tries.until.isoformat())
    return tries


def clear(db: Session, user: User) -> None:
    """She signed in: her failures start again from nought. The caller commits."""
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins, user.locked_until = 0, None
        db.add(user)


def _audit(db: Session, user: User | None, action: str, username: str, **details) -> None:
    audit.record(db, user=user, action=action, details={"username": username, **details})


def unlock(session: Session, *, actor: User | None, user: User, now: datetime) -> bool:
    """Lift her lockout and clear her failures (audited); False when there was nothing to lift.

    `actor` is the administrator or supervisor who unlocks, None from the command line.
    The caller commits.
    """
    if not user.failed_logins and user.locked_until is None:
        return False
    audit.record(
        session,
        user=actor,
        action="login_unlocked",
        target=user,
        details={
            "username": user.username,
            "failures": user.failed_logins,
            "was_locked": is_locked(user, now),
        },
    )
    user.failed_logins, user.locked_until = 0, None
    user.updated_at = now
    session.add(user)
    return True
