"""The write contract that the forms and the offline sync share. No Flask in here.

Every write of a record a phone or a form can change answers with an `Outcome`:

- `created`, `edited`: saved; `duplicate`: already saved as sent (a double submit, a
  resend). All three count as saved: the phone drops the item.
- `conflict`: nothing overwritten. Someone saved a newer version first; both versions
  are kept (a `SyncConflict`, or the form shown beside the saved record) for a person
  to resolve.
- `invalid`: nothing changed; `errors` is {field: [message]}. `refused`: nothing
  changed; she may not do this, and retrying will not help.
- `error`: nothing changed; the server failed on this one change. `errors["_form"]`
  carries a reference that is also in the server's log.

One rule for transactions: a service validates, checks the policy, changes rows and
flushes; it never commits. The caller owns the transaction: a view commits once with
`commit()`, the sync push runs each item in its own SAVEPOINT and commits the batch once
(each item again in a transaction of its own should that commit fail).
A write that can lose a race (the version check, a unique key) runs inside
`savepoint()`, which turns the losing flush into `LostRace` and leaves the rest of the
transaction usable.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

log = logging.getLogger("clover")


class Outcome(StrEnum):
    created = "created"
    edited = "edited"
    duplicate = "duplicate"
    conflict = "conflict"
    invalid = "invalid"
    refused = "refused"
    error = "error"


SAVED = frozenset({Outcome.created, Outcome.edited, Outcome.duplicate})
# the answers after which a phone drops the item: saved, or kept as a conflict
SETTLED = SAVED | {Outcome.conflict}
# the answers that need her attention before the item can go again
ATTENTION = frozenset({Outcome.invalid, Outcome.refused, Outcome.error})


@dataclass(frozen=True)
class WriteResult:
    """What a write did: its outcome, the record as it now stands, and why not, if not."""

    outcome: Outcome
    record: object | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflict: object | None = None
    due: object | None = None

    @property
    def saved(self) -> bool:
        return self.outcome in SAVED


def refused(message: str) -> WriteResult:
    return WriteResult(Outcome.refused, errors={"_form": [message]})


class LostRace(Exception):
    """A concurrent writer saved first: a newer version, or the same unique key."""


class StaleEdit(Exception):
    """A form opened at an older version: nothing was saved; `record` is what stands now."""

    def __init__(self, record):
        super().__init__(str(getattr(record, "id", "")))
        self.record = record


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """Run a write in a SAVEPOINT; a version or unique-key clash raises `LostRace`.

    Only what was changed inside is undone, so the caller can still keep a conflict
    or a receipt in the same transaction.
    """
    try:
        with session.begin_nested():
            yield
    except (IntegrityError, StaleDataError) as lost:
        raise LostRace(str(lost)) from lost


@contextmanager
def versioned(session: Session, record, current: Callable[[], object] | None = None):
    """A form's change of `record`, made on the version it read, in a SAVEPOINT.

    When a concurrent change of the same version was saved first, nothing of this one
    stays and `StaleEdit` carries what stands now (`current()`, else the record reloaded).
    """
    try:
        with savepoint(session):
            yield
    except LostRace:
        session.refresh(record)
        raise StaleEdit(current() if current else record) from None


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the caller's `commit()` has made this change durable."""
    session.info.setdefault("after_commit", []).append(callback)


def commit(session: Session) -> None:
    """Commit the transaction, then run what waited for it (alerts of a saved visit).

    The change is durable once committed: a failure of what follows it is logged, never
    turned into an answer that says the change was not saved.
    """
    session.commit()
    for callback in session.info.pop("after_commit", []):
        try:
            callback()
        except Exception:  # noqa: BLE001
            log.exception("a step after a committed change failed")


def rollback(session: Session) -> None:
    """Roll the transaction back; what waited for its commit is dropped with it."""
    session.rollback()
    session.info.pop("after_commit", None)
