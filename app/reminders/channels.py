"""Channels a reminder can travel by: Web Push, and an SMS gateway for units without push.

A channel knows its targets (a user's devices, her phone number) and makes one delivery
attempt when asked, from any worker of the sender's pool; the sender retries, logs every
attempt and keeps the once-only ledger.
"""

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter
from sqlalchemy import ColumnElement, delete, update
from sqlmodel import Session, select

from app.models import PushSubscription, User

TIMEOUT_SECONDS = 10
# push services a run keeps connections to (FCM, Mozilla, Apple, Microsoft...) and a gateway
HOSTS_KEPT = 16


@dataclass(frozen=True)
class Message:
    """What a reminder says: counts and a link into the app, never a name."""

    kind: str
    title: str
    body: str
    url: str  # a path in the app, opened when the notification is tapped
    tag: str  # a newer notification with the same tag replaces the older one
    ttl: int  # seconds a push service keeps it for a phone that is off
    urgency: str = "normal"  # very-low, low, normal or high (RFC 8030)
    count: int | None = None  # the due count for the app badge
    params: dict = field(default_factory=dict)  # the numbers, for SMS templates
    # Web Push `Topic` (RFC 8030): a push service keeps one undelivered message per topic,
    # so a resend of the same reminder after a crash replaces the first rather than adds
    topic: str = ""
    action: str = ""  # the words on the link's button where a channel shows one (WeCom)

    def payload(self) -> dict:
        data = {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag}
        if self.count is not None:
            data["count"] = self.count
        return data


@dataclass(frozen=True)
class Target:
    """One place a user can be reached: a push subscription or a phone number."""

    user_id: uuid.UUID
    key: str  # what the channel needs to find it again: a subscription id, a phone
    label: str  # what the delivery log keeps: never a push endpoint or a full number
    info: dict = field(default_factory=dict)


class Outcome(StrEnum):
    delivered = "delivered"
    gone = "gone"  # the subscription expired or was revoked: forget it
    retry = "retry"  # rate-limited or a server error: try again after a pause
    failed = "failed"  # refused for good


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status_code: int | None = None
    detail: str = ""
    retry_after: float | None = None


class Channel(Protocol):
    name: str

    def reaches(self) -> ColumnElement[bool]:
        """A WHERE clause on User: those this channel can reach."""

    def targets(self, session: Session, user_ids: list[uuid.UUID]) -> list[Target]: ...

    def attempt(self, target: Target, message: Message) -> Attempt: ...

    def settle(
        self, session: Session, outcomes: list[tuple[Target, Outcome]], at: datetime
    ) -> None:
        """Remember on each target how its last delivery went (no commit)."""


def classify(status: int | None, detail: str = "", retry_after: str | None = None) -> Attempt:
    """An HTTP status from a push service or gateway, as an outcome."""
    if status is not None and 200 <= status < 300:
        return Attempt(Outcome.delivered, status)
    if status in (404, 410):
        return Attempt(Outcome.gone, status, detail)
    if status is None or status == 429 or status >= 500:
        delay = float(retry_after) if retry_after and retry_after.isdigit() else None
        return Attempt(Outcome.retry, status, detail, delay)
    return Attempt(Outcome.failed, status, detail)


class VapidSigner:
    """The VAPID `Authorization` header for a push service, signed once an hour, not per push.

    pywebpush signs a new JWT for every message; one token per push service (its
    audience) serves every message of the hour. A token is made at the start of its hour
    and expires LIFETIME_SECONDS after it, so it always has 11 to 12 hours left (RFC 8292
    allows at most 24).
    """

    WINDOW_SECONDS = 60 * 60
    LIFETIME_SECONDS = 12 * 60 * 60

    def __init__(self, *, private_key: str, subject: str, clock: Callable[[], float] = time.time):
        self._vapid = Vapid.from_string(private_key)
        self._subject = subject
        self._clock = clock
        self._tokens: dict[str, tuple[int, str]] = {}  # audience -> (window, header)
        self._lock = threading.Lock()  # the workers of a pool share one signer

    def header(self, endpoint: str) -> str:
        url = urlsplit(endpoint)
        audience = f"{url.scheme}://{url.netloc}"
        now = int(self._clock())
        window = now - now % self.WINDOW_SECONDS
        with self._lock:
            cached = self._tokens.get(audience)
            if cached is None or cached[0] != window:
                claims = {
                    "sub": self._subject,
                    "aud": audience,
                    "exp": window + self.LIFETIME_SECONDS,
                }
                cached = (window, self._vapid.sign(claims)["Authorization"])
                self._tokens[audience] = cached
            return cached[1]


class WebPushChannel:
    """Web Push through pywebpush, signed with the server's VAPID key.

    Thread-safe: the workers of a pool share the channel, its signer and its HTTP session.
    """

    name = "webpush"

    def __init__(self, *, private_key: str, subject: str, http: requests.Session):
        self._signer = VapidSigner(private_key=private_key, subject=subject)
        self._http = http

    def reaches(self) -> ColumnElement[bool]:
        return User.id.in_(select(PushSubscription.user_id))

    def targets(self, session: Session, user_ids: list[uuid.UUID]) -> list[Target]:
        rows = session.exec(
            select(PushSubscription)
            .where(PushSubscription.user_id.in_(user_ids))
            .order_by(PushSubscription.created_at)
        )
        return [
            Target(
                sub.user_id,
                str(sub.id),
                str(sub.id),
                {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
            )
            for sub in rows
        ]

    def attempt(self, target: Target, message: Message) -> Attempt:
        headers = {
            "Authorization": self._signer.header(target.info["endpoint"]),
            "Urgency": message.urgency,
            "Content-Type": "application/octet-stream",
        }
        if message.topic:
            headers["Topic"] = message.topic
        try:
            # no claims: pywebpush would sign them again; the signer's header goes as is
            response = webpush(
                subscription_info=target.info,
                data=json.dumps(message.payload(), ensure_ascii=False),
                ttl=message.ttl,
                timeout=TIMEOUT_SECONDS,
                headers=headers,
                requests_session=self._http,
            )
        except WebPushException as error:
            response = error.response
            if response is None:
                return Attempt(Outcome.failed, None, str(error.message)[:300])
            return classify(
                response.status_code, response.text[:300], response.headers.get("Retry-After")
            )
        except requests.RequestException as error:
            return classify(None, type(error).__name__)
        return classify(response.status_code)

    def settle(
        self, session: Session, outcomes: list[tuple[Target, Outcome]], at: datetime
    ) -> None:
        """Forget gone subscriptions; stamp the others' last success or failure."""
        keys: dict[str, list[uuid.UUID]] = {
            "gone": [],
            "last_success_at": [],
            "last_failure_at": [],
        }
        for target, outcome in outcomes:
            if outcome == Outcome.gone:
                keys["gone"].append(uuid.UUID(target.key))
            elif outcome == Outcome.delivered:
                keys["last_success_at"].append(uuid.UUID(target.key))
            else:
                keys["last_failure_at"].append(uuid.UUID(target.key))
        if gone := keys.pop("gone"):
            session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        for column, ids in keys.items():
            if ids:
                session.execute(
                    update(PushSubscription)
                    .where(PushSubscription.id.in_(ids))
                    .values({column: at})
                )


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


class AddressChannel:
    """A channel to an address she keeps on her account (`address`, a User column: a phone
    number, a WeCom user id): who has one, and nothing to settle after (she changes it in
    Settings). `mask` is what the delivery log keeps of it."""

    name: str
    address: ClassVar
    mask: ClassVar[Callable[[str], str]]

    def reaches(self) -> ColumnElement[bool]:
        return type(self).address.is_not(None)  # (the column itself, not read off a row)

    def targets(self, session: Session, user_ids: list[uuid.UUID]) -> list[Target]:
        address = type(self).address
        rows = session.exec(
            select(User.id, address).where(User.id.in_(user_ids), address.is_not(None))
        )
        return [Target(user_id, address, self.mask(address)) for user_id, address in rows]

    def settle(
        self, session: Session, outcomes: list[tuple[Target, Outcome]], at: datetime
    ) -> None:
        """An address is kept whatever happens."""


class PhoneChannel(AddressChannel):
    """What every SMS channel shares: her reminder phone number."""

    name = "sms"
    address = User.reminder_phone
    mask = staticmethod(mask_phone)


class SmsChannel(PhoneChannel):
    """Text messages through a relay: an HTTP gateway in front of whichever SMS provider.

    POSTs JSON `{phone, sign_name, template, params, text}` with a bearer token; any 2xx
    is delivered, 429 and 5xx are retried, anything else is refused.
    """

    def __init__(self, *, url: str, token: str, sender: str, base_url: str, http: requests.Session):
        self._url, self._token, self._sender = url, token, sender
        self._base_url = base_url
        self._http = http

    def attempt(self, target: Target, message: Message) -> Attempt:
        link = f" {self._base_url}{message.url}" if self._base_url else ""
        body = {
            "phone": target.key,
            "sign_name": self._sender,
            "template": message.kind,
            "params": message.params,
            "text": f"{message.body}{link}",
        }
        try:
            response = self._http.post(
                self._url,
                json=body,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            return classify(None, type(error).__name__)
        return classify(
            response.status_code, response.text[:300], response.headers.get("Retry-After")
        )


def http_session(workers: int) -> requests.Session:
    """One HTTP session for a run: kept-alive connections, as many per host as workers."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=HOSTS_KEPT, pool_maxsize=workers)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def sms_channel(config, http: requests.Session) -> Channel:
    """The SMS channel of CLOVER_SMS_PROVIDER: a relay's gateway, Alibaba Cloud or Tencent Cloud.

    CLOVER_SMS_URL turns SMS on; config.py sets it to the provider's endpoint for the two
    clouds, so what offers the phone field in Settings needs to look at nothing else.
    """
    provider = config.get("CLOVER_SMS_PROVIDER") or "relay"
    if provider != "relay":
        # imported here: the providers' module builds on this one
        from app.reminders.sms_providers import provider_channel

        return provider_channel(provider, config, http)
    return SmsChannel(
        url=config["CLOVER_SMS_URL"],
        token=config.get("CLOVER_SMS_TOKEN", ""),
        sender=config.get("CLOVER_SMS_SENDER", ""),
        base_url=config.get("CLOVER_BASE_URL", ""),
        http=http,
    )


def build_channels(config, http: requests.Session) -> list[Channel]:
    """The channels this server is configured for: Web Push with keys, SMS with a provider,
    WeCom with an application."""
    channels: list[Channel] = []
    if config.get("CLOVER_VAPID_PRIVATE_KEY"):
        channels.append(
            WebPushChannel(
                private_key=config["CLOVER_VAPID_PRIVATE_KEY"],
                subject=config["CLOVER_VAPID_SUBJECT"],
                http=http,
            )
        )
    if config.get("CLOVER_SMS_URL"):
        channels.append(sms_channel(config, http))
    # imported here: the WeCom module builds on this one
    from app.reminders.wecom import wecom_channel

    if channel := wecom_channel(config, http):
        channels.append(channel)
    return channels


def channels_configured(config) -> bool:
    """True when at least one channel could send from this server."""
    from app.reminders.preference import configured_channels  # (it imports this module)

    return bool(configured_channels(config))
