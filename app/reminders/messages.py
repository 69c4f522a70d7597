"""The words of each reminder, in the recipient's language.

The text passes through a third-party push service or SMS gateway and shows on a lock
screen: counts and a link only, never a name, an address or a health detail.

A reminder sent twice (a sender died after the push service took it, and the next run
sent it again) shows once: the push service keeps one message per Topic, the same for
the same reminder, and the phone one notification per tag (one per kind, one per visit
for an alert), which a resend shares with the first.
"""

import hashlib
from dataclasses import replace

from flask_babel import force_locale, gettext, ngettext

from app.models import Reminder, ReminderKind
from app.reminders.channels import Message
from app.reminders.keys import b64url

DAY = 24 * 60 * 60
TODAY_URL = "/"


def _digest(details: dict) -> Message:
    overdue, due_today = details.get("overdue", 0), details.get("due_today", 0)
    today = ngettext("%(num)d visit due today", "%(num)d visits due today", due_today)
    late = ngettext("%(num)d overdue", "%(num)d overdue", overdue)
    if due_today and overdue:
        body = gettext("%(today)s, %(overdue)s", today=today, overdue=late)
    elif due_today:
        body = today
    else:
        body = ngettext("%(num)d visit overdue", "%(num)d visits overdue", overdue)
    params = {"due_today": due_today, "overdue": overdue}
    return Message(
        kind=ReminderKind.digest,
        title=gettext("Clover"),
        body=body,
        url=TODAY_URL,
        tag="digest",
        ttl=DAY,
        count=due_today + overdue,
        params=params,
    )


def _evening(details: dict) -> Message:
    visits = details.get("home_visits", 0)
    body = ngettext("%(num)d home visit due tomorrow", "%(num)d home visits due tomorrow", visits)
    return Message(
        kind=ReminderKind.evening,
        title=gettext("Clover"),
        body=body,
        url=TODAY_URL,
        tag="evening",
        ttl=DAY // 2,
        params={"home_visits": visits},
    )


def _alert(details: dict, ref: str) -> Message:
    return Message(
        kind=ReminderKind.alert,
        title=gettext("Clover: needs you now"),
        body=gettext("A visit just recorded a high risk. Please look at it today."),
        url=f"/people/{details['person_id']}",
        tag=f"alert-{ref}",
        ttl=DAY // 2,
        urgency="high",
    )


def _test() -> Message:
    return Message(
        kind=ReminderKind.test,
        title=gettext("Clover"),
        body=gettext("Test reminder: reminders reach you here."),
        url=TODAY_URL,
        tag="test",
        ttl=60 * 60,
        urgency="high",
    )


def topic_for(reminder: Reminder) -> str:
    """The Web Push Topic of a ledger row: 32 URL-safe characters that say nothing of it."""
    key = f"{reminder.kind}/{reminder.day.isoformat()}/{reminder.ref}".encode()
    return b64url(hashlib.sha256(key).digest())[:32]


def message_for(reminder: Reminder, locale: str) -> Message:
    """The message a ledger row stands for, in this locale."""
    with force_locale(locale):
        match reminder.kind:
            case ReminderKind.digest:
                message = _digest(reminder.details)
            case ReminderKind.evening:
                message = _evening(reminder.details)
            case ReminderKind.alert:
                message = _alert(reminder.details, reminder.ref)
            case _:
                message = _test()
        # a WeCom card's button: four characters at most
        action = gettext("View")
    return replace(message, topic=topic_for(reminder), action=action)
