"""Which channel a reminder tries first, and a push service a phone in mainland China cannot reach.

Plain functions over names and rows, no Flask: the sender orders the channels by them,
Settings shows and checks her choice by them.
"""

import uuid
from collections import Counter
from urllib.parse import urlsplit

from sqlmodel import Session, select

from app.accounts import N_
from app.models import PushSubscription, Reminder, ReminderDelivery
from app.reminders.channels import Outcome
from app.reminders.wecom import wecom_configured

# with no choice of hers: push first (free, instant), then WeCom, then SMS (it costs)
AUTOMATIC = ("webpush", "wecom", "sms")
LABELS = {
    "webpush": N_("Push notifications on my devices"),
    "sms": N_("SMS to my reminder number"),
    "wecom": N_("WeCom message to my WeCom account"),
}
# short names, for the automatic order
SHORT = {"webpush": N_("push"), "sms": N_("SMS"), "wecom": N_("WeCom")}
# Chrome on Android (and Chromium browsers) subscribe through Google's push service, out of
# reach from mainland China; Apple's (web.push.apple.com) and others are not judged here
GOOGLE_PUSH_HOSTS = {"fcm.googleapis.com", "android.googleapis.com"}
# reminders in a row that never reached a device that had worked before: its push service
# has become unreachable, not just a phone switched off for a morning
FAILURES_UNREACHABLE = 2


def configured_channels(config) -> list[str]:
    """The channels this server can send by, in the automatic order."""
    on = {
        "webpush": bool(config.get("CLOVER_VAPID_PRIVATE_KEY")),
        "sms": bool(config.get("CLOVER_SMS_URL")),
        "wecom": wecom_configured(config),
    }
    return [name for name in AUTOMATIC if on[name]]


def channel_order(preferred: str | None, names: list[str]) -> list[str]:
    """The channels to try in turn: hers first (when it is one of `names`), then the rest
    in the automatic order."""
    order = [name for name in AUTOMATIC if name in names]
    order += [name for name in names if name not in order]
    if preferred in order:
        order.remove(preferred)
        order.insert(0, preferred)
    return order


def is_google_push(endpoint: str) -> bool:
    try:
        return urlsplit(endpoint).hostname in GOOGLE_PUSH_HOSTS
    except ValueError:
        return False


def push_unreachable(subscription: PushSubscription, failures_since_success: int) -> bool:
    """True for a device on Google's push service whose reminders do not arrive: its first
    send failed and none ever succeeded, or it failed twice or more since its last success."""
    if not is_google_push(subscription.endpoint) or subscription.last_failure_at is None:
        return False
    if subscription.last_success_at is None:
        return True
    return (
        subscription.last_failure_at > subscription.last_success_at
        and failures_since_success >= FAILURES_UNREACHABLE
    )


def unreachable_devices(session: Session, devices: list[PushSubscription]) -> set[uuid.UUID]:
    """Those of her devices a phone in mainland China will not get reminders on."""
    judged = [
        d
        for d in devices
        if is_google_push(d.endpoint)
        and d.last_success_at is not None
        and d.last_failure_at is not None
        and d.last_failure_at > d.last_success_at
    ]
    failures: Counter = Counter()
    if judged:
        since = min(d.last_success_at for d in judged)
        rows = session.exec(
            select(ReminderDelivery.target, ReminderDelivery.at, ReminderDelivery.reminder_id)
            .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
            .where(
                Reminder.user_id == judged[0].user_id,
                ReminderDelivery.channel == "webpush",
                ReminderDelivery.target.in_([str(d.id) for d in judged]),
                ReminderDelivery.outcome != Outcome.delivered,
                ReminderDelivery.at > since,
            )
        )
        success = {str(d.id): d.last_success_at for d in judged}
        # one reminder retried three times is one failure: count reminders, not attempts
        failed = {(target, reminder) for target, at, reminder in rows if at > success[target]}
        failures = Counter(target for target, _reminder in failed)
    return {d.id for d in devices if push_unreachable(d, failures[str(d.id)])}
