"""Group sessions through the offline outbox: pushed once however often, conflicts kept."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select, update

from app.models import (
    Assignment,
    AuditEvent,
    GroupSession,
    GroupSessionVersion,
    Person,
    SyncConflict,
    Visit,
)
from app.sync.pull import make_cursor
from app.types import utcnow
from tests.conftest import csrf_from
from tests.group_world import caseload, create_group_item, edit_group_item
from tests.sync_world import count, fresh


@pytest.fixture
def ten(db, unit, sync_officer):
    return caseload(db, unit, sync_officer, 10)


def test_an_offline_group_session_with_ten_attendees_synced_once(db, sync_phone, ten):
    item = create_group_item(ten)
    first = sync_phone.push([item]).json["results"]
    again = sync_phone.push([item]).json["results"]
    assert [r["status"] for r in first] == ["created"]
    assert [r["status"] for r in again] == ["duplicate"]
    assert first[0]["record_id"] == item["id"] and first[0]["version"] == 1
    assert count(db, GroupSession) == 1
    group_id = uuid.UUID(item["id"])
    assert count(db, Visit, Visit.group_session_id == group_id) == 10
    assert count(db, AuditEvent, AuditEvent.action == "group_create") == 1
    # every attendee's due date moved
    for person in ten:
        db.refresh(person)
        assert person.last_contact_at is not None


def test_the_same_item_twice_in_one_batch_is_saved_once(db, sync_phone, ten):
    item = create_group_item(ten[:3])
    assert sync_phone.statuses([item, item]) == ["created", "duplicate"]
    assert count(db, Visit) == 3


def test_a_group_create_names_itself(sync_phone, ten):
    item = {**create_group_item(ten[:2]), "record_id": str(uuid.uuid4())}
    [answer] = sync_phone.push([item]).json["results"]
    assert answer["status"] == "invalid" and answer["errors"]["record_id"]


def test_an_invalid_group_is_refused_with_translated_messages(sync_phone, ten):
    item = create_group_item(ten[:2], topic="", attendees=[])
    [answer] = sync_phone.push([item]).json["results"]
    assert answer["status"] == "invalid"
    assert answer["errors"]["attendees"] == ["至少勾选一位参加的人。"]
    assert answer["errors"]["topic"] == ["请填写主题。"]


def test_a_group_edit_on_an_old_version_is_kept_as_a_conflict_and_resolved(
    db, client, sync_phone, ten
):
    created = create_group_item(ten[:3], notes="第一次记录")
    first = edit_group_item(created, 1, topic="手机一：情绪管理", duration_minutes="60")
    second = edit_group_item(created, 1, notes="手机二：补充了讨论内容")
    assert sync_phone.statuses([created, first]) == ["created", "edited"]
    [answer] = sync_phone.push([second]).json["results"]
    assert answer["status"] == "conflict" and answer["server"]["topic"] == "手机一：情绪管理"
    # resent, it gets the same answer from its receipt
    [again] = sync_phone.push([second]).json["results"]
    assert again["conflict_id"] == answer["conflict_id"]
    group_id = uuid.UUID(created["id"])
    assert fresh(db, GroupSession, group_id).version == 2
    conflict_id = answer["conflict_id"]
    page = client.get(f"/sync/conflicts/{conflict_id}")
    assert page.status_code == 200
    assert 'id="field-notes"' in page.text and 'id="field-topic"' in page.text
    assert 'id="field-attendees"' not in page.text
    version = re.search(r'name="base_version" value="(\d+)"', page.text).group(1)
    response = client.post(
        f"/sync/conflicts/{conflict_id}",
        data={
            "csrf_token": csrf_from(page.text),
            "base_version": version,
            "pick_topic": "current",
            "pick_duration_minutes": "current",
            "pick_notes": "mine",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/groups/{group_id}/versions"
    group = fresh(db, GroupSession, group_id)
    assert (group.version, group.topic, group.notes) == (
        3,
        "手机一：情绪管理",
        "手机二：补充了讨论内容",
    )
    assert count(db, GroupSessionVersion, GroupSessionVersion.group_session_id == group_id) == 2
    assert fresh(db, SyncConflict, uuid.UUID(conflict_id)).resolved_version == 3
    # each attendee's visit follows the session and keeps none of its notes
    for visit in db.exec(select(Visit).where(Visit.group_session_id == group_id)):
        assert visit.duration_minutes == 60 and visit.notes == ""


def test_a_create_resent_with_other_content_is_a_conflict(db, sync_phone, ten):
    item = create_group_item(ten[:2])
    assert sync_phone.statuses([item]) == ["created"]
    changed = {**item, "id": item["id"], "data": {**item["data"], "topic": "另一个主题"}}
    [answer] = sync_phone.push([changed]).json["results"]
    assert answer["status"] == "conflict" and answer["conflict_id"]
    assert fresh(db, GroupSession, uuid.UUID(item["id"])).topic == "情绪管理"


def test_a_removed_attendee_is_pulled_again_without_her_visit(db, sync_phone, ten):
    created = create_group_item(ten[:3])
    assert sync_phone.statuses([created]) == ["created"]
    yesterday = utcnow() - timedelta(days=1)
    db.exec(update(Person).values(updated_at=yesterday))
    # updated_at moves no tally
    db.exec(update(Visit).values(updated_at=yesterday).execution_options(contact_tallies="recount"))
    db.exec(update(Assignment).values(created_at=yesterday))
    db.commit()
    cursor = make_cursor(utcnow())
    kept = [str(p.id) for p in ten[1:3]]
    removal = edit_group_item(created, 1, attendees=kept, topic=created["data"]["topic"])
    assert sync_phone.statuses([removal]) == ["edited"]
    assert sync_phone.pull(cursor)["people"] == [str(ten[0].id)]
