"""Schedule rules: when a person's next contact is due. Plain functions, no Flask, no database.

A *contact* is a visit that reached her; a failed attempt (no answer, not at home) is
recorded but does not count, so it never resets the clock. Dates are local dates in
the time zone the officer works in: a visit at 23:30 in Chongqing is that day.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.models import FIRST_CONTACT_DAYS, PRE_RELEASE_DAYS, PersonStatus

FAILED_ATTEMPTS_FOR_LOST_CONTACT = 3
RISK_FOLLOW_UP_HOURS = 48  # a unit's default: a flagged contact is followed up this soon


class DueState(StrEnum):
    not_due = "not_due"  # closed, paused or consent withdrawn: never on a due list
    upcoming = "upcoming"
    due_today = "due_today"
    overdue = "overdue"


class DueReason(StrEnum):
    pre_release = "pre_release"  # meet her about six months before release
    first_contact = "first_contact"  # within 7 days after release
    cadence = "cadence"  # the support plan's rhythm for her phase
    planned = "planned"  # the date agreed at the last contact
    risk = "risk"  # a self-harm or relapse flag no later contact has followed yet
    # "I need to talk" in her own check-in, no officer's contact since: due as a risk is
    asked_to_talk = "asked_to_talk"


@dataclass(frozen=True)
class ContactHistory:
    """What the rules need to know of a person's visits, in local dates."""

    last_contact_on: date | None = None
    failed_attempts_since: int = 0  # failed attempts after the last contact, in a row
    next_planned_on: date | None = None  # agreed at the last contact
    # the day of a contact that flagged self-harm or relapse signs, if no later contact
    # has followed it yet
    open_risk_on: date | None = None
    # the day of her own check-in asking to talk, if no officer's contact has followed it
    asked_to_talk_on: date | None = None


@dataclass(frozen=True)
class Due:
    state: DueState
    due_on: date | None = None
    reason: DueReason | None = None
    days_overdue: int = 0
    suggest_lost_contact: bool = False


NOT_DUE = Due(DueState.not_due)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day of an aware moment in a time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def interval_for(cadence: list[dict], days_since_release: int) -> int:
    """Days between contacts in the cadence phase that covers this day after release.

    A phase applies while days_since_release < until_day; the last phase has no end.
    """
    for phase in cadence:
        until = phase.get("until_day")
        if until is None or days_since_release < until:
            return int(phase["every_days"])
    return int(cadence[-1]["every_days"]) if cadence else 30


def risk_follow_up_days(hours: int) -> int:
    """A follow-up due within `hours` of a flagged contact falls due this many days after
    its day (at least the next day)."""
    return max(1, math.ceil(hours / 24))


def next_due_on(
    *,
    release_date: date | None,
    cadence: list[dict],
    history: ContactHistory,
    today: date,
    risk_follow_up_hours: int = RISK_FOLLOW_UP_HOURS,
) -> tuple[date, DueReason]:
    """The date the next contact is due, and why: an open risk flag, or her asking to talk,
    brings it forward (a flag first, on the same day)."""
    due_on, reason = _regular_due_on(
        release_date=release_date, cadence=cadence, history=history, today=today
    )
    soon = timedelta(days=risk_follow_up_days(risk_follow_up_hours))
    urgent = [
        (opened + soon, why)
        for opened, why in (
            (history.open_risk_on, DueReason.risk),
            (history.asked_to_talk_on, DueReason.asked_to_talk),
        )
        if opened is not None
    ]
    if not urgent:
        return due_on, reason
    urgent_on, why = min(urgent, key=lambda pair: pair[0])  # stable: a flag wins a tie
    return min(due_on, urgent_on), why


def _regular_due_on(
    *, release_date: date | None, cadence: list[dict], history: ContactHistory, today: date
) -> tuple[date, DueReason]:
    last = history.last_contact_on
    if release_date is not None and today < release_date:
        pre_release_on = release_date - timedelta(days=PRE_RELEASE_DAYS)
        if last is None or last < pre_release_on:
            return pre_release_on, DueReason.pre_release
        return release_date + timedelta(days=FIRST_CONTACT_DAYS), DueReason.first_contact
    if release_date is not None and (last is None or last < release_date):
        return release_date + timedelta(days=FIRST_CONTACT_DAYS), DueReason.first_contact
    if last is None:
        # no release date known and never met: due now
        return today, DueReason.first_contact
    if history.next_planned_on is not None and history.next_planned_on > last:
        return history.next_planned_on, DueReason.planned
    days_since_release = (last - release_date).days if release_date is not None else 0
    return last + timedelta(days=interval_for(cadence, days_since_release)), DueReason.cadence


@dataclass(frozen=True)
class Standing:
    """What the rules say of a person, worked out on one day and true until `recheck_on`.

    This is what `Person` stores (next_due_on, due_reason, lost_contact_from,
    due_recheck_on), so a due list is an indexed range query rather than the rules run per
    person. Only the passage of time moves it without a write, and only on `recheck_on`:
    her release day while she is still inside, or tomorrow while a person with no release
    date and no contact stays due "today". Lost contact is a date, not a flag, so the
    days that pass need no recheck.
    """

    due_on: date | None = None
    reason: DueReason | None = None
    lost_contact_from: date | None = None
    recheck_on: date | None = None

    def on(self, today: date) -> Due:
        """Where she stands on `today`, any day before `recheck_on`."""
        if self.due_on is None:
            return NOT_DUE
        lost = self.lost_contact_from is not None and self.lost_contact_from <= today
        if self.due_on < today:
            return Due(DueState.overdue, self.due_on, self.reason, (today - self.due_on).days, lost)
        state = DueState.due_today if self.due_on == today else DueState.upcoming
        return Due(state, self.due_on, self.reason, 0, lost)


NOT_STANDING = Standing()


def lost_contact_from(
    *, release_date: date | None, history: ContactHistory, today: date, after_days: int
) -> date | None:
    """The first day lost contact is suggested: three failed attempts in a row, or no contact
    for `after_days` since release. None while she is inside or has neither date.
    """
    if release_date is not None and today < release_date:
        return None  # still inside: the release day brings a recheck
    since = history.last_contact_on or release_date
    if release_date is not None and history.last_contact_on is not None:
        since = max(history.last_contact_on, release_date)
    if history.failed_attempts_since >= FAILED_ATTEMPTS_FOR_LOST_CONTACT:
        return min(since or today, today)  # at once, from a day that stays put
    return since + timedelta(days=after_days) if since is not None else None


def standing(
    *,
    status: str,
    consent_withdrawn: bool,
    release_date: date | None,
    cadence: list[dict],
    history: ContactHistory,
    today: date,
    lost_contact_after_days: int = 60,
    risk_follow_up_hours: int = RISK_FOLLOW_UP_HOURS,
) -> Standing:
    """The rules worked out on `today`, in the form a person stores."""
    if consent_withdrawn or status in (PersonStatus.closed, PersonStatus.paused):
        return NOT_STANDING
    due_on, reason = next_due_on(
        release_date=release_date,
        cadence=cadence,
        history=history,
        today=today,
        risk_follow_up_hours=risk_follow_up_hours,
    )
    lost_from = None
    if status != PersonStatus.lost_contact:
        lost_from = lost_contact_from(
            release_date=release_date,
            history=history,
            today=today,
            after_days=lost_contact_after_days,
        )
    if release_date is not None and today < release_date:
        recheck_on = release_date
    elif release_date is None and history.last_contact_on is None:
        recheck_on = today + timedelta(days=1)  # "due now" moves with the calendar
    else:
        recheck_on = None
    return Standing(due_on, reason, lost_from, recheck_on)


def due_status(
    *,
    status: str,
    consent_withdrawn: bool,
    release_date: date | None,
    cadence: list[dict],
    history: ContactHistory,
    today: date,
    lost_contact_after_days: int = 60,
    risk_follow_up_hours: int = RISK_FOLLOW_UP_HOURS,
) -> Due:
    """Where a person stands today: upcoming, due today, overdue (by how many days), or not due."""
    return standing(
        status=status,
        consent_withdrawn=consent_withdrawn,
        release_date=release_date,
        cadence=cadence,
        history=history,
        today=today,
        lost_contact_after_days=lost_contact_after_days,
        risk_follow_up_hours=risk_follow_up_hours,
    ).on(today)
