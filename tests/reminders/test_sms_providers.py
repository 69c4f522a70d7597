"""Alibaba Cloud and Tencent Cloud SMS: signed as their documentation's worked examples, sent to
stand-ins on 127.0.0.1 that check each signature and answer as the providers document."""

import json
import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlmodel import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.config import ConfigError, load_config
from app.models import ReminderDelivery
from app.reminders.channels import (
    Message,
    Outcome,
    SmsChannel,
    Target,
    build_channels,
    channels_configured,
    sms_channel,
)
from app.reminders.sms_providers import (
    AliyunSmsChannel,
    TencentSmsChannel,
    rpc_signature,
    rpc_string_to_sign,
    tc3_authorization,
    tc3_canonical_request,
    tc3_signature,
    tc3_string_to_sign,
)
from tests.reminders.conftest import CHONGQING_EIGHT

# --- the signatures, against each provider's published worked example ---

# Alibaba Cloud SMS, "签名机制" (https://help.aliyun.com/document_detail/56189.html): SendSms
# signed with AccessKeyId testId and AccessKeySecret testSecret
ALIYUN_SMS_EXAMPLE = (
    "testSecret",
    {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    },
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
    "%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF"
    "%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF"
    "%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce"
    "%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode"
    "%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D"
    "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25",
    "zJDF+Lrzhj/ThnlvIToysFRq6t4=",
)
# Alibaba Cloud's RPC signature page (ECS "签名机制" / "Request signatures"): DescribeRegions
# signed with AccessKeyId testid and AccessKeySecret testsecret
ALIYUN_RPC_EXAMPLE = (
    "testsecret",
    {
        "Timestamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    },
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
    "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
    "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
    "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
)


@pytest.mark.parametrize("example", [ALIYUN_SMS_EXAMPLE, ALIYUN_RPC_EXAMPLE], ids=["sms", "rpc"])
def test_aliyun_signature_is_the_documented_example(example):
    secret, params, string_to_sign, signature = example
    assert rpc_string_to_sign("GET", params) == string_to_sign
    assert rpc_signature("GET", params, secret) == signature
    assert rpc_signature("GET", {**params, "Signature": signature}, secret) == signature


# Tencent Cloud API 3.0, "签名方法 v3" (https://www.tencentcloud.com/document/api/1021/34193):
# DescribeInstances on cvm at 1551113065, SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE
TC3_PAYLOAD = (
    r'{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}'
)
TC3_CANONICAL_REQUEST = (
    "POST\n"
    "/\n"
    "\n"
    "content-type:application/json; charset=utf-8\n"
    "host:cvm.tencentcloudapi.com\n"
    "\n"
    "content-type;host\n"
    "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
)
TC3_STRING_TO_SIGN = (
    "TC3-HMAC-SHA256\n"
    "1551113065\n"
    "2019-02-25/cvm/tc3_request\n"
    "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
)
TC3_SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
TC3_AUTHORIZATION = (
    "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
    "SignedHeaders=content-type;host, "
    "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
)


def test_tencent_signature_is_the_documented_example():
    payload, stamp = TC3_PAYLOAD.encode(), 1551113065
    request = tc3_canonical_request(host="cvm.tencentcloudapi.com", payload=payload)
    assert request == TC3_CANONICAL_REQUEST
    assert tc3_string_to_sign(request, timestamp=stamp, service="cvm") == TC3_STRING_TO_SIGN
    secret = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
    signature = tc3_signature(TC3_STRING_TO_SIGN, secret_key=secret, timestamp=stamp, service="cvm")
    assert signature == TC3_SIGNATURE
    assert (
        tc3_authorization(
            secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key=secret,
            host="cvm.tencentcloudapi.com",
            service="cvm",
            timestamp=stamp,
            payload=payload,
        )
        == TC3_AUTHORIZATION
    )


# --- stand-ins for the two providers ---

PHONE = "13800138000"
KEYS = {
    "aliyun": ("LTAI5tCloverTest", "aliyun-test-secret"),
    "tencent": ("AKIDCloverTest", "tc-secret"),
}
TEMPLATES = {
    "aliyun": {
        "digest": "SMS_0001",
        "evening": "SMS_0002",
        "alert": "SMS_0003",
        "test": "SMS_0004",
    },
    "tencent": {"digest": "1101", "evening": "1102", "alert": "1103", "test": "1104"},
}
APP_ID = "1400006666"


class ProviderStandIn:
    """A provider's API on 127.0.0.1: checks the signature, then answers from `answers`."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: list[tuple[int, dict | str]] = []  # then the documented success
        self.errors: list[str] = []
        self.nonces: set[str] = set()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _wsgi(self, environ, start_response):
        try:
            status, body = self.handle(Request(environ))
        except Exception as error:  # noqa: BLE001 - reported to the test instead
            self.errors.append(repr(error))
            status, body = 400, "stand-in refused the request"
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        kind = "text/html" if isinstance(body, str) else "application/json"
        return Response(text, status=status, content_type=kind)(environ, start_response)

    def reply(self, success: dict) -> tuple[int, dict | str]:
        return self.answers.pop(0) if self.answers else (200, success)

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def aliyun_error(code: str, message: str) -> dict:
    return {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message}


class AliyunStandIn(ProviderStandIn):
    def handle(self, request: Request):
        assert (request.method, request.path) == ("POST", "/")
        params = request.form.to_dict()
        signature = params.pop("Signature")
        key_id, secret = KEYS["aliyun"]
        if params["AccessKeyId"] != key_id:
            return 404, aliyun_error(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        if signature != rpc_signature("POST", params, secret):
            # as the real one does, it quotes its string to sign, the phone number with it
            server = rpc_string_to_sign("POST", params)
            message = (
                "Specified signature is not matched with our calculation. "
                f"server string to sign is:{server}"
            )
            return 400, aliyun_error("SignatureDoesNotMatch", message)
        fixed = ("Action", "Format", "SignatureMethod", "SignatureVersion", "Version")
        assert [params[name] for name in fixed] == [
            "SendSms",
            "JSON",
            "HMAC-SHA1",
            "1.0",
            "2017-05-25",
        ]
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=15), stamp
        assert params["SignatureNonce"] not in self.nonces, "a nonce used twice"
        self.nonces.add(params["SignatureNonce"])
        self.received.append(params)
        # SendSms's documented answer
        return self.reply(
            {
                "Code": "OK",
                "Message": "OK",
                "BizId": "9006197469364984400",
                "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
            }
        )


def tencent_status(code: str, message: str) -> dict:
    """A SendSms answer with one number's status, the shape its documentation gives."""
    return {
        "Response": {
            "SendStatusSet": [
                {
                    "SerialNo": "5000:1045710669157053657849499619" if code == "Ok" else "",
                    "PhoneNumber": f"+86{PHONE}",
                    "Fee": 1 if code == "Ok" else 0,
                    "SessionContext": "",
                    "Code": code,
                    "Message": message,
                    "IsoCode": "CN",
                }
            ],
            "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
        }
    }


def tencent_error(code: str, message: str) -> dict:
    return {
        "Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}
    }


class TencentStandIn(ProviderStandIn):
    def handle(self, request: Request):
        assert (request.method, request.path) == ("POST", "/")
        headers, body = request.headers, request.get_data()
        algorithm, _, fields = headers["Authorization"].partition(" ")
        parts = dict(part.strip().split("=", 1) for part in fields.split(","))
        key_id, day, service, terminator = parts["Credential"].split("/")
        stamp = int(headers["X-TC-Timestamp"])
        assert (algorithm, service, terminator) == ("TC3-HMAC-SHA256", "sms", "tc3_request")
        assert parts["SignedHeaders"] == "content-type;host"
        assert day == datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d")
        assert abs(datetime.now(UTC).timestamp() - stamp) < 300, "AuthFailure.SignatureExpire"
        if key_id != KEYS["tencent"][0]:
            return 200, tencent_error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        canonical = tc3_canonical_request(
            host=headers["Host"], payload=body, content_type=headers["Content-Type"]
        )
        string_to_sign = tc3_string_to_sign(canonical, timestamp=stamp, service="sms")
        expected = tc3_signature(
            string_to_sign, secret_key=KEYS["tencent"][1], timestamp=stamp, service="sms"
        )
        if parts["Signature"] != expected:
            return 200, tencent_error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. "
                "Please check your signature is correct.",
            )
        assert headers["X-TC-Action"] == "SendSms" and headers["X-TC-Version"] == "2021-01-11"
        assert headers["X-TC-Region"] == "ap-guangzhou"
        self.received.append(json.loads(body))
        return self.reply(tencent_status("Ok", "send success"))


STAND_INS = {"aliyun": AliyunStandIn, "tencent": TencentStandIn}


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request):
    stand_in = STAND_INS[request.param]()
    stand_in.name = request.param
    yield stand_in
    stand_in.close()
    assert stand_in.errors == [], "the stand-in refused what was sent"


def sms_config(provider, **overrides) -> dict:
    key_id, secret = KEYS[provider.name]
    return {
        "CLOVER_SMS_PROVIDER": provider.name,
        "CLOVER_SMS_URL": provider.url,
        "CLOVER_SMS_KEY_ID": key_id,
        "CLOVER_SMS_KEY_SECRET": secret,
        "CLOVER_SMS_SENDER": "三叶草",
        "CLOVER_SMS_APP_ID": APP_ID,
        "CLOVER_SMS_TEMPLATES": TEMPLATES[provider.name],
        **overrides,
    }


DIGEST = Message(
    kind="digest",
    title="三叶草",
    body="今日应访 3 人，逾期 1 人",
    url="/",
    tag="digest",
    ttl=24 * 60 * 60,
    params={"due_today": 3, "overdue": 1},
)
TARGET = Target(uuid.uuid4(), PHONE, "138****8000")


def send_one(provider, message=DIGEST, **overrides):
    with requests.Session() as http:
        return sms_channel(sms_config(provider, **overrides), http).attempt(TARGET, message)


def test_a_digest_is_the_kind_s_template_with_its_counts_in_order(provider):
    attempt = send_one(provider)

    assert attempt.outcome == Outcome.delivered
    [sent] = provider.received
    if provider.name == "aliyun":
        assert (sent["PhoneNumbers"], sent["SignName"], sent["TemplateCode"]) == (
            PHONE,
            "三叶草",
            "SMS_0001",
        )
        assert json.loads(sent["TemplateParam"]) == {"due_today": "3", "overdue": "1"}
    else:
        assert sent == {
            "PhoneNumberSet": [f"+86{PHONE}"],
            "SmsSdkAppId": APP_ID,
            "SignName": "三叶草",
            "TemplateId": "1101",
            "TemplateParamSet": ["3", "1"],
        }


HELD = "held back"
FIX = "configuration must be fixed"
NUMBER = "the number is wrong or blocked"
# the providers' messages for the codes below, as their documentation gives them
MESSAGES = {
    "isv.BUSINESS_LIMIT_CONTROL": "触发小时级流控Permits:5",
    "isv.DAY_LIMIT_CONTROL": "触发日发送限额",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板缺少变量",
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "LimitExceeded.PhoneNumberDailyLimit": "the number of sms messages sent from a single "
    "mobile number every day exceeds the upper limit",
    "FailedOperation.TemplateIncorrectOrUnapproved": "template is not approved or request "
    "content does not match the approved template content",
    "FailedOperation.SignatureIncorrectOrUnapproved": "signature is not approved or "
    "signature format is incorrect",
    "InvalidParameterValue.IncorrectPhoneNumber": "incorrect number format",
}
# Tencent's codes that come back for the one number, in SendStatusSet; the others in Error
PER_NUMBER = {code for code in MESSAGES if not code.startswith("isv.")}
# provider, HTTP status, the provider's code (None: a proxy's error page), outcome, log words
CASES = [
    ("aliyun", 200, "isv.BUSINESS_LIMIT_CONTROL", Outcome.retry, HELD),
    ("aliyun", 200, "isv.DAY_LIMIT_CONTROL", Outcome.retry, HELD),
    ("aliyun", 200, "isv.SMS_TEMPLATE_ILLEGAL", Outcome.failed, FIX),
    ("aliyun", 200, "isv.SMS_SIGNATURE_ILLEGAL", Outcome.failed, FIX),
    ("aliyun", 200, "isv.TEMPLATE_MISSING_PARAMETERS", Outcome.failed, FIX),
    ("aliyun", 200, "isv.MOBILE_NUMBER_ILLEGAL", Outcome.failed, NUMBER),
    ("aliyun", 500, "isp.SYSTEM_ERROR", Outcome.retry, HELD),
    ("aliyun", 503, None, Outcome.retry, None),
    ("tencent", 200, "LimitExceeded.PhoneNumberDailyLimit", Outcome.retry, HELD),
    ("tencent", 200, "LimitExceeded.DeliveryFrequencyLimit", Outcome.retry, HELD),
    ("tencent", 200, "RequestLimitExceeded", Outcome.retry, HELD),
    ("tencent", 200, "InternalError.Timeout", Outcome.retry, HELD),
    ("tencent", 200, "FailedOperation.TemplateIncorrectOrUnapproved", Outcome.failed, FIX),
    ("tencent", 200, "FailedOperation.SignatureIncorrectOrUnapproved", Outcome.failed, FIX),
    ("tencent", 200, "InvalidParameterValue.IncorrectPhoneNumber", Outcome.failed, NUMBER),
    ("tencent", 502, None, Outcome.retry, None),
]


def answer(provider: str, code: str | None) -> dict | str:
    if code is None:
        return "<html><body>Bad Gateway</body></html>"
    message = MESSAGES.get(code, code)
    if provider == "aliyun":
        return aliyun_error(code, message)
    return tencent_status(code, message) if code in PER_NUMBER else tencent_error(code, message)


@pytest.fixture(autouse=True)
def reminder_logs(caplog):
    caplog.set_level(logging.INFO, logger="clover.reminders")


def assert_logged(caplog, fragment):
    """One log line names the kind and the masked number, never the whole number."""
    assert PHONE not in caplog.text
    if fragment:
        [line] = [r.getMessage() for r in caplog.records if fragment in r.getMessage()]
        assert "digest" in line and "138****8000" in line


@pytest.mark.parametrize(
    ("provider", "status", "code", "outcome", "words"),
    CASES,
    indirect=["provider"],
    ids=[f"{name}-{status}-{code}" for name, status, code, *_ in CASES],
)
def test_provider_answers_are_delivered_retried_or_refused(
    provider, status, code, outcome, words, caplog
):
    provider.answers.append((status, answer(provider.name, code)))

    attempt = send_one(provider)

    assert (attempt.outcome, attempt.status_code) == (outcome, status)
    assert attempt.detail.startswith(code or "")
    assert PHONE not in attempt.detail
    assert_logged(caplog, words)


def test_a_wrong_secret_is_refused_as_a_configuration_to_fix(provider, caplog):
    attempt = send_one(provider, CLOVER_SMS_KEY_SECRET="not-the-secret")

    assert attempt.outcome == Outcome.failed
    code = "SignatureDoesNotMatch" if provider.name == "aliyun" else "AuthFailure.SignatureFailure"
    assert attempt.detail.startswith(code)
    assert PHONE not in attempt.detail  # Alibaba quotes its string to sign, number and all
    assert_logged(caplog, FIX)
    assert provider.received == []


def test_an_unknown_key_is_a_configuration_to_fix_not_a_gone_target(provider, caplog):
    attempt = send_one(provider, CLOVER_SMS_KEY_ID="LTAI-nobody")

    # Alibaba answers 404, which must not read as a gone subscription
    assert attempt.outcome == Outcome.failed
    assert_logged(caplog, FIX)


def test_a_kind_without_a_template_is_refused_without_a_request(provider, caplog):
    templates = {k: v for k, v in TEMPLATES[provider.name].items() if k != "digest"}

    attempt = send_one(provider, CLOVER_SMS_TEMPLATES=templates)

    assert (attempt.outcome, attempt.detail) == (Outcome.failed, "no template for digest")
    assert provider.received == []
    assert_logged(caplog, "CLOVER_SMS_TEMPLATES has no template for digest")


def test_an_unreachable_provider_is_retried(provider):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    attempt = send_one(provider, CLOVER_SMS_URL=f"http://127.0.0.1:{port}/")
    assert (attempt.outcome, attempt.detail) == (Outcome.retry, "ConnectionError")


def test_a_reminder_run_sends_the_digest_once_through_the_provider(
    app, provider, make_user, due_person, push_service, sender, db
):
    app.config.update(sms_config(provider))
    officer = make_user("officer1", timezone="Asia/Chongqing", display_name="陈雪梅")
    officer.reminder_phone = PHONE
    db.add(officer)
    db.commit()
    person = due_person(officer, due_in=-2)
    throttled = {
        "aliyun": aliyun_error("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
        "tencent": tencent_status("LimitExceeded.PhoneNumberThirtySecondLimit", "30s limit"),
    }
    provider.answers.append((200, throttled[provider.name]))

    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert sender(CHONGQING_EIGHT) == {}  # the ledger has it: no second text

    assert len(provider.received) == 2  # throttled once, then sent, each signed afresh
    assert person.name not in json.dumps(provider.received, ensure_ascii=False)
    deliveries = db.exec(select(ReminderDelivery).order_by(ReminderDelivery.attempt)).all()
    assert [(d.channel, d.outcome, d.target) for d in deliveries] == [
        ("sms", "retry", "138****8000"),
        ("sms", "delivered", "138****8000"),
    ]
    assert push_service.received == []


# --- configuration ---


@pytest.fixture
def sms_env(monkeypatch):
    for name in [name for name in os.environ if name.startswith("CLOVER_SMS_")]:
        monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(
    ("name", "endpoint", "channel"),
    [
        ("aliyun", "https://dysmsapi.aliyuncs.com/", AliyunSmsChannel),
        ("tencent", "https://sms.tencentcloudapi.com/", TencentSmsChannel),
    ],
)
def test_each_provider_is_configured_from_the_environment(
    sms_env, tmp_path, name, endpoint, channel
):
    sms_env.setenv("CLOVER_SMS_PROVIDER", name)
    sms_env.setenv("CLOVER_SMS_KEY_ID", "id")
    sms_env.setenv("CLOVER_SMS_KEY_SECRET", "secret")
    sms_env.setenv("CLOVER_SMS_SENDER", "三叶草")
    sms_env.setenv("CLOVER_SMS_APP_ID", APP_ID)
    sms_env.setenv("CLOVER_SMS_TEMPLATES", json.dumps({"digest": 1101}))

    config = load_config(tmp_path)

    assert config["CLOVER_SMS_URL"] == endpoint
    assert config["CLOVER_SMS_TEMPLATES"] == {"digest": "1101"}
    assert channels_configured(config)
    with requests.Session() as http:
        assert [type(c) for c in build_channels(config, http)] == [channel]


def test_a_gateway_url_alone_is_the_relay(sms_env, tmp_path):
    sms_env.setenv("CLOVER_SMS_URL", "https://relay.example.org/send")
    config = load_config(tmp_path)
    assert config["CLOVER_SMS_PROVIDER"] == "relay" and channels_configured(config)
    with requests.Session() as http:
        assert [type(c) for c in build_channels(config, http)] == [SmsChannel]


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"CLOVER_SMS_PROVIDER": "yunpian"}, "must be one of relay, aliyun, tencent"),
        ({"CLOVER_SMS_PROVIDER": "relay"}, "needs CLOVER_SMS_URL"),
        ({"CLOVER_SMS_PROVIDER": "aliyun"}, "needs CLOVER_SMS_KEY_ID, CLOVER_SMS_KEY_SECRET"),
        (
            {
                "CLOVER_SMS_PROVIDER": "tencent",
                "CLOVER_SMS_KEY_ID": "i",
                "CLOVER_SMS_KEY_SECRET": "s",
                "CLOVER_SMS_SENDER": "三叶草",
                "CLOVER_SMS_TEMPLATES": '{"digest": "1"}',
            },
            "needs CLOVER_SMS_APP_ID",
        ),
        ({"CLOVER_SMS_TEMPLATES": '{"digest": '}, "not JSON"),
        (
            {"CLOVER_SMS_TEMPLATES": '{"digets": "SMS_1"}'},
            "the kinds are digest, evening, alert, test",
        ),
    ],
)
def test_an_incomplete_sms_configuration_stops_start_up(sms_env, tmp_path, settings, error):
    for name, value in settings.items():
        sms_env.setenv(name, value)
    with pytest.raises(ConfigError, match=error):
        load_config(tmp_path)
