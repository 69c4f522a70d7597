"""Sign-in throttling: CLOVER_LOGIN_LIMITS per client address and per username.

`sign_in_limit` decorates every view that checks a secret at sign-in (the password, the
second-factor code) and the password change. The counts live in the limiter's storage,
RATELIMIT_STORAGE_URI: Redis in production, so every worker shares them.

Only tries that did not get her in count: a sign-in that succeeds answers with a redirect
and costs nothing, so colleagues behind one office address do not lock each other out.
Both keys share one bucket across the decorated views: a password and a code tried for
the same account draw on the same allowance.
"""

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app, request, session
from flask_login import current_user
from limits.storage import MemoryStorage

from app.auth.lockout import Tries
from app.extensions import limiter

# usernames nobody has: their failures are kept this long (the lock of a real account
# outlasts them only after a month of silence)
STRANGER_MEMORY = timedelta(days=30)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _login_limits() -> str:
    return current_app.config["CLOVER_LOGIN_LIMITS"]


def client_address() -> str:
    return f"address:{request.remote_addr or 'unknown'}"


def submitted_username() -> str:
    """The username the try is for: typed in, awaiting her second factor, or signed in."""
    from app.auth.signin import pending_user  # signin's views import this module

    typed = request.form.get("username")
    if typed is None:
        if current_user.is_authenticated:
            typed = current_user.username
        elif session.get("pending"):
            user, _next = pending_user()
            typed = user.username if user is not None else None
    if typed is None:
        return client_address()
    return f"username:{typed.strip().lower()[:64]}"


def _counts(response) -> bool:
    """A try that did not get her in: anything but a redirect (and the refusal itself)."""
    return response.status_code not in (301, 302, 303, 429)


_by_address = limiter.shared_limit(
    _login_limits,
    scope="sign-in-address",
    key_func=client_address,
    methods=["POST"],
    deduct_when=_counts,
)
_by_username = limiter.shared_limit(
    _login_limits,
    scope="sign-in-username",
    key_func=submitted_username,
    methods=["POST"],
    deduct_when=_counts,
)


def sign_in_limit(view):
    """Limit POSTs to this view per client address and per username (CLOVER_LOGIN_LIMITS)."""
    return _by_address(_by_username(view))


_FALLBACK = MemoryStorage()


class StorageStrangers:
    """Failures of usernames nobody has, kept in the limiter's storage (Redis in production)."""

    PREFIX = "clover/stranger"

    def __init__(self, storage):
        self._storage = storage

    def _call(self, method: str, *args):
        # the shared store out of reach: this worker's memory keeps counting meanwhile
        try:
            return getattr(self._storage, method)(*args)
        except Exception:  # noqa: BLE001 - any storage failure
            logging.getLogger("clover.auth").warning("sign-in limit store unreachable")
            return getattr(_FALLBACK, method)(*args)

    def get(self, username: str) -> Tries:
        failures = self._call("get", f"{self.PREFIX}/failures/{username}")
        until = self._call("get", f"{self.PREFIX}/until/{username}")
        return Tries(failures, EPOCH + timedelta(microseconds=until) if until else None)

    def put(self, username: str, tries: Tries) -> None:
        keep = int(STRANGER_MEMORY.total_seconds())
        for name, value in (
            ("failures", tries.failures),
            # whole microseconds, exactly as a real account's wait
            ("until", (tries.until - EPOCH) // timedelta(microseconds=1) if tries.until else 0),
        ):
            key = f"{self.PREFIX}/{name}/{username}"
            self._call("clear", key)
            if value:
                self._call("incr", key, keep, value)


def strangers() -> StorageStrangers:
    return StorageStrangers(limiter.storage)
