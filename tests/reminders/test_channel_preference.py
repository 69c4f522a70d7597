"""Her channel first: a reminder goes by the way she prefers, falls back when it fails, once."""

import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update
from sqlmodel import Session, select

from app.models import PushSubscription, Reminder, ReminderDelivery, User
from app.reminders import sending
from app.reminders.channels import build_channels
from app.reminders.preference import channel_order
from tests.reminders.conftest import CHONGQING_EIGHT, TODAY, senders_at_once
from tests.reminders.wecom_standin import AGENT_ID, CORP_ID, WeComStandIn

TIMES = {"reminder_time": "08:00", "evening_time": "18:00", "quiet_start": "", "quiet_end": ""}


@pytest.fixture
def wecom():
    stand_in = WeComStandIn(members={"wangfang"})
    yield stand_in
    stand_in.close()
    assert stand_in.errors == [], "WeCom would refuse what was sent"


@pytest.fixture
def every_channel(push_app, sms_gateway, wecom):
    """A server that sends by Web Push, SMS and WeCom."""
    push_app.config.update(
        CLOVER_SMS_URL=sms_gateway.url,
        CLOVER_WECOM_CORP_ID=CORP_ID,
        CLOVER_WECOM_SECRET=wecom.secret,
        CLOVER_WECOM_AGENT_ID=str(AGENT_ID),
        CLOVER_WECOM_API=wecom.api,
        CLOVER_BASE_URL="https://clover.example.org",
    )
    return push_app


@pytest.fixture
def officer(make_user, db, subscribe):
    """An officer every channel reaches: a phone with push on, a number, a WeCom id."""

    def make(prefers: str | None):
        user = make_user("officer1", timezone="Asia/Chongqing")
        user.reminder_phone, user.wecom_user_id = "13800138000", "wangfang"
        user.reminder_channel = prefers
        db.add(user)
        db.commit()
        return user, subscribe(user)

    return make


def attempts(db) -> list[tuple[str, str]]:
    db.expire_all()
    rows = db.exec(select(ReminderDelivery).order_by(ReminderDelivery.at, ReminderDelivery.attempt))
    return [(d.channel, d.outcome) for d in rows]


@pytest.mark.parametrize(
    ("preferred", "configured", "order"),
    [
        (None, ["webpush", "sms", "wecom"], ["webpush", "wecom", "sms"]),
        ("sms", ["webpush", "sms", "wecom"], ["sms", "webpush", "wecom"]),
        ("wecom", ["sms", "wecom"], ["wecom", "sms"]),
        ("wecom", ["webpush", "sms"], ["webpush", "sms"]),  # no longer sent by: automatic
    ],
)
def test_her_channel_comes_first_and_the_others_follow_in_the_automatic_order(
    preferred, configured, order
):
    assert channel_order(preferred, configured) == order


def test_preferring_sms_sends_by_sms_only_when_it_delivers(
    every_channel, officer, due_person, push_service, sms_gateway, wecom, sender, db
):
    user, _browser = officer("sms")
    due_person(user)
    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert sender(CHONGQING_EIGHT + timedelta(minutes=5)) == {}
    assert [r.body["phone"] for r in sms_gateway.received] == ["13800138000"]
    assert push_service.received == [] and wecom.sent == []
    assert attempts(db) == [("sms", "delivered")]


def test_automatic_sends_by_push_only_when_it_delivers(
    every_channel, officer, due_person, push_service, sms_gateway, wecom, sender, db
):
    user, browser = officer(None)
    due_person(user)
    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert len(push_service.payloads(browser)) == 1
    assert sms_gateway.received == [] and wecom.sent == []


def test_sms_refused_falls_back_to_push(
    every_channel, officer, due_person, push_service, sms_gateway, wecom, sender, db
):
    user, browser = officer("sms")
    due_person(user)
    sms_gateway.statuses["/sms/send"] = [403]
    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert len(push_service.payloads(browser)) == 1
    assert wecom.sent == []
    assert attempts(db) == [("sms", "failed"), ("webpush", "delivered")]


def test_sms_and_push_failing_fall_back_to_wecom_and_every_attempt_is_logged(
    every_channel, officer, due_person, push_service, sms_gateway, wecom, sender, db
):
    user, browser = officer("sms")
    due_person(user)
    sms_gateway.statuses["/sms/send"] = [500, 500, 500]  # retries run out
    push_service.statuses[browser.path] = [410]  # the subscription is gone
    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    [sent] = wecom.sent
    assert sent.body["touser"] == "wangfang"
    assert attempts(db) == [
        ("sms", "retry"),
        ("sms", "retry"),
        ("sms", "retry"),
        ("webpush", "gone"),
        ("wecom", "delivered"),
    ]
    assert sender(CHONGQING_EIGHT + timedelta(hours=1)) == {}
    assert len(wecom.sent) == 1


def test_every_channel_failing_fails_the_reminder_once(
    every_channel, officer, due_person, push_service, sms_gateway, wecom, sender, db
):
    user, browser = officer("wecom")
    due_person(user)
    wecom.next_errcodes = [60111]  # WeCom does not know her id
    push_service.statuses[browser.path] = [403]
    sms_gateway.statuses["/sms/send"] = [400]
    assert sender(CHONGQING_EIGHT) == {("digest", "failed"): 1}
    assert attempts(db) == [("wecom", "failed"), ("webpush", "failed"), ("sms", "failed")]
    assert sender(CHONGQING_EIGHT + timedelta(hours=1)) == {}
    assert len(sms_gateway.received) == 1


def test_two_senders_at_once_send_a_fallen_back_reminder_once(
    app, every_channel, officer, due_person, push_service, sms_gateway, wecom, sender, monkeypatch
):
    user, browser = officer("sms")
    due_person(user)
    sms_gateway.statuses["/sms/send"] = [403]
    push_service.statuses[browser.path] = [410]
    both_planned = threading.Barrier(2, timeout=30)
    waited = threading.local()
    claim = sending.claim

    def claim_together(*args, **kwargs):
        if not getattr(waited, "done", False):
            waited.done = True
            both_planned.wait()
        return claim(*args, **kwargs)

    monkeypatch.setattr(sending, "claim", claim_together)

    results = senders_at_once(app, sender, CHONGQING_EIGHT)
    assert sorted(results, key=len) == [{}, {("digest", "sent"): 1}]
    # one refused text, one push to a gone subscription, one WeCom message: once each
    assert len(sms_gateway.received) == 1 and len(push_service.received) == 1
    assert len(wecom.sent) == 1


def test_settings_show_the_channels_that_reach_her_and_save_her_choice(
    every_channel, client, auth, make_user, db, subscribe
):
    officer = make_user("officer1")
    subscribe(officer)
    auth.login("officer1")
    page = client.get("/settings/").text
    assert "提醒怎样送达我" in page
    for label in ("我设备上的推送通知", "发到我提醒号码的短信", "发到我企业微信账号的消息"):
        assert label in page
    assert "1 台设备" in page and "尚未为您设置" in page
    assert 'name="reminder_channel" value="" checked' in page  # automatic

    saved = auth.post_form(
        "/settings/reminders",
        {**TIMES, "reminder_phone": "13800138000", "wecom_user_id": "", "reminder_channel": "sms"},
        page="/settings/",
    )
    assert saved.status_code == 302
    db.expire_all()
    assert db.get(User, officer.id).reminder_channel == "sms"
    page = client.get("/settings/").text
    assert 'name="reminder_channel" value="sms" checked' in page
    assert "138****8000" in page


@pytest.mark.parametrize(
    ("chosen", "error"),
    [
        ("wecom", "请选择本服务器可以发送提醒的方式。"),  # WeCom is not configured here
        ("carrier-pigeon", "请选择本服务器可以发送提醒的方式。"),
        ("sms", "要首选短信提醒，请先填写接收短信的手机号码。"),  # no number given
    ],
)
def test_a_channel_this_server_does_not_send_by_is_refused_with_a_translated_error(
    push_app, sms_gateway, client, auth, make_user, db, chosen, error
):
    push_app.config["CLOVER_SMS_URL"] = sms_gateway.url
    officer = make_user("officer1")
    auth.login("officer1")
    page = client.get("/settings/").text
    assert "发到我企业微信账号的消息" not in page  # only what this server sends by
    refused = auth.post_form(
        "/settings/reminders",
        {**TIMES, "reminder_phone": "", "reminder_channel": chosen},
        page="/settings/",
    )
    assert refused.status_code == 200
    assert error in refused.text
    db.expire_all()
    saved = db.get(User, officer.id)
    assert (saved.reminder_channel, saved.quiet_start) == (None, "22:00")  # nothing changed


def test_one_channel_on_the_server_offers_no_choice(push_app, client, auth, make_user, db):
    make_user("officer1")
    auth.login("officer1")
    page = client.get("/settings/").text
    assert "我设备上的推送通知" in page
    assert 'name="reminder_channel"' not in page


def test_a_test_reminder_follows_her_choice(
    every_channel, officer, client, auth, push_service, sms_gateway, wecom, db
):
    officer("wecom")
    auth.login("officer1")
    auth.post_form("/settings/reminders/test", {}, page="/settings/")
    assert len(wecom.sent) == 1
    assert push_service.received == [] and sms_gateway.received == []
    assert db.exec(select(Reminder.status)).all() == ["sent"]


GOOGLE = "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH"
APPLE = "https://web.push.apple.com/QGuQyavXutnMmhj0RBOU5Y"
UNREACHABLE = "这部手机的推送服务在中国大陆无法送达"


def device(db, user, endpoint: str, *, success=None, failure=None, failed_reminders: int = 0):
    """A saved push subscription whose sends went as told, as the sender would have left it."""
    subscription = PushSubscription(
        user_id=user.id,
        endpoint=endpoint,
        p256dh="B" * 87,
        auth="A" * 22,
        label="Android · Chrome",
        last_success_at=success,
        last_failure_at=failure,
    )
    db.add(subscription)
    db.flush()
    for n in range(failed_reminders):
        reminder = Reminder(user_id=user.id, kind="digest", day=TODAY + timedelta(days=n))
        db.add(reminder)
        db.flush()
        for attempt in (1, 2, 3):  # each one retried until the retries ran out
            db.add(
                ReminderDelivery(
                    reminder_id=reminder.id,
                    channel="webpush",
                    target=str(subscription.id),
                    attempt=attempt,
                    outcome="retry",
                    at=failure - timedelta(days=failed_reminders - 1 - n),
                )
            )
    db.commit()
    return subscription


@pytest.mark.parametrize(
    ("endpoint", "sent", "shown"),
    [
        (GOOGLE, "first send failed", True),
        (APPLE, "first send failed", False),
        (GOOGLE, "two reminders failed since a success", True),
        (APPLE, "two reminders failed since a success", False),
        (GOOGLE, "one reminder failed since a success", False),
        (GOOGLE, "delivered", False),
        (GOOGLE, "nothing sent yet", False),
    ],
)
def test_a_push_service_out_of_reach_from_mainland_china_is_said_plainly(
    push_app, sms_gateway, wecom, client, auth, make_user, db, endpoint, sent, shown
):
    push_app.config["CLOVER_SMS_URL"] = sms_gateway.url
    officer = make_user("officer1")
    failure = CHONGQING_EIGHT
    success = failure - timedelta(days=5)
    made = {
        "first send failed": {"failure": failure, "failed_reminders": 1},
        "two reminders failed since a success": {
            "success": success,
            "failure": failure,
            "failed_reminders": 2,
        },
        "one reminder failed since a success": {
            "success": success,
            "failure": failure,
            "failed_reminders": 1,
        },
        "delivered": {"success": failure, "failure": success},
        "nothing sent yet": {},
    }[sent]
    device(db, officer, endpoint, **made)
    auth.login("officer1")
    page = client.get("/settings/").text
    assert (UNREACHABLE in page) is shown
    # and SMS, configured here, is offered instead (WeCom is not)
    assert ("请在下方改选短信提醒" in page) is shown
    assert "企业微信" not in page


def test_the_notice_offers_sms_and_wecom_where_both_are_on(
    every_channel, client, auth, make_user, db
):
    officer = make_user("officer1")
    device(db, officer, GOOGLE, failure=CHONGQING_EIGHT, failed_reminders=1)
    auth.login("officer1")
    page = client.get("/settings/").text
    assert UNREACHABLE in page
    assert "请在下方改选短信或企业微信提醒" in page
    assert 'href="#reminder-channel"' in page and 'id="reminder-channel"' in page


def test_a_slow_run_renews_its_claim_before_the_next_channel(
    every_channel, officer, due_person, push_service, sms_gateway, wecom, db
):
    """The text's refusal comes a whole lease after the claim: nobody took the reminder
    over, so the run holds it another lease and sends it by push."""
    user, browser = officer("sms")
    due_person(user)
    sms_gateway.statuses["/sms/send"] = [403]
    lease = every_channel.config["CLOVER_REMINDER_LEASE"]
    # the monotonic clock: the run starts, then everything comes in a lease later
    ticks = iter([0, 0])

    def clock() -> int:
        return next(ticks, int(lease.total_seconds()) * 1_000_000_000)

    with every_channel.app_context(), requests.Session() as http:
        summary = sending.send_reminders(
            db,
            now=CHONGQING_EIGHT,
            lease=lease,
            channels=build_channels(every_channel.config, http),
            sleep=lambda _seconds: None,
            clock=clock,
        )
    assert summary == {("digest", "sent"): 1}
    assert attempts(db) == [("sms", "failed"), ("webpush", "delivered")]
    [reminder] = db.exec(select(Reminder)).all()
    db.refresh(reminder)
    assert reminder.lease_until == CHONGQING_EIGHT + 2 * lease


def test_a_claim_another_run_took_over_is_not_sent_on_by_this_one(
    every_channel, officer, due_person, push_service, sms_gateway, wecom, db, monkeypatch
):
    """While the text was refused, the lease ran out and another run took the reminder:
    this run logs its own attempt and leaves the rest to that run."""
    user, browser = officer("sms")
    due_person(user)
    sms_gateway.statuses["/sms/send"] = [403]
    taken_over = CHONGQING_EIGHT + timedelta(hours=1)
    real_renew = sending._renew

    def another_run_takes_it_first(session, held, *, until):
        with Session(every_channel.extensions["clover_engine"]) as other:
            other.execute(update(Reminder).values(lease_until=taken_over))
            other.commit()
        return real_renew(session, held, until=until)

    monkeypatch.setattr(sending, "_renew", another_run_takes_it_first)
    with every_channel.app_context(), requests.Session() as http:
        sending.send_reminders(
            db,
            now=CHONGQING_EIGHT,
            lease=every_channel.config["CLOVER_REMINDER_LEASE"],
            channels=build_channels(every_channel.config, http),
            sleep=lambda _seconds: None,
        )
    assert attempts(db) == [("sms", "failed")]
    assert push_service.received == [] and wecom.sent == []
    [reminder] = db.exec(select(Reminder)).all()
    db.refresh(reminder)
    assert reminder.status == "sending" and reminder.lease_until == taken_over
