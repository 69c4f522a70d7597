"""Delivery: a real Web Push round trip, pruning, retries with backoff, and the SMS channel."""

from sqlmodel import select

from app.models import PushSubscription, Reminder, ReminderDelivery
from tests.reminders.conftest import CHONGQING_EIGHT


def officer_in_chongqing(make_user, username="officer1"):
    return make_user(username, display_name="陈雪梅", timezone="Asia/Chongqing")


def test_digest_round_trip_counts_and_link_no_name(
    make_user, due_person, subscribe, push_service, sender, db
):
    officer = officer_in_chongqing(make_user)
    people = [due_person(officer, due_in=0) for _ in range(3)] + [due_person(officer, due_in=-4)]
    browser = subscribe(officer)

    summary = sender(CHONGQING_EIGHT)

    assert summary == {("digest", "sent"): 1}
    [received] = push_service.received
    # decrypted with the browser's own key: only counts and a link
    assert received.payload == {
        "title": "三叶草",
        "body": "今日应访 3 人，逾期 1 人",
        "url": "/",
        "tag": "digest",
        "count": 4,
    }
    text = str(received.payload)
    for person in people:
        assert person.name not in text and "解放碑" not in text
    assert officer.display_name not in text
    # a day to live for a phone that is off, normal urgency, opaque bytes
    assert received.headers["ttl"] == str(24 * 60 * 60)
    assert received.headers["urgency"] == "normal"
    assert received.headers["content-type"] == "application/octet-stream"
    assert received.claims["sub"] == "mailto:ops@clover.test"
    subscription = db.exec(select(PushSubscription)).one()
    db.refresh(subscription)
    assert subscription.last_success_at is not None
    assert browser.path.endswith(str(received.path).rsplit("/", 1)[1])


def deliveries(db) -> list[tuple]:
    rows = db.exec(select(ReminderDelivery).order_by(ReminderDelivery.attempt))
    return [(d.channel, d.attempt, d.outcome, d.status_code) for d in rows]


def test_gone_subscription_is_removed_and_logged(
    make_user, due_person, subscribe, push_service, sender, db
):
    officer = officer_in_chongqing(make_user)
    due_person(officer)
    expired = subscribe(officer)
    push_service.statuses[expired.path] = [410]

    summary = sender(CHONGQING_EIGHT)

    assert summary == {("digest", "failed"): 1}
    assert db.exec(select(PushSubscription)).all() == []
    assert deliveries(db) == [("webpush", 1, "gone", 410)]
    assert sender.pauses == []


def test_server_errors_are_retried_with_backoff_then_delivered(
    make_user, due_person, subscribe, push_service, sender, db
):
    officer = officer_in_chongqing(make_user)
    due_person(officer)
    browser = subscribe(officer)
    push_service.statuses[browser.path] = [500, 503]

    summary = sender(CHONGQING_EIGHT)

    assert summary == {("digest", "sent"): 1}
    assert len(push_service.payloads(browser)) == 3  # the stand-in decrypted all three
    assert deliveries(db) == [
        ("webpush", 1, "retry", 500),
        ("webpush", 2, "retry", 503),
        ("webpush", 3, "delivered", 201),
    ]
    assert sender.pauses == [2.0, 4.0]  # doubling, injected: the test never sleeps
    assert db.exec(select(PushSubscription)).one().last_success_at is not None


def test_rate_limit_waits_as_told_and_gives_up_after_three(
    make_user, due_person, subscribe, push_service, sender, db
):
    officer = officer_in_chongqing(make_user)
    due_person(officer)
    browser = subscribe(officer)
    push_service.statuses[browser.path] = [429, 429, 429]

    summary = sender(CHONGQING_EIGHT)

    assert summary == {("digest", "failed"): 1}
    assert sender.pauses == [7.0, 7.0]  # the service's Retry-After
    assert [d[2] for d in deliveries(db)] == ["retry", "retry", "retry"]
    subscription = db.exec(select(PushSubscription)).one()  # kept: it may work tomorrow
    assert subscription.last_failure_at is not None and subscription.last_success_at is None


def test_a_refusal_is_not_retried_and_other_devices_still_get_it(
    make_user, due_person, subscribe, push_service, sender, db
):
    officer = officer_in_chongqing(make_user)
    due_person(officer)
    refused, working = subscribe(officer), subscribe(officer)
    push_service.statuses[refused.path] = [403]

    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert len(push_service.payloads(working)) == 1
    assert sorted(d[2] for d in deliveries(db)) == ["delivered", "failed"]
    assert sender.pauses == []


def test_sms_gateway_gets_counts_and_link_once(
    app, make_user, due_person, push_service, sms_gateway, sender, db
):
    app.config.update(
        CLOVER_SMS_URL=sms_gateway.url,
        CLOVER_SMS_TOKEN="gateway-token",
        CLOVER_SMS_SENDER="三叶草",
        CLOVER_BASE_URL="https://clover.example.org",
    )
    officer = make_user("officer1", timezone="Asia/Chongqing", display_name="陈雪梅")
    officer.reminder_phone = "13800138000"
    db.add(officer)
    db.commit()
    person = due_person(officer, due_in=-2)
    sms_gateway.statuses["/sms/send"] = [502]

    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert sender(CHONGQING_EIGHT) == {}  # the ledger has it: no second text

    assert len(sms_gateway.received) == 2  # one 502, retried once
    request = sms_gateway.received[-1]
    assert request.headers["authorization"] == "Bearer gateway-token"
    assert request.body == {
        "phone": "13800138000",
        "sign_name": "三叶草",
        "template": "digest",
        "params": {"due_today": 0, "overdue": 1},
        "text": "逾期未访 1 人 https://clover.example.org/",
    }
    assert person.name not in str(request.body)
    # the log keeps a masked number, never the whole of it
    assert [(d[0], d[2]) for d in deliveries(db)] == [("sms", "retry"), ("sms", "delivered")]
    assert {d.target for d in db.exec(select(ReminderDelivery))} == {"138****8000"}
    assert push_service.received == []


def test_sms_is_off_by_default(make_user, due_person, sender, db):
    officer = make_user("officer1", timezone="Asia/Chongqing")
    officer.reminder_phone = "13800138000"
    db.add(officer)
    db.commit()
    due_person(officer)
    assert sender(CHONGQING_EIGHT) == {}  # push has no device, SMS has no gateway
    assert db.exec(select(Reminder)).all() == []
