"""Sending: claim each reminder once in the ledger, deliver it by her channel, log it all.

The UNIQUE key on (user, kind, day, ref) is the once-only guarantee: a sender owns a
reminder only after its INSERT (or its UPDATE from pending) has committed, so two runs,
a late run or two servers at the same moment cannot both send it. The claim is a lease:
a sender that dies between the claim and the send leaves the row `sending` with a lease
that runs out, and the next run after that takes it over and sends it. A run renews its
claims every half lease, and before a reminder goes on to its next channel.

The sends go through a bounded pool of threads (`app.reminders.pool`); claims and the
delivery log stay on the calling thread and its session, in short transactions of
results already in hand: none is open while a push service or gateway is called.
"""

import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from app.models import Reminder, ReminderDelivery, ReminderKind, ReminderStatus, User
from app.reminders.channels import Channel, Outcome, Target
from app.reminders.messages import message_for
from app.reminders.planning import plan_reminders
from app.reminders.pool import NANOSECONDS, Job, run_attempts
from app.reminders.preference import channel_order
from app.schedule import local_date
from app.types import utcnow

DEFAULT_WORKERS = 8
CLAIM_BATCH = 500  # rows per INSERT: well under SQLite's and PostgreSQL's parameter limits
LEDGER_KEY = ("user_id", "kind", "day", "ref")


def claim(
    session: Session, reminders: list[Reminder], *, lease_until: datetime | None = None
) -> list[Reminder]:
    """Insert ledger rows; those another sender (or an earlier run) has are not ours to send.

    The database decides, row by row (INSERT ... ON CONFLICT DO NOTHING RETURNING), and
    the claim is committed before anything is sent; a row claimed as `sending` holds it
    until `lease_until`. Rows go in key order so that two senders inserting the same rows
    on PostgreSQL never wait on each other in a circle.
    """
    for row in reminders:
        if row.status == ReminderStatus.sending:
            row.lease_until = lease_until
    rows = sorted(reminders, key=lambda r: (str(r.user_id), r.kind, r.day, r.ref))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    columns = [column.name for column in Reminder.__table__.columns]
    mine: set[uuid.UUID] = set()
    for start in range(0, len(rows), CLAIM_BATCH):
        chunk = rows[start : start + CLAIM_BATCH]
        statement = (
            dialect.insert(Reminder)
            .values([{name: getattr(row, name) for name in columns} for row in chunk])
            .on_conflict_do_nothing(index_elements=LEDGER_KEY)
            .returning(Reminder.id)
        )
        mine.update(session.execute(statement).scalars())
        session.commit()
    return [row for row in rows if row.id in mine]


def _claimable(now: datetime):
    """Pending reminders whose time has come, and claims whose sender let the lease run out.

    A claim with a delivery already recorded is not sent again, whatever its status says.
    """
    delivered = exists().where(
        ReminderDelivery.reminder_id == Reminder.id,
        ReminderDelivery.outcome == Outcome.delivered,
    )
    return or_(
        and_(Reminder.status == ReminderStatus.pending, Reminder.not_before <= now),
        and_(
            Reminder.status == ReminderStatus.sending,
            Reminder.lease_until < now,
            ~delivered,
        ),
    )


def claim_pending(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    ids: list[uuid.UUID] | None = None,
) -> list[Reminder]:
    """Take over pending reminders (alerts held back by quiet hours) whose time has come,
    and those a sender claimed but never finished (it died) once their lease has run out.

    One UPDATE to sending with a new lease; on PostgreSQL a row another sender is taking
    at this moment is skipped (SKIP LOCKED), and repeating the condition makes the UPDATE
    a no-op for a row it has already taken (its lease no longer ran out).
    """
    due = select(Reminder.id).where(_claimable(now)).order_by(Reminder.id)
    if ids is not None:
        due = due.where(Reminder.id.in_(ids))
    mine = list(
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(due.with_for_update(skip_locked=True)), _claimable(now))
            .values(status=ReminderStatus.sending, lease_until=now + lease)
            .returning(Reminder.id)
        ).scalars()
    )
    session.commit()
    if not mine:
        return []
    taken = list(session.exec(select(Reminder).where(Reminder.id.in_(mine))))
    session.commit()
    return taken


def deliver(
    session: Session,
    reminders: list[Reminder],
    *,
    now: datetime,
    lease: timedelta,
    channels: list[Channel],
    workers: int = DEFAULT_WORKERS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], int] = time.monotonic_ns,
) -> list[Reminder]:
    """Send claimed reminders by the first channel that reaches each user, in her order of
    preference; when every target of a channel fails, by the next. Record each attempt.

    The claims were made at `now` for `lease`. This run renews them (`_renew`) before a
    reminder goes on to its next channel, and every half lease while the run is busy; a
    claim another run took over meanwhile is that run's to finish: this one only logs its
    own attempts for it.

    The attempts run `workers` at a time; a reminder's attempts are written when its
    channel is done with it, and the reminder is closed when one channel has delivered it
    or none is left, `pool.RECORD_BATCH` at a time (and whatever is done when nothing is
    left in flight).
    """
    if not reminders:
        return []
    user_ids = list({r.user_id for r in reminders})
    users = {
        user_id: (locale, preferred)
        for user_id, locale, preferred in session.exec(
            select(User.id, User.locale, User.reminder_channel).where(User.id.in_(user_ids))
        )
    }
    reach: dict[tuple[uuid.UUID, str], list[Target]] = defaultdict(list)
    for channel in channels:
        for target in channel.targets(session, user_ids):
            reach[target.user_id, channel.name].append(target)
    by_name = {channel.name: channel for channel in channels}
    # for each reminder, its jobs channel by channel: the first now, the next if it fails
    tiers: dict[uuid.UUID, deque[list[Job]]] = {}
    for reminder in reminders:
        locale, preferred = users[reminder.user_id]
        message = message_for(reminder, locale)
        tiers[reminder.id] = deque(
            [Job(reminder, by_name[name], target, message) for target in targets]
            for name in channel_order(preferred, list(by_name))
            if (targets := reach[reminder.user_id, name])
        )
    leases = {reminder.id: reminder.lease_until for reminder in reminders}
    session.commit()  # nothing stays open while the pool sends
    _record(session, [(r, [], True) for r in reminders if not tiers[r.id]], channels)
    left: dict[uuid.UUID, int] = {}
    jobs = []
    for reminder in reminders:
        if tiers[reminder.id]:
            first = tiers[reminder.id].popleft()
            left[reminder.id] = len(first)
            jobs.extend(first)
    done: dict[uuid.UUID, list[Job]] = defaultdict(list)
    started = clock()
    renewed = [started]  # when the claims were last renewed, by `clock`
    lost: set[uuid.UUID] = set()  # taken over by another run

    def renew(ids: list[uuid.UUID]) -> None:
        at = now + timedelta(microseconds=(clock() - started) // 1000)
        kept = _renew(session, {rid: leases[rid] for rid in ids}, until=at + lease)
        for rid in ids:
            if rid in kept:
                leases[rid] = at + lease
            else:
                lost.add(rid)

    def record(finished: list[Job]) -> list[Job]:
        if clock() - renewed[0] >= lease.total_seconds() * NANOSECONDS / 2:
            renewed[0] = clock()
            renew([rid for rid in left if rid not in lost])
        settled, onward = [], []
        for job in finished:
            done[job.ref.id].append(job)
            left[job.ref.id] -= 1
            if left[job.ref.id]:
                continue
            del left[job.ref.id]
            tried = done.pop(job.ref.id)
            final = job.ref.id not in lost and (_delivered(tried) or not tiers[job.ref.id])
            settled.append((job.ref, tried, final))
            if not final and job.ref.id not in lost:
                onward.append(job.ref.id)
        if onward:
            renew(onward)
        fallback = []
        for rid in onward:
            if rid not in lost:
                following = tiers[rid].popleft()
                left[rid] = len(following)
                fallback.extend(following)
        _record(session, settled, channels)
        return fallback

    run_attempts(jobs, workers=workers, on_done=record, sleep=sleep, clock=clock)
    return reminders


def _renew(
    session: Session, held: dict[uuid.UUID, datetime | None], *, until: datetime
) -> set[uuid.UUID]:
    """Extend this run's claims to `until`; those whose lease is no longer the one this run
    holds (another run took them over after it ran out) are not renewed. Commits."""
    by_lease: dict[datetime | None, list[uuid.UUID]] = defaultdict(list)
    for rid, lease_until in held.items():
        by_lease[lease_until].append(rid)
    kept: set[uuid.UUID] = set()
    for lease_until, ids in by_lease.items():
        kept.update(
            session.execute(
                update(Reminder)
                .where(
                    Reminder.id.in_(ids),
                    Reminder.status == ReminderStatus.sending,
                    Reminder.lease_until == lease_until,
                )
                .values(lease_until=until)
                .returning(Reminder.id)
            ).scalars()
        )
    session.commit()
    return kept


def _delivered(jobs: list[Job]) -> bool:
    return any(job.attempts[-1].outcome == Outcome.delivered for job in jobs)


def _record(
    session: Session, settled: list[tuple[Reminder, list[Job], bool]], channels: list[Channel]
) -> None:
    """Write the attempts of one channel, settle its targets and close the reminders that
    are done (`True`: delivered, or no channel left to try), in one transaction."""
    if not settled:
        return
    at = utcnow()
    attempts, outcomes, statuses = [], defaultdict(list), defaultdict(list)
    for reminder, jobs, final in settled:
        for job in jobs:
            attempts.extend(
                {
                    "id": uuid.uuid4(),
                    "reminder_id": reminder.id,
                    "channel": job.channel.name,
                    "target": job.target.label,
                    "attempt": number,
                    "outcome": attempt.outcome,
                    "status_code": attempt.status_code,
                    "detail": attempt.detail,
                    "at": at,
                }
                for number, attempt in enumerate(job.attempts, start=1)
            )
            outcomes[job.channel.name].append((job.target, job.attempts[-1].outcome))
        if not final:
            continue  # the next channel has its turn; the claim stays `sending`
        if not jobs:
            status = ReminderStatus.no_channel
        elif _delivered(jobs):
            status = ReminderStatus.sent
        else:
            status = ReminderStatus.failed
        statuses[status].append(reminder)
    if attempts:
        session.execute(insert(ReminderDelivery), attempts)
    for channel in channels:
        if outcomes[channel.name]:
            channel.settle(session, outcomes[channel.name], at)
    for status, rows in statuses.items():
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_([row.id for row in rows]))
            .values(status=status, finished_at=at)
        )
    session.commit()
    for status, rows in statuses.items():
        for row in rows:
            # what the ledger now says, without marking the object changed
            set_committed_value(row, "status", status)
            set_committed_value(row, "finished_at", at)


def dispatch(
    session: Session,
    planned: list[Reminder],
    *,
    now: datetime,
    lease: timedelta,
    channels: list[Channel],
    workers: int = DEFAULT_WORKERS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], int] = time.monotonic_ns,
) -> Counter:
    """Claim the planned reminders, the pending ones due now and those whose sender died,
    and send those we own; each claim holds for `lease`.

    Returns how many reminders ended in each (kind, status).
    """
    claimed = claim(session, planned, lease_until=now + lease)
    pending = claim_pending(session, now=now, lease=lease)
    sending = [r for r in claimed if r.status == ReminderStatus.sending]
    deliver(
        session,
        sending + pending,
        now=now,
        lease=lease,
        channels=channels,
        workers=workers,
        sleep=sleep,
        clock=clock,
    )
    return Counter((r.kind, r.status) for r in claimed + pending)


def send_reminders(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    channels: list[Channel],
    workers: int = DEFAULT_WORKERS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], int] = time.monotonic_ns,
) -> Counter:
    """Work out who should get what now, claim it once, send it: what `flask reminders send` does.

    Returns how many reminders ended in each (kind, status).
    """
    planned = plan_reminders(session, now=now, channels=channels)
    session.commit()  # end the reading transaction before claiming
    return dispatch(
        session,
        planned,
        now=now,
        lease=lease,
        channels=channels,
        workers=workers,
        sleep=sleep,
        clock=clock,
    )


def send_test(
    session: Session,
    *,
    user: User,
    now: datetime,
    lease: timedelta,
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
    claim(session, [reminder], lease_until=now + lease)
    deliver(session, [reminder], now=now, lease=lease, channels=channels, workers=1, sleep=sleep)
    return reminder
