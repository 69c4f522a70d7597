"""My sessions in Settings: every device she is signed in on, and ending any other one."""

import re

import pytest
from sqlmodel import select

from app.models import AuditEvent, UserSession
from tests.conftest import AuthActions, csrf_from

ANDROID = "Mozilla/5.0 (Linux; Android 14; M2101K9C) AppleWebKit/537.36 Chrome/126.0 Mobile"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Edg/126.0"


@pytest.fixture
def devices(app, make_user):
    """officer1 signed in on a phone and at a desk; each a client of its own."""
    make_user("officer1")
    phone, desk = app.test_client(), app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = ANDROID
    desk.environ_base["HTTP_USER_AGENT"] = WINDOWS
    for client in (phone, desk):
        assert AuthActions(client).login("officer1").status_code == 302
    return phone, desk


def fresh(db) -> None:
    db.commit()
    db.expire_all()


def session_rows(db, label: str) -> list[UserSession]:
    fresh(db)
    return db.exec(select(UserSession).where(UserSession.label == label)).all()


def my_sessions(page: str) -> str:
    match = re.search(r'<section class="card" id="my-sessions">(.*?)</section>', page, re.S)
    assert match, "no My sessions section"
    return match.group(1)


def test_settings_lists_each_device_and_marks_this_one(devices):
    phone, _desk = devices
    section = my_sessions(phone.get("/settings/").text)
    rows = re.findall(r'<li class="device-row">(.*?)</li>', section, re.S)
    assert len(rows) == 2
    labels = {re.search(r"<strong>([^<]+)</strong>", row).group(1): row for row in rows}
    assert set(labels) == {"Chrome · Android", "Edge · Windows"}
    assert "本设备" in labels["Chrome · Android"] and "本设备" not in labels["Edge · Windows"]
    # the other device can be ended from here; this one only by signing out
    assert "/end" not in labels["Chrome · Android"] and "/end" in labels["Edge · Windows"]
    assert "登录于" in labels["Edge · Windows"] and "最近使用" in labels["Edge · Windows"]


def test_ending_another_device_signs_it_out_at_its_next_request(devices, db):
    phone, desk = devices
    (desk_row,) = session_rows(db, "Edge · Windows")
    token = csrf_from(phone.get("/settings/").text)
    response = phone.post(f"/settings/sessions/{desk_row.id}/end", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings/#my-sessions"
    assert desk.get("/").headers["Location"].startswith("/auth/login")
    assert phone.get("/").status_code == 200
    (desk_row,) = session_rows(db, "Edge · Windows")
    assert desk_row.end_reason == "ended_by_user"
    section = my_sessions(phone.get("/settings/").text)
    assert "Edge · Windows" not in section
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "session_end")).all()
    assert event.user_id == desk_row.user_id
    assert event.details == {
        "session": str(desk_row.id),
        "label": "Edge · Windows",
        "reason": "ended_by_user",
    }


def test_this_device_is_ended_by_signing_out_not_from_the_list(devices, db):
    phone, _desk = devices
    (phone_row,) = session_rows(db, "Chrome · Android")
    token = csrf_from(phone.get("/settings/").text)
    response = phone.post(f"/settings/sessions/{phone_row.id}/end", data={"csrf_token": token})
    assert response.status_code == 400
    assert phone.get("/").status_code == 200
    assert session_rows(db, "Chrome · Android")[0].ended_at is None


def test_nobody_ends_someone_elses_session(devices, app, db, make_user):
    make_user("officer2")
    other = app.test_client()
    assert AuthActions(other).login("officer2").status_code == 302
    (desk_row,) = session_rows(db, "Edge · Windows")
    token = csrf_from(other.get("/settings/").text)
    response = other.post(f"/settings/sessions/{desk_row.id}/end", data={"csrf_token": token})
    assert response.status_code == 404
    assert devices[1].get("/").status_code == 200
    assert session_rows(db, "Edge · Windows")[0].ended_at is None
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "session_end")).all() == []


def test_ending_a_session_needs_the_csrf_token(devices, db):
    phone, desk = devices
    (desk_row,) = session_rows(db, "Edge · Windows")
    assert phone.post(f"/settings/sessions/{desk_row.id}/end").status_code == 400
    assert desk.get("/").status_code == 200


def test_a_signed_out_visitor_is_sent_to_sign_in(client, devices, db):
    (desk_row,) = session_rows(db, "Edge · Windows")
    response = client.post(f"/settings/sessions/{desk_row.id}/end")
    # no session, no CSRF token: refused before anything is read
    assert response.status_code == 400
    assert devices[1].get("/").status_code == 200
