"""Who should get which reminder now: the morning digest and the evening heads-up.

Counts come from the due list (`app.due`), never re-derived here. The evening heads-up
counts tomorrow's home visits: people due tomorrow whose latest support plan lists
`home_visit` among its contact kinds, or whose last contact agreed to meet tomorrow
(an agreed date is a meeting the officer has to prepare for, whatever its kind).
"""

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, select

from app.due import DueItem, count_due, due_items
from app.models import (
    Reminder,
    ReminderKind,
    ReminderStatus,
    SupportPlan,
    User,
    VisitKind,
)
from app.policy import Action, roles_allowed
from app.reminders.channels import Channel
from app.reminders.timing import in_quiet_hours, local_now, parse_hhmm
from app.schedule import DueReason

SCHEDULED_KINDS = (ReminderKind.digest, ReminderKind.evening)


def reachable_users(session: Session, channels: list[Channel]) -> list[User]:
    """Active users with a caseload that at least one channel can reach."""
    if not channels:
        return []
    return list(
        session.exec(
            select(User).where(
                User.active,
                User.role.in_(roles_allowed(Action.reminder_receive)),
                or_(*(channel.reaches() for channel in channels)),
            )
        )
    )


def _already_planned(session: Session, user_ids: list[uuid.UUID], since: date) -> set:
    rows = session.exec(
        select(Reminder.user_id, Reminder.kind, Reminder.day).where(
            Reminder.user_id.in_(user_ids),
            Reminder.kind.in_(SCHEDULED_KINDS),
            Reminder.day >= since,
        )
    )
    return {tuple(row) for row in rows}


def digest_details(session: Session, due: list[DueItem], today: date) -> dict:
    counts = count_due(due)
    return {"overdue": counts.overdue, "due_today": counts.due_today}


def evening_details(session: Session, due: list[DueItem], today: date) -> dict:
    tomorrow = today + timedelta(days=1)
    items = [item for item in due if item.due.due_on == tomorrow]
    kinds: dict[uuid.UUID, tuple[int, list]] = {}
    if items:
        plans = session.exec(
            select(SupportPlan.person_id, SupportPlan.version, SupportPlan.contact_kinds).where(
                SupportPlan.person_id.in_([item.person.id for item in items])
            )
        )
        for person_id, version, contact_kinds in plans:
            if person_id not in kinds or kinds[person_id][0] < version:
                kinds[person_id] = (version, contact_kinds or [])
    home_visits = sum(
        1
        for item in items
        if item.due.reason == DueReason.planned
        or VisitKind.home_visit in kinds.get(item.person.id, (0, []))[1]
    )
    return {"home_visits": home_visits}


def _has_news(kind: str, details: dict) -> bool:
    if kind == ReminderKind.digest:
        return bool(details["overdue"] or details["due_today"])
    return bool(details["home_visits"])


def plan_reminders(session: Session, *, now: datetime, channels: list[Channel]) -> list[Reminder]:
    """Unsaved ledger rows for every digest and heads-up whose time has come and not gone out.

    A reminder whose time falls in quiet hours waits for them to end (the same day).
    A digest with nothing due is recorded as such, so it is worked out once a day.
    """
    users = reachable_users(session, channels)
    if not users:
        return []
    done = _already_planned(session, [u.id for u in users], now.date() - timedelta(days=1))
    planned = []
    for user in users:
        local = local_now(now, user.timezone)
        if in_quiet_hours(local.time(), user.quiet_start, user.quiet_end):
            continue
        due = None  # her due list, read once for the digest and the heads-up alike
        for kind, at, details_of in (
            (ReminderKind.digest, user.reminder_time, digest_details),
            (ReminderKind.evening, user.evening_time, evening_details),
        ):
            if local.time() < parse_hhmm(at) or (user.id, kind, local.date()) in done:
                continue
            if due is None:
                due = due_items(session, user, today=local.date())
            details = details_of(session, due, local.date())
            news = _has_news(kind, details)
            status = ReminderStatus.sending if news else ReminderStatus.nothing_due
            planned.append(
                Reminder(
                    user_id=user.id,
                    kind=kind,
                    day=local.date(),
                    status=status,
                    not_before=now,
                    details=details,
                )
            )
    return planned
