"""Delivery attempts through a bounded pool of threads; a retry waits without holding one.

Only the HTTP calls run in the pool. The thread that calls `run_attempts` keeps the
database to itself (claims before, the delivery log after, through `on_done`), so no
SQLAlchemy session is ever shared between threads and no transaction is open while it
waits for a push service. A job to retry goes into a queue ordered by when it may go
again (the service's Retry-After, else doubling, at most MAX_DELAY_SECONDS): the workers
send everything else meanwhile, and this thread sleeps only when nothing else is left.
"""

import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from app.reminders.channels import Attempt, Channel, Message, Outcome, Target

log = logging.getLogger("clover.reminders")

MAX_ATTEMPTS = 3
BASE_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 60.0
# jobs handed to the pool ahead of the free workers, per worker: a worker finishing a
# send finds the next one queued instead of waiting for this thread to write the log
BACKLOG_PER_WORKER = 2
# finished jobs handed to `on_done` together (sooner when nothing is left in flight): one
# transaction of the delivery log per batch rather than per message
RECORD_BATCH = 25
NANOSECONDS = 1_000_000_000


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before the next attempt: the service's Retry-After, else doubling."""
    if retry_after is not None:
        return min(retry_after, MAX_DELAY_SECONDS)
    return min(BASE_DELAY_SECONDS * 2 ** (attempt - 1), MAX_DELAY_SECONDS)


@dataclass(eq=False)
class Job:
    """One message to one target by one channel, and the attempts made so far."""

    ref: object  # what the caller needs to put the result back (a reminder)
    channel: Channel
    target: Target
    message: Message
    attempts: list[Attempt] = field(default_factory=list)


def _attempt(job: Job) -> Attempt:
    """One try, in a worker: whatever goes wrong is this target's failure, not the run's."""
    try:
        return job.channel.attempt(job.target, job.message)
    except Exception as error:  # noqa: BLE001 - e.g. a subscription with a malformed key
        log.warning(
            "reminder %s via %s to %s: %r",
            job.message.kind,
            job.channel.name,
            job.target.label,
            error,
        )
        return Attempt(Outcome.failed, None, type(error).__name__)


def run_attempts(
    jobs: Iterable[Job],
    *,
    workers: int,
    on_done: Callable[[list[Job]], Iterable[Job] | None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], int] = time.monotonic_ns,
) -> None:
    """Try every job, at most `workers` at a time, up to MAX_ATTEMPTS each.

    `on_done` gets the jobs whose last attempt is in, on this thread, while the workers go
    on sending, and may answer with more jobs to try. `clock` (nanoseconds) and `sleep`
    are injected by tests.
    """
    ready = deque(jobs)
    waiting: list[tuple[int, int, Job]] = []  # (may go at, tie-break, job)
    order = itertools.count()
    in_flight: dict[Future, Job] = {}
    finished: list[Job] = []
    limit = workers * BACKLOG_PER_WORKER
    now = clock()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clover-push") as pool:
        try:
            while True:
                while waiting and waiting[0][0] <= now:
                    ready.append(heapq.heappop(waiting)[2])
                while ready and len(in_flight) < limit:
                    job = ready.popleft()
                    in_flight[pool.submit(_attempt, job)] = job
                if finished and (len(finished) >= RECORD_BATCH or not in_flight):
                    # the workers are busy with the next sends meanwhile; what comes back
                    # (a fallback channel's jobs) is sent in this run like the rest
                    ready.extend(on_done(finished) or ())
                    finished = []
                    now = clock()
                    continue
                if in_flight:
                    timeout = max(waiting[0][0] - now, 0) / NANOSECONDS if waiting else None
                    done, _ = wait(in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
                    now = clock()
                    for future in done:
                        job = in_flight.pop(future)
                        if _tried(job, future.result()):
                            finished.append(job)
                        else:
                            delay = backoff(len(job.attempts), job.attempts[-1].retry_after)
                            at = now + int(delay * NANOSECONDS)
                            heapq.heappush(waiting, (at, next(order), job))
                elif waiting:
                    # nothing in flight: wait for the earliest retry, and trust the sleep
                    sleep((waiting[0][0] - now) / NANOSECONDS)
                    now = waiting[0][0]
                else:
                    return
        except BaseException:
            # claimed reminders not yet sent are given up rather than risk a double
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _tried(job: Job, attempt: Attempt) -> bool:
    """Add an attempt to the job; True when it is the last one."""
    job.attempts.append(attempt)
    log.info(
        "reminder %s via %s to %s: attempt %d %s (%s)",
        job.message.kind,
        job.channel.name,
        job.target.label,
        len(job.attempts),
        attempt.outcome,
        attempt.status_code,
    )
    return attempt.outcome != Outcome.retry or len(job.attempts) >= MAX_ATTEMPTS
