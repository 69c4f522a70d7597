"""WeCom application messages: a textcard to her WeCom user id, once, with a shared token."""

import json
import logging
import uuid
from datetime import timedelta

import pytest
import requests
from sqlmodel import select

from app.models import AuditEvent, ReminderDelivery, User
from app.reminders.channels import Message, Outcome, Target
from app.reminders.wecom import TOKEN_MARGIN_SECONDS, WeComChannel
from tests.reminders.conftest import CHONGQING_EIGHT
from tests.reminders.wecom_standin import AGENT_ID, CORP_ID, WeComStandIn

BASE_URL = "https://clover.example.org"
CONFIG_LOG = "fix the WeCom settings"
TIMES = {"reminder_time": "08:00", "evening_time": "18:00", "quiet_start": "", "quiet_end": ""}


@pytest.fixture
def wecom():
    stand_in = WeComStandIn(members={"wangfang", "officer.2@corp"} | {f"o{n}" for n in range(6)})
    yield stand_in
    stand_in.close()
    assert stand_in.errors == [], "WeCom would refuse what was sent"


@pytest.fixture
def wecom_app(push_app, wecom):
    push_app.config.update(
        CLOVER_WECOM_CORP_ID=CORP_ID,
        CLOVER_WECOM_SECRET=wecom.secret,
        CLOVER_WECOM_AGENT_ID=str(AGENT_ID),
        CLOVER_WECOM_API=wecom.api,
        CLOVER_BASE_URL=BASE_URL,
    )
    return push_app


@pytest.fixture
def officer_on_wecom(make_user, db):
    def make(username: str, wecom_user_id: str):
        user = make_user(username, timezone="Asia/Chongqing", display_name="王芳")
        user.wecom_user_id = wecom_user_id
        db.add(user)
        db.commit()
        return user

    return make


def test_a_reminder_reaches_her_wecom_id_once_and_names_nobody(
    wecom_app, wecom, officer_on_wecom, due_person, sender, db
):
    officer = officer_on_wecom("officer1", "wangfang")
    person = due_person(officer)
    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert sender(CHONGQING_EIGHT + timedelta(minutes=5)) == {}
    [sent] = wecom.sent
    assert sent.body["touser"] == "wangfang"
    assert sent.body["agentid"] == AGENT_ID
    assert sent.body["enable_duplicate_check"] == 1
    assert sent.card == {
        "title": "三叶草",
        "description": "今日应访 1 人",
        "url": f"{BASE_URL}/",
        "btntxt": "查看",
    }
    said = json.dumps(sent.body, ensure_ascii=False)
    for private in (person.name, person.address, "张晓梅", officer.display_name):
        assert private not in said
    [delivery] = db.exec(select(ReminderDelivery)).all()
    assert (delivery.channel, delivery.target, delivery.outcome) == ("wecom", "wa****", "delivered")
    assert wecom.token_fetches == 1


def test_one_token_for_many_messages_and_one_refresh_after_it_expires(
    wecom_app, wecom, officer_on_wecom, due_person, sender
):
    for n in range(6):
        due_person(officer_on_wecom(f"officer{n}", f"o{n}"))
    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 6}
    assert wecom.token_fetches == 1
    wecom.expire_tokens()  # two hours later, as WeCom sees it, while Clover still has it
    assert sender(CHONGQING_EIGHT + timedelta(days=1)) == {("digest", "sent"): 6}
    assert wecom.token_fetches == 2
    assert {code for _path, code in wecom.refused} == {42001}
    assert len(wecom.sent) == 12
    assert len({s.body["touser"] for s in wecom.sent}) == 6


def channel_on(wecom, *, clock=None):
    http = requests.Session()
    kwargs = {"clock": clock} if clock else {}
    return WeComChannel(
        corp_id=CORP_ID,
        secret=wecom.secret,
        agent_id=str(AGENT_ID),
        api=wecom.api,
        base_url=BASE_URL,
        http=http,
        **kwargs,
    )


MESSAGE = Message(
    kind="digest",
    title="三叶草",
    body="今日应访 2 人",
    url="/",
    tag="digest",
    ttl=86400,
    action="查看",
)


def target(wecom_id: str = "wangfang") -> Target:
    return Target(uuid.uuid4(), wecom_id, wecom_id[:2] + "****")


def test_the_token_is_kept_until_shortly_before_it_expires_then_fetched_once(wecom):
    now = [1000.0]
    channel = channel_on(wecom, clock=lambda: now[0])
    for _ in range(3):
        assert channel.attempt(target(), MESSAGE).outcome == Outcome.delivered
    assert wecom.token_fetches == 1
    now[0] += wecom.expires_in - TOKEN_MARGIN_SECONDS - 1
    channel.attempt(target(), MESSAGE)
    assert wecom.token_fetches == 1
    now[0] += 2
    channel.attempt(target(), MESSAGE)
    channel.attempt(target(), MESSAGE)
    assert wecom.token_fetches == 2
    assert wecom.refused == []


def test_an_expired_token_is_fetched_again_once_for_all_the_workers(wecom):
    channel = channel_on(wecom)
    channel.attempt(target(), MESSAGE)
    wecom.expire_tokens()
    first = channel.attempt(target(), MESSAGE)
    second = channel.attempt(target(), MESSAGE)
    assert (first.outcome, second.outcome) == (Outcome.delivered, Outcome.delivered)
    assert wecom.token_fetches == 2
    assert wecom.refused == [("/cgi-bin/message/send", 42001)]


# errcodes WeCom answers a send with, and what becomes of the reminder
ERRCODES = [
    ([42001], Outcome.delivered, False),  # a new token, sent again
    ([40014], Outcome.delivered, False),
    ([42001, 42001], Outcome.retry, False),  # refused again: later
    ([45009], Outcome.retry, False),
    ([45033], Outcome.retry, False),
    ([-1], Outcome.retry, False),
    ([60111], Outcome.failed, False),
    ([81013], Outcome.failed, False),
    ([40001], Outcome.failed, True),
    ([40013], Outcome.failed, True),
    ([301002], Outcome.failed, True),
    ([48002], Outcome.failed, True),
]


@pytest.mark.parametrize(
    ("errcodes", "outcome", "config"), ERRCODES, ids=[str(c[0]) for c in ERRCODES]
)
def test_each_errcode_has_its_outcome(wecom, caplog, errcodes, outcome, config):
    channel = channel_on(wecom)
    wecom.next_errcodes = list(errcodes)
    with caplog.at_level(logging.ERROR, logger="clover.reminders"):
        attempt = channel.attempt(target(), MESSAGE)
    assert attempt.outcome == outcome
    if outcome != Outcome.delivered:
        assert attempt.status_code == errcodes[-1]
    assert (CONFIG_LOG in caplog.text) == config
    assert len(wecom.sent) == (outcome == Outcome.delivered)


def test_a_user_id_wecom_does_not_know_fails(wecom):
    attempt = channel_on(wecom).attempt(target("left.the.unit"), MESSAGE)
    assert (attempt.outcome, attempt.status_code) == (Outcome.failed, 81013)


@pytest.mark.parametrize(
    ("corp_id", "secret", "errcode"), [("ww-wrong", None, 40013), (CORP_ID, "wrong", 40001)]
)
def test_a_wrong_corp_id_or_secret_fails_says_why_and_is_asked_once(
    wecom, caplog, corp_id, secret, errcode
):
    channel = WeComChannel(
        corp_id=corp_id,
        secret=secret or wecom.secret,
        agent_id=str(AGENT_ID),
        api=wecom.api,
        base_url=BASE_URL,
        http=requests.Session(),
    )
    with caplog.at_level(logging.ERROR, logger="clover.reminders"):
        attempts = [channel.attempt(target(), MESSAGE) for _ in range(3)]
    assert {(a.outcome, a.status_code) for a in attempts} == {(Outcome.failed, errcode)}
    assert CONFIG_LOG in caplog.text
    assert wecom.refused == [("/cgi-bin/gettoken", errcode)]


def test_a_busy_wecom_is_tried_again_after_a_pause(
    wecom_app, wecom, officer_on_wecom, due_person, sender, db
):
    due_person(officer_on_wecom("officer1", "wangfang"))
    wecom.next_errcodes = [45009]
    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert len(sender.pauses) == 1
    outcomes = db.exec(select(ReminderDelivery.outcome).order_by(ReminderDelivery.attempt)).all()
    assert outcomes == ["retry", "delivered"]


def saved_id(db, user: User) -> str | None:
    """Her WeCom user id as the requests left it (a new read, not this session's copy)."""
    db.close()
    return db.get(User, user.id).wecom_user_id


def test_settings_set_check_and_clear_the_wecom_user_id(wecom_app, client, auth, make_user, db):
    officer = make_user("officer1")
    auth.login("officer1")
    assert "接收提醒的企业微信账号（UserID）" in client.get("/settings/").text
    wrong = auth.post_form(
        "/settings/reminders", {**TIMES, "wecom_user_id": "王芳"}, page="/settings/"
    )
    assert "请填写企业微信账号（UserID）：最多 64 个字母、数字或 _ - . @ 符号" in wrong.text
    too_long = auth.post_form(
        "/settings/reminders", {**TIMES, "wecom_user_id": "a" * 65}, page="/settings/"
    )
    assert "请填写企业微信账号" in too_long.text
    assert saved_id(db, officer) is None
    auth.post_form(
        "/settings/reminders", {**TIMES, "wecom_user_id": " officer.2@corp "}, page="/settings/"
    )
    assert saved_id(db, officer) == "officer.2@corp"
    assert 'value="officer.2@corp"' in client.get("/settings/").text
    auth.post_form("/settings/reminders", {**TIMES, "wecom_user_id": ""}, page="/settings/")
    assert saved_id(db, officer) is None
    changes = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "reminder_settings_change")
        .order_by(AuditEvent.at)
    ).all()
    assert [event.details["wecom"] for event in changes] == [True, False]


def test_the_wecom_field_is_offered_only_where_wecom_is_on(push_app, client, auth, make_user, db):
    officer = make_user("officer1")
    officer.wecom_user_id = "wangfang"
    db.add(officer)
    db.commit()
    auth.login("officer1")
    assert "企业微信" not in client.get("/settings/").text
    auth.post_form("/settings/reminders", TIMES, page="/settings/")
    assert saved_id(db, officer) == "wangfang"  # kept
