"""Sending: claim each reminder once in the ledger, deliver it by every channel, log it all.

The UNIQUE key on (user, kind, day, ref) is the once-only guarantee: a sender owns a
reminder only after its INSERT (or its UPDATE from pending) has committed, so two runs,
a late run or two servers at the same moment cannot both send it. A sender that dies
between the claim and the send loses that reminder rather than risk sending it twice.
No database transaction stays open while a push service or gateway is called.
"""

import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.models import Reminder, ReminderDelivery, ReminderKind, ReminderStatus, User
from app.reminders.channels import Attempt, Channel, Outcome, Target
from app.reminders.messages import message_for
from app.reminders.planning import plan_reminders
from app.schedule import local_date
from app.types import utcnow

log = logging.getLogger("clover.reminders")

MAX_ATTEMPTS = 3
BASE_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 60.0


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before the next attempt: the service's Retry-After, else doubling."""
    if retry_after is not None:
        return min(retry_after, MAX_DELAY_SECONDS)
    return min(BASE_DELAY_SECONDS * 2 ** (attempt - 1), MAX_DELAY_SECONDS)


def claim(session: Session, reminder: Reminder) -> bool:
    """Insert a ledger row; False when another sender (or an earlier run) already has it."""
    session.add(reminder)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def claim_pending(
    session: Session, *, now: datetime, ids: list[uuid.UUID] | None = None
) -> list[Reminder]:
    """Take over pending reminders (alerts held back by quiet hours) whose time has come."""
    query = select(Reminder.id).where(
        Reminder.status == ReminderStatus.pending, Reminder.not_before <= now
    )
    if ids is not None:
        query = query.where(Reminder.id.in_(ids))
    candidates = list(session.exec(query))
    session.commit()
    mine = []
    for reminder_id in candidates:
        taken = session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.status == ReminderStatus.pending)
            .values(status=ReminderStatus.sending)
        )
        session.commit()
        if taken.rowcount == 1:
            mine.append(reminder_id)
    if not mine:
        return []
    return list(session.exec(select(Reminder).where(Reminder.id.in_(mine))))


def _attempts(
    channel: Channel, target: Target, message, sleep: Callable[[float], None]
) -> list[Attempt]:
    """Up to MAX_ATTEMPTS tries, pausing between retries; the last one tells how it went."""
    attempts = []
    for number in range(1, MAX_ATTEMPTS + 1):
        attempt = channel.attempt(target, message)
        attempts.append(attempt)
        log.info(
            "reminder %s via %s to %s: attempt %d %s (%s)",
            message.kind,
            channel.name,
            target.label,
            number,
            attempt.outcome,
            attempt.status_code,
        )
        if attempt.outcome != Outcome.retry or number == MAX_ATTEMPTS:
            break
        sleep(backoff(number, attempt.retry_after))
    return attempts


def deliver(
    session: Session,
    reminders: list[Reminder],
    *,
    channels: list[Channel],
    sleep: Callable[[float], None] = time.sleep,
) -> list[Reminder]:
    """Send claimed reminders by every channel that reaches their user; record each attempt."""
    if not reminders:
        return []
    user_ids = list({r.user_id for r in reminders})
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(user_ids)))}
    targets: dict[uuid.UUID, list[tuple[Channel, Target]]] = defaultdict(list)
    for channel in channels:
        for target in channel.targets(session, user_ids):
            targets[target.user_id].append((channel, target))
    session.commit()
    for reminder in reminders:
        message = message_for(reminder, users[reminder.user_id].locale)
        results = [
            (channel, target, _attempts(channel, target, message, sleep))
            for channel, target in targets[reminder.user_id]
        ]
        _record(session, reminder, results)
    return reminders


def _record(session: Session, reminder: Reminder, results: list) -> None:
    """Write the attempts, settle the targets and close the reminder, in one transaction."""
    at = utcnow()
    delivered = False
    for channel, target, attempts in results:
        for number, attempt in enumerate(attempts, start=1):
            session.add(
                ReminderDelivery(
                    reminder_id=reminder.id,
                    channel=channel.name,
                    target=target.label,
                    attempt=number,
                    outcome=attempt.outcome,
                    status_code=attempt.status_code,
                    detail=attempt.detail,
                    at=at,
                )
            )
        final = attempts[-1].outcome
        delivered = delivered or final == Outcome.delivered
        channel.settle(session, target, final, at)
    if not results:
        status = ReminderStatus.no_channel
    else:
        status = ReminderStatus.sent if delivered else ReminderStatus.failed
    session.execute(
        update(Reminder).where(Reminder.id == reminder.id).values(status=status, finished_at=at)
    )
    session.commit()
    reminder.status, reminder.finished_at = status, at


def send_reminders(
    session: Session,
    *,
    now: datetime,
    channels: list[Channel],
    sleep: Callable[[float], None] = time.sleep,
) -> Counter:
    """Work out who should get what now, claim it once, send it: what `flask reminders send` does.

    Returns how many reminders ended in each (kind, status).
    """
    planned = plan_reminders(session, now=now, channels=channels)
    session.commit()  # end the reading transaction before claiming
    claimed = [reminder for reminder in planned if claim(session, reminder)]
    pending = claim_pending(session, now=now)
    sending = [r for r in claimed if r.status == ReminderStatus.sending]
    deliver(session, sending + pending, channels=channels, sleep=sleep)
    return Counter((r.kind, r.status) for r in claimed + pending)


def send_test(
    session: Session,
    *,
    user: User,
    now: datetime,
    channels: list[Channel],
    sleep: Callable[[float], None] = time.sleep,
) -> Reminder:
    """'Send me a test reminder': a ledger row of its own, delivered at once."""
    reminder = Reminder(
        user_id=user.id,
        kind=ReminderKind.test,
        day=local_date(now, user.timezone),
        ref=uuid.uuid4().hex,
        not_before=now,
    )
    claim(session, reminder)
    deliver(session, [reminder], channels=channels, sleep=sleep)
    return reminder
