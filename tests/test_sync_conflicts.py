"""Conflicts resolved by people, and the contact correction form."""

import re
import uuid

from app.models import AuditEvent, Person, SyncConflict, Visit, VisitVersion
from tests.conftest import csrf_from
from tests.factories import make_person
from tests.sync_world import Phone, contact_item, count, create_item, edit_item, fresh


def _two_phones_edit_one_visit(sync_phone, person):
    """Each phone corrects the same visit offline; the second to sync meets a conflict."""
    created = create_item(person, mood="3")
    first = edit_item(created, 1, notes="手机一：她找到了工作。", mood="4")
    second = edit_item(created, 1, notes="手机二：她母亲住院了。", mood="2")
    assert sync_phone.statuses([created, first]) == ["created", "edited"]
    answer = sync_phone.push([second]).json["results"][0]
    assert answer["status"] == "conflict"
    return uuid.UUID(created["id"]), answer["conflict_id"]


def _resolve(client, conflict_id, **fields):
    page = client.get(f"/sync/conflicts/{conflict_id}").text
    version = re.search(r'name="base_version" value="(\d+)"', page).group(1)
    data = {"csrf_token": csrf_from(page), "base_version": version, **fields}
    return client.post(f"/sync/conflicts/{conflict_id}", data=data)


def test_a_conflict_is_shown_side_by_side_and_resolved_by_merging(
    db, client, sync_phone, sync_person
):
    visit_id, conflict_id = _two_phones_edit_one_visit(sync_phone, sync_person)
    listing = client.get("/sync/conflicts").text
    assert f"/sync/conflicts/{conflict_id}" in listing and "张晓梅" in listing
    page = client.get(f"/sync/conflicts/{conflict_id}")
    assert page.status_code == 200
    # only the fields that differ, hers beside the current value
    assert 'id="field-notes"' in page.text and 'id="field-mood"' in page.text
    assert 'id="field-kind"' not in page.text
    assert "手机一：她找到了工作。" in page.text and "手机二：她母亲住院了。" in page.text
    merged = "手机一：她找到了工作。\n手机二：她母亲住院了。"
    response = _resolve(
        client, conflict_id, pick_notes="merged", merged_notes=merged, pick_mood="current"
    )
    assert response.status_code == 302
    visit = fresh(db, Visit, visit_id)
    assert (visit.version, visit.notes, visit.mood) == (3, merged, 4)
    # both originals stay: the server's in the history, hers in the conflict
    assert count(db, VisitVersion, VisitVersion.visit_id == visit_id) == 2
    conflict = fresh(db, SyncConflict, uuid.UUID(conflict_id))
    assert conflict.resolved_version == 3 and conflict.incoming["notes"] == "手机二：她母亲住院了。"
    assert client.get("/sync/conflicts").text.count("/sync/conflicts/") == 0
    history = client.get(f"/visits/{visit_id}/versions").text
    assert f"/sync/conflicts/{conflict_id}" in history
    # resolving again changes nothing
    page = client.get(f"/sync/conflicts/{conflict_id}").text
    assert 'type="radio"' not in page
    again = client.post(
        f"/sync/conflicts/{conflict_id}",
        data={"csrf_token": csrf_from(page), "base_version": "3", "pick_notes": "current"},
    )
    assert again.status_code == 302 and fresh(db, Visit, visit_id).version == 3
    assert count(db, AuditEvent, AuditEvent.action == "sync_conflict_resolve") == 1


def test_a_resolution_on_a_version_that_moved_on_is_refused_and_shown_again(
    db, client, sync_phone, sync_person
):
    visit_id, conflict_id = _two_phones_edit_one_visit(sync_phone, sync_person)
    page = client.get(f"/sync/conflicts/{conflict_id}").text
    data = {**create_item(sync_person)["data"], "id": str(visit_id)}
    later = edit_item({"id": str(visit_id), "data": data}, 2, notes="又改了")
    assert sync_phone.statuses([later]) == ["edited"]
    response = client.post(
        f"/sync/conflicts/{conflict_id}",
        data={"csrf_token": csrf_from(page), "base_version": "2", "pick_notes": "mine"},
    )
    assert response.status_code == 409
    assert "又被修改" in response.text
    assert fresh(db, Visit, visit_id).notes == "又改了"
    assert fresh(db, SyncConflict, uuid.UUID(conflict_id)).resolved_at is None


def test_someone_else_s_conflict_is_not_found(client, auth, sync_phone, sync_person, make_user):
    _visit_id, conflict_id = _two_phones_edit_one_visit(sync_phone, sync_person)
    make_user("officer2")
    auth.logout()
    Phone(client, auth).sign_in("officer2")
    assert client.get(f"/sync/conflicts/{conflict_id}").status_code == 404
    assert f"/sync/conflicts/{conflict_id}" not in client.get("/sync/conflicts").text


def test_a_contact_conflict_is_resolved_with_her_phone(db, client, sync_phone, sync_person):
    moved = contact_item(sync_person, 1, phone="13600136000", address="新地址 1 号")
    assert sync_phone.statuses([moved]) == ["edited"]
    stale = contact_item(sync_person, 1, phone="13900139000")
    conflict_id = sync_phone.push([stale]).json["results"][0]["conflict_id"]
    page = client.get(f"/sync/conflicts/{conflict_id}").text
    assert "13900139000" in page and "13600136000" in page
    assert _resolve(client, conflict_id, pick_phone="mine").status_code == 302
    person = fresh(db, Person, sync_person.id)
    assert (person.phone, person.address, person.version) == ("13900139000", "新地址 1 号", 3)


def test_the_contact_form_saves_once_and_keeps_a_stale_change(
    db, client, auth, sync_phone, sync_person
):
    url = f"/people/{sync_person.id}/contact"
    page = client.get(url).text
    item_id = re.search(r'name="item_id" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_from(page), "base_version": "1", "item_id": item_id}
    bad = client.post(url, data={**form, "phone": "123", "address": ""})
    assert bad.status_code == 422 and "请填写以 1 开头的 11 位手机号。" in bad.text
    good = {**form, "phone": "13900139000", "address": "重庆市沙坪坝区 2 号"}
    for _ in range(2):  # a double submit saves once
        response = client.post(url, data=good)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/people/{sync_person.id}"
    person = fresh(db, Person, sync_person.id)
    assert (person.phone, person.address, person.version) == (
        "13900139000",
        "重庆市沙坪坝区 2 号",
        2,
    )
    stale = {**good, "item_id": str(uuid.uuid4()), "phone": "13700137000"}
    response = client.post(url, data=stale)
    assert response.headers["Location"].startswith("/sync/conflicts/")
    assert fresh(db, Person, sync_person.id).phone == "13900139000"
    assert count(db, AuditEvent, AuditEvent.action == "person_contact") == 1


def test_only_her_officer_and_supervisor_may_correct_her_contact(db, client, auth, unit, make_user):
    officer, helper = make_user("officer1"), make_user("helper", role="peer_helper")
    person = make_person(db, unit, officer, peer_helper_id=helper.id)
    stranger = make_person(db, unit, make_user("officer2"), name="王某")
    auth.login("helper")
    assert client.get(f"/people/{person.id}/contact").status_code == 403
    auth.logout()
    auth.login("officer1")
    assert client.get(f"/people/{stranger.id}/contact").status_code == 404
    assert client.get(f"/people/{person.id}/contact").status_code == 200
    assert f"/people/{person.id}/contact" in client.get(f"/people/{person.id}").text
