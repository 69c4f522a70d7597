"""SMS through Alibaba Cloud (阿里云短信) and Tencent Cloud (腾讯云短信), signed as each documents.

Neither provider takes free text in mainland China: each reminder kind is an approved
template, filled with the message's numbers, sent under an approved sign name. A refusal
only the deployment can mend (keys, sign name, template) is logged as such and not
retried; throttling and server errors are retried by the sender's pool like any channel's.
"""

import base64
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import requests

from app.models import ReminderKind
from app.reminders.channels import (
    TIMEOUT_SECONDS,
    Attempt,
    Message,
    Outcome,
    PhoneChannel,
    Target,
    classify,
)

log = logging.getLogger("clover.reminders")

PROVIDER_URLS = {
    "aliyun": "https://dysmsapi.aliyuncs.com/",
    "tencent": "https://sms.tencentcloudapi.com/",
}
PROVIDER_REGIONS = {"aliyun": "cn-hangzhou", "tencent": "ap-guangzhou"}
# each kind's template parameters, in the template's order (Tencent's are numbered {1}, {2})
TEMPLATE_PARAMETERS: dict[str, tuple[str, ...]] = {
    ReminderKind.digest: ("due_today", "overdue"),
    ReminderKind.evening: ("home_visits",),
    ReminderKind.alert: (),
    ReminderKind.test: (),
}
FIX_CONFIG = (
    "the deployment's SMS configuration must be fixed (CLOVER_SMS_KEY_ID/_KEY_SECRET, "
    "the sign name in CLOVER_SMS_SENDER, CLOVER_SMS_TEMPLATES) against the provider's console"
)


# --- Alibaba Cloud RPC signature (POP, signature version 1.0) ---


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding as Alibaba Cloud signs it: a space is %20, `~` stays."""
    return quote(value, safe="-_.~")


def rpc_string_to_sign(method: str, params: dict[str, str]) -> str:
    """METHOD&%2F&the percent-encoded canonicalized query (every parameter but Signature)."""
    query = "&".join(
        f"{percent_encode(name)}={percent_encode(value)}"
        for name, value in sorted(params.items())
        if name != "Signature"
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(query)}"


def rpc_signature(method: str, params: dict[str, str], secret: str) -> str:
    """Base64 of HMAC-SHA1 over the string to sign, keyed with the AccessKeySecret and '&'."""
    string_to_sign = rpc_string_to_sign(method, params).encode()
    digest = hmac.new(f"{secret}&".encode(), string_to_sign, hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# --- Tencent Cloud API 3.0 signature (TC3-HMAC-SHA256) ---

TC3 = "TC3-HMAC-SHA256"
JSON_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"


def tc3_canonical_request(*, host: str, payload: bytes, content_type: str = JSON_TYPE) -> str:
    """The canonical request of a POST to `/` signed over its content type and host."""
    headers = f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n"
    body_hash = hashlib.sha256(payload).hexdigest()
    return "\n".join(["POST", "/", "", headers, SIGNED_HEADERS, body_hash])


def _scope(timestamp: int, service: str) -> str:
    # the UTC date of the timestamp, never the server's local one
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    return f"{day}/{service}/tc3_request"


def tc3_string_to_sign(canonical_request: str, *, timestamp: int, service: str) -> str:
    hashed = hashlib.sha256(canonical_request.encode()).hexdigest()
    return "\n".join([TC3, str(timestamp), _scope(timestamp, service), hashed])


def tc3_signature(string_to_sign: str, *, secret_key: str, timestamp: int, service: str) -> str:
    """Hex HMAC-SHA256 with the key derived from TC3+SecretKey, the date, the service."""
    day = _scope(timestamp, service).split("/", 1)[0]
    key = f"TC3{secret_key}".encode()
    for part in (day, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(
    *, secret_id: str, secret_key: str, host: str, service: str, timestamp: int, payload: bytes
) -> str:
    """The `Authorization` header of a JSON POST to a Tencent Cloud API 3.0 endpoint."""
    request = tc3_canonical_request(host=host, payload=payload)
    string_to_sign = tc3_string_to_sign(request, timestamp=timestamp, service=service)
    signature = tc3_signature(
        string_to_sign, secret_key=secret_key, timestamp=timestamp, service=service
    )
    return (
        f"{TC3} Credential={secret_id}/{_scope(timestamp, service)}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )


# --- the channels ---


def _quiet(text: object) -> str:
    """A provider's message for logs: it may quote the request, so no run of digits survives."""
    return re.sub(r"\d{7,}", "****", str(text))[:200]


class TemplateSmsChannel(PhoneChannel):
    """An SMS provider that sends an approved template per reminder kind.

    Subclasses make the signed request (`_send`) and read its answer (`_code`); refusals
    are sorted by the provider's code into RETRY, NUMBER (her number) and CONFIG (the
    deployment's keys, sign name or templates). Thread-safe, like the other channels.
    """

    provider = ""
    OK = ""
    RETRY: frozenset[str] = frozenset()
    NUMBER: frozenset[str] = frozenset()
    CONFIG: frozenset[str] = frozenset()
    RETRY_PREFIXES: tuple[str, ...] = ()
    CONFIG_PREFIXES: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        url: str,
        key_id: str,
        key_secret: str,
        sign_name: str,
        templates: dict[str, str],
        region: str,
        http: requests.Session,
        clock: Callable[[], float] = time.time,
    ):
        self._url, self._key_id, self._key_secret = url, key_id, key_secret
        self._sign_name, self._templates, self._region = sign_name, templates, region
        self._http, self._clock = http, clock

    def attempt(self, target: Target, message: Message) -> Attempt:
        template = self._templates.get(message.kind)
        if not template:
            log.error(
                "reminder %s via sms (%s) to %s not sent: CLOVER_SMS_TEMPLATES has no "
                "template for %s; %s",
                message.kind,
                self.provider,
                target.label,
                message.kind,
                FIX_CONFIG,
            )
            return Attempt(Outcome.failed, None, f"no template for {message.kind}")
        names = TEMPLATE_PARAMETERS.get(message.kind, tuple(message.params))
        values = [str(message.params.get(name, 0)) for name in names]
        try:
            response = self._send(target.key, template, dict(zip(names, values, strict=True)))
        except requests.RequestException as error:
            return classify(None, type(error).__name__)
        try:
            code, text = self._code(response)
        except (ValueError, KeyError, IndexError, TypeError):
            return self._unread(response, target, message)
        return self._judge(response.status_code, code, text, target, message)

    def _send(self, phone: str, template: str, params: dict[str, str]) -> requests.Response:
        raise NotImplementedError

    def _code(self, response: requests.Response) -> tuple[str, str]:
        """The provider's answer code and message for this number; raises when unreadable."""
        raise NotImplementedError

    def _judge(
        self, status: int, code: str, text: str, target: Target, message: Message
    ) -> Attempt:
        detail = f"{code}: {_quiet(text)}"[:300]
        where = (message.kind, self.provider, target.label, code, _quiet(text))
        if code == self.OK:
            return Attempt(Outcome.delivered, status, code)
        if code in self.RETRY or code.startswith(self.RETRY_PREFIXES):
            log.info("reminder %s via sms (%s) to %s held back: %s %s", *where)
            return Attempt(Outcome.retry, status, detail)
        if code in self.NUMBER:
            log.warning(
                "reminder %s via sms (%s) to %s refused: %s %s; the number is wrong or "
                "blocked, she can correct it in Settings",
                *where,
            )
            return Attempt(Outcome.failed, status, detail)
        if code in self.CONFIG or code.startswith(self.CONFIG_PREFIXES):
            log.error("reminder %s via sms (%s) to %s refused: %s %s; %s", *where, FIX_CONFIG)
            return Attempt(Outcome.failed, status, detail)
        if status >= 500:
            return Attempt(Outcome.retry, status, detail)
        log.warning("reminder %s via sms (%s) to %s refused: %s %s", *where)
        return Attempt(Outcome.failed, status, detail)

    def _unread(self, response: requests.Response, target: Target, message: Message) -> Attempt:
        """An answer without the provider's code: a proxy's error page, say."""
        status, detail = response.status_code, _quiet(response.text)
        if status == 429 or status >= 500:
            return Attempt(Outcome.retry, status, detail)
        # a 2xx we cannot read may have been sent: failed, never sent a second time
        log.warning(
            "reminder %s via sms (%s) to %s: unreadable answer (HTTP %s)",
            message.kind,
            self.provider,
            target.label,
            status,
        )
        return Attempt(Outcome.failed, status, detail)


class AliyunSmsChannel(TemplateSmsChannel):
    """Alibaba Cloud SMS `SendSms` (dysmsapi 2017-05-25), an RPC call POSTed as a form."""

    provider = "aliyun"
    OK = "OK"
    RETRY = frozenset(
        {
            "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control: a minute, an hour, a day
            "isv.DAY_LIMIT_CONTROL",  # the account's daily quota
            "isp.SYSTEM_ERROR",
            "isp.GATEWAY_ERROR",
            "SignatureNonceUsed",
            "ServiceUnavailable",
            "InternalError",
        }
    )
    RETRY_PREFIXES = ("Throttling",)
    NUMBER = frozenset({"isv.MOBILE_NUMBER_ILLEGAL"})
    CONFIG = frozenset(
        {
            "isv.SMS_TEMPLATE_ILLEGAL",
            "isv.SMS_SIGNATURE_ILLEGAL",
            "isv.TEMPLATE_MISSING_PARAMETERS",
            "isv.INVALID_JSON_PARAM",
            "isv.PARAM_NOT_SUPPORT_URL",
            "isv.AMOUNT_NOT_ENOUGH",
            "isv.OUT_OF_SERVICE",
            "isv.PRODUCT_UN_SUBSCRIPT",
            "isv.ACCOUNT_NOT_EXISTS",
            "isv.ACCOUNT_ABNORMAL",
            "isp.RAM_PERMISSION_DENY",
            "InvalidAccessKeyId.NotFound",
            "InvalidAccessKeyId.Inactive",
            "SignatureDoesNotMatch",
            "InvalidTimeStamp.Expired",  # this server's clock
        }
    )

    def _send(self, phone: str, template: str, params: dict[str, str]) -> requests.Response:
        query = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self._region,
            "SignName": self._sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "Timestamp": datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        if params:
            query["TemplateParam"] = json.dumps(params, ensure_ascii=False, separators=(",", ":"))
        query["Signature"] = rpc_signature("POST", query, self._key_secret)
        return self._http.post(self._url, data=query, timeout=TIMEOUT_SECONDS)

    def _code(self, response: requests.Response) -> tuple[str, str]:
        answer = response.json()
        return str(answer["Code"]), str(answer.get("Message", ""))


class TencentSmsChannel(TemplateSmsChannel):
    """Tencent Cloud SMS `SendSms` (API 3.0, 2021-01-11), a JSON POST signed TC3-HMAC-SHA256."""

    provider = "tencent"
    SERVICE = "sms"
    OK = "Ok"
    RETRY = frozenset({"RequestLimitExceeded"})
    RETRY_PREFIXES = ("LimitExceeded.", "RequestLimitExceeded.", "InternalError")
    NUMBER = frozenset(
        {
            "InvalidParameterValue.IncorrectPhoneNumber",
            "FailedOperation.PhoneNumberInBlacklist",
            "FailedOperation.PhoneNumberOnBlacklist",
        }
    )
    CONFIG = frozenset(
        {
            "FailedOperation.TemplateIncorrectOrUnapproved",
            "FailedOperation.SignatureIncorrectOrUnapproved",
            "FailedOperation.MissingSignatureList",
            "FailedOperation.MissingTemplateList",
            "FailedOperation.InsufficientBalanceInSmsPackage",
            "InvalidParameterValue.SdkAppIdNotExist",
            "InvalidParameterValue.TemplateParameterFormatError",
            "InvalidParameterValue.TemplateParameterLengthLimit",
            "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        }
    )
    CONFIG_PREFIXES = ("AuthFailure.", "UnauthorizedOperation.")

    def __init__(self, *, app_id: str, **settings):
        super().__init__(**settings)
        self._app_id = app_id
        self._host = urlsplit(self._url).netloc

    def _send(self, phone: str, template: str, params: dict[str, str]) -> requests.Response:
        body = {
            # E.164: the numbers kept are 11 mainland digits
            "PhoneNumberSet": [phone if phone.startswith("+") else f"+86{phone}"],
            "SmsSdkAppId": self._app_id,
            "SignName": self._sign_name,
            "TemplateId": template,
        }
        if params:
            body["TemplateParamSet"] = list(params.values())
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self._clock())
        authorization = tc3_authorization(
            secret_id=self._key_id,
            secret_key=self._key_secret,
            host=self._host,
            service=self.SERVICE,
            timestamp=timestamp,
            payload=payload,
        )
        headers = {
            "Authorization": authorization,
            "Content-Type": JSON_TYPE,
            "Host": self._host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": "2021-01-11",
            "X-TC-Region": self._region,
        }
        return self._http.post(self._url, data=payload, headers=headers, timeout=TIMEOUT_SECONDS)

    def _code(self, response: requests.Response) -> tuple[str, str]:
        answer = response.json()["Response"]
        if error := answer.get("Error"):
            return str(error["Code"]), str(error.get("Message", ""))
        [status] = answer["SendStatusSet"]  # one number per request
        return str(status["Code"]), str(status.get("Message", ""))


def provider_channel(provider: str, config, http: requests.Session) -> TemplateSmsChannel:
    """The channel for CLOVER_SMS_PROVIDER `aliyun` or `tencent`, from the app's config."""
    settings = {
        "url": config["CLOVER_SMS_URL"],
        "key_id": config.get("CLOVER_SMS_KEY_ID", ""),
        "key_secret": config.get("CLOVER_SMS_KEY_SECRET", ""),
        "sign_name": config.get("CLOVER_SMS_SENDER", ""),
        "templates": config.get("CLOVER_SMS_TEMPLATES") or {},
        "region": config.get("CLOVER_SMS_REGION") or PROVIDER_REGIONS[provider],
        "http": http,
    }
    if provider == "aliyun":
        return AliyunSmsChannel(**settings)
    return TencentSmsChannel(app_id=config.get("CLOVER_SMS_APP_ID", ""), **settings)
