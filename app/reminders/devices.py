"""A user's devices and reminder settings: saved, listed and removed, with no Flask in it."""

import re
import uuid
from collections.abc import Sequence
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.inputs import Model, validate
from app.models import PushSubscription, User
from app.reminders.keys import b64url_decode
from app.reminders.timing import parse_hhmm
from app.types import utcnow

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# what WeCom takes as a member's UserID
WECOM_USER_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# what a User-Agent says, in the order to look for it
SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("HarmonyOS", "HarmonyOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS", "Mac"),
    ("Linux", "Linux"),
)
BROWSERS = (
    ("EdgA/", "Edge"),
    ("Edg/", "Edge"),
    ("HuaweiBrowser", "Huawei"),
    ("MiuiBrowser", "Xiaomi"),
    ("UCBrowser", "UC"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)
BASE64URL = r"^[A-Za-z0-9_-]+={0,2}$"
UNUSABLE = N_("This browser sent a push subscription Clover cannot use.")


class ReminderError(ValueError):
    """Input that cannot be saved; `field` names the culprit; translated where shown."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def device_label(user_agent: str) -> str:
    """A short name for a device from its browser's User-Agent: 'Android · Chrome'."""
    system = next((name for key, name in SYSTEMS if key in user_agent), "")
    browser = next((name for key, name in BROWSERS if key in user_agent), "")
    return " · ".join(part for part in (system, browser) if part) or "?"


class SubscriptionKeys(Model):
    """The browser's keys for encrypting a message to it, base64url-encoded."""

    p256dh: Annotated[str, Field(max_length=200, pattern=BASE64URL)]
    auth: Annotated[str, Field(max_length=100, pattern=BASE64URL)]


Endpoint = Annotated[str, Field(max_length=1000, pattern=r"^https?://[^\s\x00-\x1f]+$")]


class SubscriptionBody(Model):
    """A browser's push subscription as `PushSubscription.toJSON()` gives it."""

    endpoint: Endpoint
    keys: SubscriptionKeys


class UnsubscribeBody(Model):
    """Turning reminders off names the browser's endpoint (the keys, if sent, are ignored)."""

    endpoint: Endpoint


def _endpoint(endpoint: str, *, allow_http: bool) -> str:
    try:
        parts = urlsplit(endpoint)
        hostname = parts.hostname
    except ValueError:  # not a URL at all, e.g. an unclosed IPv6 bracket
        raise ReminderError("endpoint", UNUSABLE) from None
    secure = parts.scheme == "https"
    local_test = allow_http and parts.scheme == "http" and hostname in LOOPBACK
    if not parts.netloc or not (secure or local_test):
        raise ReminderError("endpoint", UNUSABLE)
    return endpoint


def _key(value: str, name: str, size: int) -> str:
    try:
        if len(b64url_decode(value)) != size:
            raise ValueError(name)
    except ValueError as error:
        raise ReminderError("keys", UNUSABLE) from error
    return value


def read_subscription(data: object) -> SubscriptionBody:
    """The body of a subscription request, typed; `ReminderError` when it is not one."""
    subscription, errors = validate(SubscriptionBody, data)
    if subscription is None:
        raise ReminderError(next(iter(errors)), UNUSABLE)
    return subscription


def save_subscription(
    *, session: Session, user: User, data: object, user_agent: str, allow_http: bool = False
) -> PushSubscription:
    """Keep a browser's push subscription for this user; the same endpoint again updates it."""
    body = read_subscription(data)
    endpoint = _endpoint(body.endpoint, allow_http=allow_http)
    p256dh, auth = _key(body.keys.p256dh, "p256dh", 65), _key(body.keys.auth, "auth", 16)
    subscription = session.exec(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    ).first() or PushSubscription(user_id=user.id, endpoint=endpoint, p256dh=p256dh, auth=auth)
    # a browser shared by two officers belongs to whoever turned reminders on last
    subscription.user_id, subscription.p256dh, subscription.auth = user.id, p256dh, auth
    subscription.label = device_label(user_agent)[:120]
    session.add(subscription)
    audit.record(session, user=user, action="push_subscribe", target=subscription)
    return subscription


def devices(session: Session, user: User) -> list[PushSubscription]:
    return list(
        session.exec(
            select(PushSubscription)
            .where(PushSubscription.user_id == user.id)
            .order_by(PushSubscription.created_at)
        )
    )


def remove_subscription(
    *, session: Session, user: User, subscription_id: uuid.UUID | None = None, endpoint: str = ""
) -> bool:
    """Forget one of this user's devices, by id or by endpoint; False when it is not hers."""
    query = select(PushSubscription).where(PushSubscription.user_id == user.id)
    if subscription_id is not None:
        query = query.where(PushSubscription.id == subscription_id)
    else:
        query = query.where(PushSubscription.endpoint == endpoint)
    subscription = session.exec(query).first()
    if subscription is None:
        return False
    audit.record(session, user=user, action="push_unsubscribe", target=subscription)
    session.delete(subscription)
    return True


def _time(data: dict, name: str, *, required: bool) -> str | None:
    value = (data.get(name) or "").strip()[:5]
    if not value and not required:
        return None
    try:
        parse_hhmm(value)
    except ValueError as error:
        raise ReminderError(name, N_("Enter a time like 08:00.")) from error
    return value


def phone_number(value: str) -> str | None:
    """A mainland mobile number as 11 digits, or None when empty."""
    digits = re.sub(r"[\s-]", "", value or "")
    digits = re.sub(r"^(\+?86)", "", digits)
    if not digits:
        return None
    if not MOBILE.match(digits):
        raise ReminderError("reminder_phone", N_("Enter an 11-digit mobile number."))
    return digits


def wecom_user_id(value: str) -> str | None:
    """A WeCom UserID as she typed it (trimmed), or None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    if not WECOM_USER_ID.fullmatch(value):
        raise ReminderError(
            "wecom_user_id",
            N_("Enter your WeCom UserID: up to 64 letters, digits and the signs _ - . @"),
        )
    return value


def reminder_channel(
    value: str, *, configured: list[str], phone: str | None, wecom: str | None
) -> str | None:
    """The channel she prefers, one this server sends by and that reaches her; None for
    automatic."""
    value = (value or "").strip()
    if not value:
        return None
    if value not in configured:
        raise ReminderError(
            "reminder_channel", N_("Choose one of the ways this server can send reminders.")
        )
    if value == "sms" and phone is None:
        raise ReminderError(
            "reminder_channel", N_("Enter a mobile number for SMS reminders to prefer SMS.")
        )
    if value == "wecom" and wecom is None:
        raise ReminderError(
            "reminder_channel", N_("Enter your WeCom user ID to prefer WeCom reminders.")
        )
    return value


def update_preferences(
    *, session: Session, user: User, data: dict, configured: Sequence[str] = ()
) -> User:
    """Save when and where she is reminded; nothing changes when anything is invalid.

    `configured` names the channels this server sends by: her preferred channel must be
    one of them (a form without the choice keeps the one she has).
    """
    reminder_time = _time(data, "reminder_time", required=True)
    evening_time = _time(data, "evening_time", required=True)
    quiet_start = _time(data, "quiet_start", required=False)
    quiet_end = _time(data, "quiet_end", required=False)
    if (quiet_start is None) != (quiet_end is None):
        raise ReminderError("quiet_end", N_("Give both ends of the quiet hours, or neither."))
    # the field is only offered where the SMS channel is on; absent, the number stays
    phone = phone_number(data.get("reminder_phone") or "") if "reminder_phone" in data else None
    # so is the WeCom user id, where the WeCom channel is on
    wecom = wecom_user_id(data.get("wecom_user_id") or "") if "wecom_user_id" in data else None
    if "reminder_channel" in data:
        channel = reminder_channel(
            data.get("reminder_channel") or "",
            configured=list(configured),
            phone=phone if "reminder_phone" in data else user.reminder_phone,
            wecom=wecom if "wecom_user_id" in data else user.wecom_user_id,
        )
    if "reminder_phone" in data:
        user.reminder_phone = phone
    if "wecom_user_id" in data:
        user.wecom_user_id = wecom
    if "reminder_channel" in data:
        user.reminder_channel = channel
    user.reminder_time, user.evening_time = reminder_time, evening_time
    user.quiet_start, user.quiet_end = quiet_start, quiet_end
    user.updated_at = utcnow()
    session.add(user)
    audit.record(
        session,
        user=user,
        action="reminder_settings_change",
        details={
            "reminder_time": reminder_time,
            "evening_time": evening_time,
            "quiet": [quiet_start, quiet_end],
            "sms": user.reminder_phone is not None,
            "wecom": user.wecom_user_id is not None,
            "channel": user.reminder_channel,
        },
    )
    return user
