"""The sync push API: idempotent, per item, through the online write paths."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlmodel import select

from app.models import (
    Assignment,
    AuditEvent,
    Person,
    SyncConflict,
    SyncReceipt,
    Visit,
    VisitVersion,
)
from app.sync import push
from tests.conftest import PASSWORD, age_sessions, csrf_from
from tests.factories import make_person
from tests.sync_world import contact_item, count, create_item, edit_item, fresh, page_token


def test_a_new_visit_is_created_once_and_a_resend_is_a_duplicate(
    db, sync_phone, sync_person, sync_officer
):
    item = create_item(sync_person)
    first = sync_phone.push([item])
    assert first.status_code == 200
    [answer] = first.json["results"]
    assert answer == {
        "id": item["id"],
        "status": "created",
        "record_id": item["id"],
        "version": 1,
        "errors": {},
        "server": None,
        "conflict_id": None,
        "reference": None,
    }
    assert first.json["server_time"]
    assert sync_phone.statuses([item]) == ["duplicate"]
    visit = fresh(db, Visit, uuid.UUID(item["id"]))
    assert visit.author_id == sync_officer.id and visit.notes == item["data"]["notes"]
    assert count(db, Visit) == 1
    assert count(db, AuditEvent, AuditEvent.action == "visit_create") == 1


def test_the_same_batch_posted_50_times_yields_one_row_per_uuid(
    db, sync_phone, sync_person, count_queries
):
    batch = [create_item(sync_person, notes=f"第{n}次") for n in range(3)]
    answers = [sync_phone.statuses(batch) for _ in range(50)]
    assert answers[0] == ["created"] * 3
    assert all(statuses == ["duplicate"] * 3 for statuses in answers[1:])
    assert count(db, Visit) == 3
    with count_queries() as statements:
        assert sync_phone.statuses(batch) == ["duplicate"] * 3
    # a resent batch loads the user and her session, then its visits and people at once
    # (on PostgreSQL after queueing for the audit chain's lock)
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(statements) == 2 + 2 + (db.bind.dialect.name == "postgresql")


def _signed_in_session(base_url: str, username: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    login = browser.get(f"{base_url}/auth/login", timeout=10).text
    browser.post(
        f"{base_url}/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(login)},
        timeout=10,
    )
    return browser, page_token(browser.get(f"{base_url}/", timeout=10).text)


def test_the_same_batch_in_concurrent_requests_yields_one_row_per_uuid(
    db, live_server, sync_person, sync_officer
):
    created = create_item(sync_person)
    browser, token = _signed_in_session(live_server, "officer1")
    url, headers = f"{live_server}/api/v1/sync/push", {"X-CSRFToken": token}
    browser.post(url, json={"items": [created]}, headers=headers, timeout=10)
    batch = [
        *(create_item(sync_person, notes=f"并发{n}") for n in range(3)),
        edit_item(created, 1, notes="两台手机同时重发的更正"),
        contact_item(sync_person, sync_person.version, phone="13900139000"),
    ]
    version = sync_person.version
    start, answers = threading.Barrier(4, timeout=30), []

    def send():
        start.wait()
        response = browser.post(url, json={"items": batch}, headers=headers, timeout=30)
        answers.append((response.status_code, [r["status"] for r in response.json()["results"]]))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [code for code, _ in answers] == [200] * 4
    for _code, statuses in answers:
        assert set(statuses[:3]) <= {"created", "duplicate"}
        # a resent edit answers as the edit did: its receipt commits with it
        assert statuses[3:] == ["edited", "edited"]
    assert sorted(s for _, statuses in answers for s in statuses[:3]).count("created") == 3
    assert count(db, Visit) == 4
    assert count(db, VisitVersion) == 1
    assert count(db, SyncReceipt) == 2 and count(db, SyncConflict) == 0
    db.expire_all()
    assert fresh(db, Person, sync_person.id).version == version + 1


def test_an_invalid_item_does_not_hold_back_the_valid_ones(db, sync_phone, sync_person):
    good, bad, also_good = (
        create_item(sync_person),
        create_item(sync_person, mood="9"),
        create_item(sync_person),
    )
    response = sync_phone.push([good, bad, {"type": "visit.create"}, also_good])
    results = response.json["results"]
    assert [r["status"] for r in results] == ["created", "invalid", "invalid", "created"]
    assert results[1]["errors"] == {"mood": ["情绪是 1 到 5 之间的数字。"]}
    assert set(results[2]["errors"]) == {"id", "record_id", "data"}
    assert count(db, Visit) == 2 and fresh(db, Visit, uuid.UUID(bad["id"])) is None


def test_an_edit_on_an_old_version_is_a_conflict_kept_whole(db, sync_phone, sync_person):
    created = create_item(sync_person)
    mine, theirs = edit_item(created, 1, notes="手机一"), edit_item(created, 1, notes="手机二")
    assert sync_phone.statuses([created, mine]) == ["created", "edited"]
    [answer] = sync_phone.push([theirs]).json["results"]
    assert answer["status"] == "conflict" and answer["version"] == 2
    assert answer["server"]["notes"] == "手机一" and answer["server"]["version"] == 2
    conflict = fresh(db, SyncConflict, uuid.UUID(answer["conflict_id"]))
    assert conflict.incoming["notes"] == "手机二" and conflict.server_version == 2
    assert fresh(db, Visit, uuid.UUID(created["id"])).notes == "手机一"
    # resent forever, kept once
    again = sync_phone.push([theirs]).json["results"][0]
    assert (again["status"], again["conflict_id"]) == ("conflict", answer["conflict_id"])
    assert count(db, SyncConflict) == 1 and count(db, VisitVersion) == 1


def test_the_same_uuid_with_other_content_is_a_conflict_not_an_overwrite(
    db, sync_phone, sync_person
):
    created = create_item(sync_person)
    sync_phone.statuses([created])
    other = {**created, "data": {**created["data"], "notes": "另一台手机的内容"}}
    answer = sync_phone.push([other]).json["results"][0]
    assert answer["status"] == "conflict" and answer["conflict_id"]
    assert fresh(db, Visit, uuid.UUID(created["id"])).notes == created["data"]["notes"]
    assert sync_phone.push([other]).json["results"][0]["conflict_id"] == answer["conflict_id"]
    assert count(db, SyncConflict) == 1


def test_a_resent_edit_gets_its_first_answer_after_later_changes(db, sync_phone, sync_person):
    created = create_item(sync_person)
    first, second = edit_item(created, 1, notes="第一次更正"), edit_item(created, 2, notes="第二次")
    assert sync_phone.statuses([created, first, second]) == ["created", "edited", "edited"]
    answer = sync_phone.push([first]).json["results"][0]
    assert (answer["status"], answer["version"]) == ("edited", 2)
    assert fresh(db, Visit, uuid.UUID(created["id"])).version == 3
    assert count(db, SyncConflict) == 0


def test_a_visit_made_while_assigned_is_accepted_after_a_reassignment(
    db, sync_phone, sync_person, sync_officer, make_user
):
    other = make_user("officer2")
    handover = datetime(2026, 6, 16, 0, 0, tzinfo=UTC)
    current = db.exec(Assignment.__table__.select()).first()
    db.get(Assignment, current.id).ended_at = handover
    db.add(
        Assignment(person_id=sync_person.id, user_id=other.id, role="officer", started_at=handover)
    )
    db.get(Person, sync_person.id).assigned_officer_id = other.id
    db.commit()
    before = create_item(sync_person, occurred_at="2026-06-15T10:30")
    after = create_item(sync_person, occurred_at="2026-06-17T10:30")
    response = sync_phone.push([before, after]).json["results"]
    assert [r["status"] for r in response] == ["created", "refused"]
    assert response[1]["errors"] == {"_form": ["您不能为她记录这次回访。"]}
    assert count(db, Visit) == 1


def test_someone_else_s_person_is_refused(db, sync_phone, unit, make_user):
    stranger = make_person(db, unit, make_user("officer2"), name="王某")
    answers = sync_phone.push(
        [create_item(stranger), contact_item(stranger, 1, phone="13900139000")]
    )
    assert [r["status"] for r in answers.json["results"]] == ["refused", "refused"]
    assert count(db, Visit) == 0 and fresh(db, Person, stranger.id).phone == "13800138000"


def test_her_phone_is_corrected_once_and_a_stale_correction_is_kept(db, sync_phone, sync_person):
    fix = contact_item(sync_person, 1, phone="139 0013 9000", address="重庆市渝中区解放碑街道 1 号")
    assert sync_phone.statuses([fix, fix]) == ["edited", "edited"]
    db.expire_all()
    saved = fresh(db, Person, sync_person.id)
    assert (saved.phone, saved.version) == ("13900139000", 2)
    assert saved.address == "重庆市渝中区解放碑街道 1 号"
    stale = contact_item(sync_person, 1, phone="13700137000")
    answer = sync_phone.push([stale]).json["results"][0]
    assert answer["status"] == "conflict"
    assert answer["server"] == {"phone": "13900139000", "address": saved.address, "version": 2}
    same = contact_item(sync_person, 1, phone="13900139000")
    bad = contact_item(sync_person, 2, phone="12345")
    results = sync_phone.push([same, bad]).json["results"]
    assert [r["status"] for r in results] == ["duplicate", "invalid"]
    assert results[1]["errors"] == {"phone": ["请填写以 1 开头的 11 位手机号。"]}
    db.expire_all()
    assert fresh(db, Person, sync_person.id).phone == "13900139000"
    assert count(db, AuditEvent, AuditEvent.action == "person_contact") == 1


def test_an_item_id_used_with_other_content_is_refused(db, sync_phone, sync_person):
    fix = contact_item(sync_person, 1, phone="13900139000")
    sync_phone.statuses([fix])
    reused = {**fix, "data": {"phone": "13700137000"}}
    answer = sync_phone.push([reused]).json["results"][0]
    assert answer["status"] == "refused" and answer["errors"]["_form"]
    assert fresh(db, Person, sync_person.id).phone == "13900139000"


def test_an_idle_session_gets_401_json_and_a_new_sign_in_syncs(
    app, client, db, sync_phone, sync_person
):
    old_token, queued = sync_phone.token, create_item(sync_person)
    age_sessions(db, idle=app.config["CLOVER_IDLE_FIELD"] + timedelta(minutes=1))
    response = sync_phone.push([queued])
    assert response.status_code == 401
    assert response.json["error"] == "unauthenticated"
    assert "Location" not in response.headers
    assert count(db, Visit) == 0
    # signed out: a token from before is refused, asking her to sign in again
    assert sync_phone.push([queued], token=old_token).status_code == 401
    sync_phone.sign_in("officer1")
    assert sync_phone.token != old_token
    assert sync_phone.push([queued], token=old_token).json["error"] == "csrf"
    assert sync_phone.statuses([queued]) == ["created"]
    assert count(db, Visit) == 1


@pytest.mark.parametrize(
    ("headers", "body", "status", "error"),
    [
        ({}, {"items": []}, 400, "csrf"),
        ({"X-CSRFToken": "stale"}, {"items": []}, 400, "csrf"),
        ("page", {"items": "x"}, 400, "bad_request"),
        ("page", {"items": [{}] * 101}, 413, "too_large"),
    ],
)
def test_a_request_that_cannot_be_taken_says_why_in_json(sync_phone, headers, body, status, error):
    headers = {"X-CSRFToken": sync_phone.token} if headers == "page" else headers
    response = sync_phone.client.post("/api/v1/sync/push", json=body, headers=headers)
    assert response.status_code == status
    assert response.json["error"] == error


def test_without_a_session_the_api_answers_401_not_a_redirect(client):
    for method, url in [
        ("post", "/api/v1/sync/push"),
        ("get", "/api/v1/sync/pull"),
        ("post", "/api/v1/push/subscriptions"),
    ]:
        response = getattr(client, method)(url, json={})
        assert response.status_code == 401, url
        assert response.json["error"] == "unauthenticated"


def test_a_correction_is_not_a_conflict_when_only_her_status_moved_on(db, sync_phone, sync_person):
    db.get(Person, sync_person.id).status = "lost_contact"
    db.commit()
    # found again: the visit ends 'lost contact' (a new version), her new number goes with it
    visit, fix = create_item(sync_person), contact_item(sync_person, 1, phone="13900139000")
    assert sync_phone.statuses([visit, fix]) == ["created", "edited"]
    person = fresh(db, Person, sync_person.id)
    assert (person.status, person.phone, person.version) == ("active", "13900139000", 3)
    assert count(db, SyncConflict) == 0


def test_an_item_the_server_fails_on_answers_error_and_the_rest_are_saved(
    db, sync_phone, sync_person, monkeypatch, caplog
):
    batch = [create_item(sync_person, notes=f"第{n}条") for n in range(3)]
    apply_create = push.APPLY["visit.create"]

    def fail_on_the_middle_one(session, user, item, now):
        result = apply_create(session, user, item, now)
        if str(item.id) == batch[1]["id"]:
            raise RuntimeError("the database went away mid-item")
        return result

    monkeypatch.setitem(push.APPLY, "visit.create", fail_on_the_middle_one)
    answer = sync_phone.push(batch)
    assert answer.status_code == 200
    first, middle, last = answer.json["results"]
    assert (first["status"], last["status"]) == ("created", "created")
    assert middle["status"] == "error" and len(middle["reference"]) == 12
    assert middle["reference"] in middle["errors"]["_form"][0]
    assert "服务器未能保存这项更改" in middle["errors"]["_form"][0]
    assert middle["reference"] in caplog.text
    # the failed item's visit was rolled back with it; a resend saves it once
    assert {str(v.id) for v in db.exec(select(Visit)).all()} == {batch[0]["id"], batch[2]["id"]}
    monkeypatch.setitem(push.APPLY, "visit.create", apply_create)
    assert sync_phone.statuses(batch) == ["duplicate", "created", "duplicate"]
    assert count(db, Visit) == 3


def test_a_body_nested_a_thousand_levels_deep_is_a_bad_request(sync_phone):
    body = '{"items": ' + "[" * 1000 + "]" * 1000 + "}"
    response = sync_phone.client.post(
        "/api/v1/sync/push",
        data=body,
        headers={"Content-Type": "application/json", "X-CSRFToken": sync_phone.token},
    )
    assert response.status_code == 400 and response.json["error"] == "bad_request"
