"""Reminders in Settings and the push subscription API, through HTTP as a phone uses them."""

import pytest
from sqlmodel import select

from app.models import AuditEvent, PushSubscription, User
from app.schedule import local_date
from app.types import utcnow
from tests.conftest import csrf_from

ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; V2203A) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
)


def post_subscription(client, data, token=None):
    token = token or csrf_from(client.get("/settings/").text)
    return client.post(
        "/api/v1/push/subscriptions",
        json=data,
        headers={"X-CSRFToken": token, "User-Agent": ANDROID},
    )


def test_settings_show_the_key_and_no_device_yet(push_app, client, auth, make_user, vapid_keys):
    make_user("officer1")
    auth.login("officer1")
    page = client.get("/settings/").text
    assert f'data-public-key="{vapid_keys[1]}"' in page
    assert "在这部手机上提醒我" in page
    assert "还没有设备接收提醒。" in page
    assert 'value="08:00"' in page and 'value="18:00"' in page
    assert "接收短信提醒的手机号码" not in page  # SMS is off


def test_subscribe_lists_the_device_and_saving_again_keeps_one(
    push_app, client, auth, make_user, push_service, db
):
    officer = make_user("officer1")
    auth.login("officer1")
    browser = push_service.subscribe()

    assert client.post("/api/v1/push/subscriptions", json=browser.as_json()).status_code == 400
    response = post_subscription(client, browser.as_json())
    assert response.status_code == 201
    assert response.json["label"] == "Android · Chrome"
    assert post_subscription(client, browser.as_json()).status_code == 201

    [saved] = db.exec(select(PushSubscription)).all()
    assert (saved.user_id, saved.endpoint) == (officer.id, browser.endpoint)
    page = client.get("/settings/").text
    assert "Android · Chrome" in page and "尚未送达过提醒" in page
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "push_subscribe")).first()


UNUSABLE = "此浏览器发来的推送订阅无法使用。"
# what a broken or hostile client may send instead of PushSubscription.toJSON()
NOT_A_SUBSCRIPTION = [
    ("ftp endpoint", lambda good: {**good, "endpoint": "ftp://push.example.com/x"}),
    # not https, and not this machine
    ("plain http", lambda good: {**good, "endpoint": "http://push.example.com/x"}),
    ("short key", lambda good: {**good, "keys": {"p256dh": "short", "auth": good["keys"]["auth"]}}),
    ("no keys", lambda good: {"endpoint": good["endpoint"]}),
    ("a JSON array", lambda good: [good]),
    ("a JSON string", lambda good: "subscribe me"),
    ("endpoint as a number", lambda good: {**good, "endpoint": 7}),
    ("endpoint as an object", lambda good: {**good, "endpoint": {"url": good["endpoint"]}}),
    ("keys as a list", lambda good: {**good, "keys": [good["keys"]["p256dh"]]}),
    ("auth missing", lambda good: {**good, "keys": {"p256dh": good["keys"]["p256dh"]}}),
    (
        "NUL in the auth key",
        lambda good: {**good, "keys": {**good["keys"], "auth": good["keys"]["auth"] + "\x00"}},
    ),
    (
        "lone surrogate in the endpoint",
        lambda good: {**good, "endpoint": good["endpoint"] + "\ud800"},
    ),
    ("endpoint past its column", lambda good: {**good, "endpoint": good["endpoint"] + "x" * 1000}),
]


@pytest.mark.parametrize(
    "make_bad", [c[1] for c in NOT_A_SUBSCRIPTION], ids=[c[0] for c in NOT_A_SUBSCRIPTION]
)
def test_an_unusable_subscription_is_refused_with_a_translated_error(
    push_app, client, auth, make_user, push_service, db, make_bad
):
    make_user("officer1")
    auth.login("officer1")
    response = post_subscription(client, make_bad(push_service.subscribe().as_json()))
    assert response.status_code == 400
    # the Error shape of the OpenAPI document (tests/test_openapi.py checks it against it)
    assert response.json["error"] == "bad_request"
    assert response.json["message"] == UNUSABLE
    assert db.exec(select(PushSubscription)).all() == []


def test_a_body_that_is_not_json_is_refused_as_a_bad_request(push_app, client, auth, make_user, db):
    make_user("officer1")
    auth.login("officer1")
    token = csrf_from(client.get("/settings/").text)
    for body in ("not json", "[" * 100_000):
        response = client.post(
            "/api/v1/push/subscriptions",
            data=body,
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 400
        assert response.json == {"error": "bad_request", "message": UNUSABLE, "field": "_form"}
    assert db.exec(select(PushSubscription)).all() == []


def test_test_reminder_arrives_and_the_device_shows_the_delivery(
    push_app, client, auth, make_user, push_service
):
    make_user("officer1")
    auth.login("officer1")
    browser = push_service.subscribe()
    post_subscription(client, browser.as_json())

    response = client.post(
        "/settings/reminders/test", data={"csrf_token": csrf_from(client.get("/settings/").text)}
    )
    assert response.status_code == 302
    page = client.get("/settings/").text
    assert "测试提醒已发出，稍后就会收到。" in page
    assert "最近一次送达" in page
    assert push_service.payloads(browser) == [
        {"title": "三叶草", "body": "测试提醒：您在这里能收到提醒。", "url": "/", "tag": "test"}
    ]


def test_test_reminder_with_nowhere_to_go_says_so(push_app, client, auth, make_user):
    make_user("officer1")
    auth.login("officer1")
    client.post(
        "/settings/reminders/test", data={"csrf_token": csrf_from(client.get("/settings/").text)}
    )
    assert "还没有可发送的地方" in client.get("/settings/").text


def test_she_removes_her_device_but_not_someone_elses(
    push_app, client, auth, make_user, push_service, subscribe, db
):
    other = make_user("officer2")
    theirs = subscribe(other)
    make_user("officer1")
    auth.login("officer1")
    post_subscription(client, push_service.subscribe().as_json())
    mine = db.exec(select(PushSubscription).where(PushSubscription.user_id != other.id)).one()
    other_id = db.exec(
        select(PushSubscription.id).where(PushSubscription.user_id == other.id)
    ).one()

    token = csrf_from(client.get("/settings/").text)
    assert (
        client.post(
            f"/settings/reminders/devices/{other_id}/remove", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/settings/reminders/devices/{mine.id}/remove", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert "已移除设备" in client.get("/settings/").text
    db.rollback()  # a fresh snapshot: the app removed it in its own transaction
    assert db.exec(select(PushSubscription.endpoint)).all() == [theirs.endpoint]


def test_turning_off_on_this_phone_by_endpoint(push_app, client, auth, make_user, push_service, db):
    make_user("officer1")
    auth.login("officer1")
    browser = push_service.subscribe()
    post_subscription(client, browser.as_json())
    token = csrf_from(client.get("/settings/").text)
    gone = client.delete(
        "/api/v1/push/subscriptions",
        json={"endpoint": browser.endpoint},
        headers={"X-CSRFToken": token},
    )
    assert gone.status_code == 204
    again = client.delete(
        "/api/v1/push/subscriptions",
        json={"endpoint": browser.endpoint},
        headers={"X-CSRFToken": token},
    )
    assert again.status_code == 404
    assert db.exec(select(PushSubscription)).all() == []


def test_reminder_times_and_quiet_hours_are_saved(push_app, client, auth, make_user, db):
    officer = make_user("officer1")
    auth.login("officer1")
    response = auth.post_form(
        "/settings/reminders",
        {"reminder_time": "07:30", "evening_time": "19:00", "quiet_start": "", "quiet_end": ""},
        page="/settings/",
    )
    assert response.status_code == 302
    assert "提醒设置已保存。" in client.get("/settings/").text
    db.expire_all()
    saved = db.get(User, officer.id)
    assert (saved.reminder_time, saved.evening_time, saved.quiet_start, saved.quiet_end) == (
        "07:30",
        "19:00",
        None,
        None,
    )


def test_bad_reminder_settings_change_nothing(push_app, client, auth, make_user, db):
    officer = make_user("officer1")
    auth.login("officer1")
    bad_time = auth.post_form(
        "/settings/reminders",
        {
            "reminder_time": "8 o'clock",
            "evening_time": "18:00",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
        page="/settings/",
    )
    assert bad_time.status_code == 200 and "请按 08:00 的格式填写时间。" in bad_time.text
    one_end = auth.post_form(
        "/settings/reminders",
        {
            "reminder_time": "09:00",
            "evening_time": "18:00",
            "quiet_start": "22:00",
            "quiet_end": "",
        },
        page="/settings/",
    )
    assert "免打扰时段请同时填写开始和结束时间，或都留空。" in one_end.text
    db.expire_all()
    saved = db.get(User, officer.id)
    assert (saved.reminder_time, saved.quiet_start, saved.quiet_end) == ("08:00", "22:00", "07:00")


def test_sms_number_offered_and_checked_only_where_sms_is_on(push_app, client, auth, make_user, db):
    push_app.config["CLOVER_SMS_URL"] = "http://127.0.0.1:9/sms"
    officer = make_user("officer1")
    auth.login("officer1")
    assert "接收短信提醒的手机号码" in client.get("/settings/").text
    fields = {
        "reminder_time": "08:00",
        "evening_time": "18:00",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
    }
    wrong = auth.post_form(
        "/settings/reminders", {**fields, "reminder_phone": "12345"}, page="/settings/"
    )
    assert "请填写 11 位手机号码。" in wrong.text
    auth.post_form(
        "/settings/reminders", {**fields, "reminder_phone": "+86 138-0013-8000"}, page="/settings/"
    )
    db.expire_all()
    assert db.get(User, officer.id).reminder_phone == "13800138000"
    # with SMS off again, saving the times keeps the number
    push_app.config["CLOVER_SMS_URL"] = None
    auth.post_form("/settings/reminders", fields, page="/settings/")
    db.expire_all()
    assert db.get(User, officer.id).reminder_phone == "13800138000"


def test_today_shows_what_is_due_for_the_badge(client, auth, make_user, due_person):
    officer = make_user("officer1")
    due_person(officer, today=local_date(utcnow(), officer.timezone))
    auth.login("officer1")
    page = client.get("/").text
    assert 'data-due-count="1"' in page
    assert "逾期 0 人" in page
