"""Delivery: a real Web Push round trip, pruning, retries with backoff, and the SMS channel."""

from sqlmodel import select

from app.models import PushSubscription, Reminder, ReminderDelivery
from tests.reminders.conftest import CHONGQING_EIGHT


def officer_in_chongqing(make_user, username="officer1"):
    return make_user(username, display_name="陈雪梅", timezone="Asia/Chongqing")


def test_digest_round_trip_counts_and_link_no_name(make_user, due_person, subscribe, push_service, sender, db):
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
