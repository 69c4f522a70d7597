"""The server's half of a phone's offline store key: who gets it, and when it is destroyed."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.admin.users import deactivate, end_user_session
from app.models import AuditEvent, DeviceKey, Unit, UserSession
from app.sessions import end_session
from tests.conftest import AuthActions, age_sessions, csrf_from

PHONE = "5b0c7d9e-2f41-4c8a-9d1e-3a6b8c0f4e21"
OTHER_PHONE = "0f5e1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"


def token_of(client) -> str:
    return csrf_from(client.get("/settings/").text)


def ask_key(client, device_id=PHONE, token=None):
    headers = {"X-CSRFToken": token or token_of(client)}
    return client.post("/api/v1/device-key", json={"device_id": device_id}, headers=headers)


def keys_of(db, user) -> list[DeviceKey]:
    db.commit()
    db.expire_all()
    return db.exec(select(DeviceKey).where(DeviceKey.user_id == user.id)).all()


def session_of(db, user) -> UserSession:
    db.expire_all()
    return db.exec(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).one()


@pytest.fixture
def officer(make_user, db, unit):
    unit.lock_after_minutes = 3
    db.add(unit)
    db.commit()
    return make_user("officer1")


@pytest.fixture
def phone(app, officer):
    client = app.test_client()
    assert AuthActions(client).login("officer1").status_code == 302
    return client


def test_a_full_sign_in_gets_a_key_bound_to_its_session_and_the_same_key_again(
    phone, db, officer, app
):
    answer = ask_key(phone)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["device_id"] == PHONE and body["lock_after_minutes"] == 3
    key = body["key"]
    # 32 random bytes, base64url without padding
    assert len(key) == 43
    # the same device asks again (another page, the GET): the same key
    assert ask_key(phone).get_json()["key"] == key
    shown = phone.get("/api/v1/device-key", query_string={"device_id": PHONE})
    assert shown.status_code == 200 and shown.get_json()["key"] == key
    (row,) = keys_of(db, officer)
    assert row.device_id == uuid.UUID(PHONE) and row.destroyed_at is None
    assert row.session_id == session_of(db, officer).id
    # kept encrypted at rest, never as sent
    assert key not in row.key_encrypted
    assert app.extensions["clover_cipher"].decrypt(row.key_encrypted) == key
    # another device of hers: another key
    other = ask_key(phone, OTHER_PHONE).get_json()["key"]
    assert other != key and len(keys_of(db, officer)) == 2
    issued = db.exec(select(AuditEvent).where(AuditEvent.action == "device_key_issued")).all()
    assert len(issued) == 2


def test_no_key_without_a_session_a_token_a_device_id_or_a_fresh_sign_in(app, phone, db, officer):
    stranger = app.test_client()
    assert stranger.post("/api/v1/device-key", json={"device_id": PHONE}).status_code == 401
    assert stranger.get("/api/v1/device-key", query_string={"device_id": PHONE}).status_code == 401
    # no CSRF token: refused
    assert phone.post("/api/v1/device-key", json={"device_id": PHONE}).status_code == 400
    assert ask_key(phone, device_id="not-a-uuid").status_code == 400
    # the GET gives only a key this session was handed
    assert phone.get("/api/v1/device-key", query_string={"device_id": PHONE}).status_code == 404
    token = token_of(phone)
    # a session whose sign-in was long ago (still live): no key, so a phone left signed in
    # and locked cannot be opened with the server's help
    age_sessions(db, since_sign_in=timedelta(minutes=11))
    assert ask_key(phone, token=token).status_code == 403
    assert keys_of(db, officer) == []


def test_a_new_sign_in_on_the_same_phone_gets_the_same_key_bound_to_the_new_session(
    app, phone, db, officer
):
    key = ask_key(phone).get_json()["key"]
    first = session_of(db, officer)
    # she signs out (her outbox may still hold items): the key stays
    AuthActions(phone).logout()
    (row,) = keys_of(db, officer)
    assert row.destroyed_at is None and row.key_encrypted is not None
    assert AuthActions(phone).login("officer1").status_code == 302
    assert ask_key(phone).get_json()["key"] == key
    (row,) = keys_of(db, officer)
    assert row.session_id != first.id and row.session_id == session_of(db, officer).id


def test_a_lapsed_session_keeps_the_key_for_a_sign_in_to_recover_with(db, phone, officer):
    key = ask_key(phone).get_json()["key"]
    row = session_of(db, officer)
    end_session(db, row, reason="expired", now=datetime.now(UTC))
    db.commit()
    (device,) = keys_of(db, officer)
    assert device.destroyed_at is None
    assert AuthActions(phone).login("officer1").status_code == 302
    assert ask_key(phone).get_json()["key"] == key


def test_deactivation_destroys_every_key_of_hers_and_the_phone_is_told(
    app, db, phone, officer, make_user
):
    ask_key(phone)
    # a second phone whose session lapsed long ago: its key goes too
    ask_key(phone, OTHER_PHONE)
    admin = make_user("admin1", role="admin")
    state = phone.get(f"/offline/device-keys/{PHONE}/{officer.id}")
    assert state.get_json() == {"live": True}
    db.expire_all()
    deactivate(db, actor=admin, user=officer, now=datetime.now(UTC))
    db.commit()
    rows = keys_of(db, officer)
    assert len(rows) == 2
    assert all(row.key_encrypted is None and row.destroyed_at is not None for row in rows)
    # the phone asks without a cookie: destroyed, so it wipes what it keeps of hers
    anonymous = app.test_client()
    assert anonymous.get(f"/offline/device-keys/{PHONE}/{officer.id}").get_json() == {"live": False}
    # her session is gone: no new key either
    assert ask_key(phone, token="x").status_code in (400, 401)


def test_ending_a_device_from_elsewhere_destroys_only_that_devices_key(app, db, officer, make_user):
    phones = [app.test_client(), app.test_client()]
    keys = []
    for client, device in zip(phones, (PHONE, OTHER_PHONE), strict=True):
        assert AuthActions(client).login("officer1").status_code == 302
        keys.append(ask_key(client, device).get_json()["key"])
    db.expire_all()
    first, second = (
        db.exec(select(DeviceKey).where(DeviceKey.device_id == uuid.UUID(d))).one().session_id
        for d in (PHONE, OTHER_PHONE)
    )
    admin = make_user("admin1", role="admin")
    end_user_session(db, actor=admin, user=officer, session_id=first, now=datetime.now(UTC))
    db.commit()
    by_device = {str(row.device_id): row for row in keys_of(db, officer)}
    assert by_device[PHONE].key_encrypted is None and by_device[PHONE].destroyed_at is not None
    assert by_device[OTHER_PHONE].key_encrypted is not None
    assert by_device[OTHER_PHONE].session_id == second
    # the ended phone signs in again: a new key, which opens nothing it kept before
    assert AuthActions(phones[0]).login("officer1").status_code == 302
    renewed = ask_key(phones[0]).get_json()["key"]
    assert renewed not in keys


def test_changing_her_password_destroys_the_keys_of_her_other_devices(app, db, officer):
    phones = [app.test_client(), app.test_client()]
    for client, device in zip(phones, (PHONE, OTHER_PHONE), strict=True):
        assert AuthActions(client).login("officer1").status_code == 302
        ask_key(client, device)
    from app.sessions import end_sessions

    db.expire_all()
    keep = (
        db.exec(select(DeviceKey).where(DeviceKey.device_id == uuid.UUID(OTHER_PHONE)))
        .one()
        .session_id
    )
    end_sessions(db, officer, reason="password_change", now=datetime.now(UTC), keep=keep)
    db.commit()
    by_device = {str(row.device_id): row for row in keys_of(db, officer)}
    assert by_device[PHONE].destroyed_at is not None
    assert by_device[OTHER_PHONE].destroyed_at is None


def test_the_lock_minutes_come_from_her_unit_with_five_as_default(db, phone, officer):
    unit = db.get(Unit, officer.unit_id)
    unit.lock_after_minutes = 10
    db.add(unit)
    db.commit()
    assert ask_key(phone).get_json()["lock_after_minutes"] == 10


def test_the_lock_page_is_a_shell_in_both_languages(client):
    page = client.get("/offline/lock")
    assert page.status_code == 200
    text = page.text
    assert "三叶草已锁定" in text and "Clover is locked" in text
    assert 'inputmode="numeric"' in text
    # no user, no token: the same for everyone
    assert "data-user-id" not in text and "X-CSRFToken" not in text
    sw = client.get("/sw.js").text
    assert '"/offline/lock"' in sw and "/static/js/idb-8.0.4.min.js" in sw
