"""WeCom (企业微信): reminders as application messages of the deployment's own WeCom app.

A `textcard` to the officer's WeCom user id through the documented server API: an
access token from /cgi-bin/gettoken (kept until shortly before it expires, shared by the
sender's workers), then /cgi-bin/message/send. WeCom answers HTTP 200 with an `errcode`,
which the delivery log keeps as the attempt's status code.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from app.models import ReminderKind, User
from app.reminders.channels import (
    TIMEOUT_SECONDS,
    AddressChannel,
    Attempt,
    Message,
    Outcome,
    Target,
    classify,
)

log = logging.getLogger("clover.reminders")

DEFAULT_API = "https://qyapi.weixin.qq.com"
# a token is fetched again this long before WeCom says it expires
TOKEN_MARGIN_SECONDS = 300
# WeCom drops a message equal to one it took from this app this recently: a resend after
# a sender died shows once (not for a test reminder, which she may well ask for twice)
DUPLICATE_CHECK_SECONDS = 1800

TOKEN_REFUSED = {42001, 40014}  # expired, invalid: a new token and one more try
BUSY = {-1, 45009, 45033}  # system busy, frequency and quota limits: later
NO_SUCH_USER = {60111, 81013}  # user id unknown, or none of the recipients valid
# the deployment's own settings: corp id, secret, agent id, its rights or trusted IPs
CONFIG_ERRORS = {40001, 40013, 40056, 41001, 41002, 41004, 48002, 60020, 301002}
CONFIG_KEYS = ("CLOVER_WECOM_CORP_ID", "CLOVER_WECOM_SECRET", "CLOVER_WECOM_AGENT_ID")


def wecom_configured(config) -> bool:
    """True when the deployment has a WeCom application to send from."""
    return all(config.get(key) for key in CONFIG_KEYS)


def wecom_channel(config, http: requests.Session) -> "WeComChannel | None":
    """The WeCom channel when the deployment has its application's settings, else None."""
    if not wecom_configured(config):
        return None
    if not str(config["CLOVER_WECOM_AGENT_ID"]).isdigit():
        log.error("CLOVER_WECOM_AGENT_ID must be the application's AgentId, a number")
        return None
    return WeComChannel(
        corp_id=config["CLOVER_WECOM_CORP_ID"],
        secret=config["CLOVER_WECOM_SECRET"],
        agent_id=config["CLOVER_WECOM_AGENT_ID"],
        api=config.get("CLOVER_WECOM_API") or DEFAULT_API,
        base_url=config.get("CLOVER_BASE_URL", ""),
        http=http,
    )


def mask_user_id(user_id: str) -> str:
    """What the delivery log keeps of a WeCom user id (often her name in pinyin)."""
    return user_id[:2] + "****"


@dataclass
class _Token:
    """An app's access token and when to stop using it (by the channel's clock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    value: str | None = None
    until: float = 0.0


# one token per WeCom app in this process: a run's workers and the runs of the in-process
# loop share it (WeCom throttles apps that fetch a token for every call)
_TOKENS: dict[tuple[str, str, str], _Token] = {}
_TOKENS_LOCK = threading.Lock()


def _token_of(api: str, corp_id: str, secret: str) -> _Token:
    with _TOKENS_LOCK:
        return _TOKENS.setdefault((api, corp_id, secret), _Token())


class _Refused(Exception):
    """WeCom answered something other than a message taken; `attempt` says how it went."""

    def __init__(self, attempt: Attempt):
        super().__init__(attempt.detail)
        self.attempt = attempt


class WeComChannel(AddressChannel):
    """Application messages of a self-built WeCom app (自建应用), to her WeCom user id.

    Thread-safe: the workers of a pool share one channel, one access token and one
    HTTP session; a token is fetched by one worker while the others wait for it.
    """

    name = "wecom"
    address = User.wecom_user_id
    mask = staticmethod(mask_user_id)

    def __init__(
        self,
        *,
        corp_id: str,
        secret: str,
        agent_id: str,
        api: str,
        base_url: str,
        http: requests.Session,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._corp_id, self._secret, self._agent_id = corp_id, secret, int(agent_id)
        self._api = (api or DEFAULT_API).rstrip("/")
        self._base_url = base_url
        self._http = http
        self._clock = clock
        self._token = _token_of(self._api, corp_id, secret)
        self._broken: Attempt | None = None  # a configuration WeCom refused a token for
        if not base_url:
            log.warning("WeCom reminders need CLOVER_BASE_URL for their link into Clover")

    def attempt(self, target: Target, message: Message) -> Attempt:
        try:
            token = self.access_token()
            answer = self._send(token, target, message)
            if answer.get("errcode") in TOKEN_REFUSED:
                # once: a token refused again is WeCom's trouble, tried again later
                answer = self._send(self.access_token(stale=token), target, message)
        except _Refused as refused:
            return refused.attempt
        return self._outcome(answer, target)

    def access_token(self, *, stale: str | None = None) -> str:
        """The app's access token, fetched when there is none, it expires or WeCom refused
        `stale` (unless another worker has fetched a new one meanwhile)."""
        token = self._token
        with token.lock:
            if self._broken is not None:
                raise _Refused(self._broken)
            if token.value and token.value != stale and self._clock() < token.until:
                return token.value
            answer = self._call(
                "get",
                "/cgi-bin/gettoken",
                params={"corpid": self._corp_id, "corpsecret": self._secret},
            )
            if answer.get("errcode", 0) != 0 or not answer.get("access_token"):
                refused = self._outcome(answer, None)
                if refused.status_code in CONFIG_ERRORS:
                    self._broken = refused  # the rest of this run fails alike, unasked
                raise _Refused(refused)
            lifetime = int(answer.get("expires_in", 7200))
            token.value = answer["access_token"]
            token.until = self._clock() + max(lifetime - TOKEN_MARGIN_SECONDS, 0)
            return token.value

    def _send(self, token: str, target: Target, message: Message) -> dict:
        body = {
            "touser": target.key,
            "msgtype": "textcard",
            "agentid": self._agent_id,
            "textcard": {
                "title": message.title,
                "description": message.body,
                "url": f"{self._base_url}{message.url}",
                "btntxt": message.action,
            },
        }
        if message.kind != ReminderKind.test:
            body |= {
                "enable_duplicate_check": 1,
                "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
            }
        return self._call(
            "post", "/cgi-bin/message/send", params={"access_token": token}, json=body
        )

    def _call(self, method: str, path: str, *, params: dict, json: dict | None = None) -> dict:
        """One call to the API; an answer that is not WeCom's JSON is refused here."""
        try:
            response = self._http.request(
                method, self._api + path, params=params, json=json, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            raise _Refused(classify(None, type(error).__name__)) from error
        if response.status_code != 200:
            raise _Refused(
                classify(
                    response.status_code,
                    response.text[:300],
                    response.headers.get("Retry-After"),
                )
            )
        try:
            answer = response.json()
        except ValueError as error:
            raise _Refused(Attempt(Outcome.retry, 200, "not JSON")) from error
        if not isinstance(answer, dict):
            raise _Refused(Attempt(Outcome.retry, 200, "not JSON"))
        return answer

    def _outcome(self, answer: dict, target: Target | None) -> Attempt:
        """WeCom's errcode as an outcome; a configuration error is logged for the operator."""
        code = answer.get("errcode")
        detail = f"{code} {answer.get('errmsg', '')}"[:300]
        if code == 0:
            # a message may be taken with some recipients refused: ours is the only one
            if target is not None and target.key in str(answer.get("invaliduser", "")).split("|"):
                return Attempt(Outcome.failed, code, detail)
            return Attempt(Outcome.delivered, code)
        if code in BUSY or code in TOKEN_REFUSED:
            return Attempt(Outcome.retry, code, detail)
        if code in NO_SUCH_USER:
            return Attempt(Outcome.failed, code, detail)
        if code in CONFIG_ERRORS:
            log.error(
                "WeCom refused this deployment's configuration (%s): fix the WeCom settings "
                "(CLOVER_WECOM_CORP_ID, CLOVER_WECOM_SECRET, CLOVER_WECOM_AGENT_ID, the app's "
                "visible range and trusted IPs) before WeCom reminders can be sent",
                detail,
            )
        else:
            log.error("WeCom refused a reminder (%s)", detail)
        return Attempt(Outcome.failed, code, detail)
