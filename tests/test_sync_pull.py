"""The sync pull API: what changed in her caseload since a cursor, and whom to forget."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select, update

from app.models import Assignment, AuditEvent, Person
from app.people.assignment import assign, change_status
from app.people.contact import correct_contact
from app.sync.pull import make_cursor
from app.types import utcnow
from tests.factories import make_person
from tests.people_world import TODAY, ZONE
from tests.sync_world import count, create_item


def _settled(db) -> None:
    """Everything so far happened yesterday: a cursor from now has seen it all."""
    yesterday = utcnow() - timedelta(days=1)
    db.exec(update(Person).values(updated_at=yesterday))
    db.exec(update(Assignment).values(created_at=yesterday))
    db.commit()


def test_without_a_cursor_she_gets_her_whole_open_caseload(
    db, unit, sync_phone, sync_officer, make_user
):
    mine = make_person(db, unit, sync_officer, name="甲")
    closed = make_person(db, unit, sync_officer, name="乙", status="closed")
    make_person(db, unit, make_user("officer2"), name="丙")
    for cursor in (None, ""):
        answer = sync_phone.pull(cursor)
        assert answer["full"] is True and answer["removed"] == []
        assert answer["people"] == [str(mine.id)]
        assert str(closed.id) not in answer["people"]
    pulls = db.exec(select(AuditEvent).where(AuditEvent.action == "sync_pull")).all()
    # each pull names the people whose pages it sent
    assert [event.details["people"] for event in pulls] == [[str(mine.id)]] * 2


def _encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


BAD_CURSORS = [
    ("garbage", "not-a-cursor"),
    ("year 1", make_cursor(datetime(1, 1, 1, tzinfo=UTC))),
    ("year 9999", make_cursor(datetime(9999, 12, 31, 23, 59, tzinfo=UTC))),
    ("1999", make_cursor(datetime(1999, 12, 31, tzinfo=UTC))),
    ("next week", make_cursor(utcnow() + timedelta(days=7))),
    ("no time zone", _encoded("t1:2026-06-01T00:00:00")),
    ("another format", _encoded("t9:2026-06-01T00:00:00+00:00")),
    ("not a time", _encoded("t1:yesterday")),
    ("not UTF-8", base64.urlsafe_b64encode(b"t1:\xff\xfe").decode()),
    ("huge", "A" * 10_000),
]


@pytest.mark.parametrize("cursor", [c[1] for c in BAD_CURSORS], ids=[c[0] for c in BAD_CURSORS])
def test_a_cursor_the_server_never_gave_is_a_bad_request(db, sync_phone, sync_person, cursor):
    response = sync_phone.client.get("/api/v1/sync/pull", query_string={"cursor": cursor})
    assert response.status_code == 400
    assert response.json == {
        "error": "bad_request",
        "message": "此同步游标无效。请不带游标重新拉取。",
    }
    # nothing was read, so nothing is audited as read
    assert count(db, AuditEvent, AuditEvent.action == "sync_pull") == 0


def test_a_cursor_lists_only_the_people_whose_pages_changed(
    db, unit, sync_phone, sync_officer, make_user, count_queries
):
    quiet = make_person(db, unit, sync_officer, name="甲")
    visited = make_person(db, unit, sync_officer, name="乙")
    moved = make_person(db, unit, sync_officer, name="丙")
    closing = make_person(db, unit, sync_officer, name="丁")
    corrected = make_person(db, unit, sync_officer, name="戊")
    supervisor, other = make_user("head", role="supervisor"), make_user("officer2")
    _settled(db)
    cursor = sync_phone.pull()["cursor"]
    with count_queries() as statements:
        unchanged = sync_phone.pull(cursor)
    assert unchanged["full"] is False
    assert (unchanged["people"], unchanged["removed"]) == ([], [])
    # the user and her session, the two lists, the audit event and the chain's head (two on
    # PostgreSQL: the lock, then the head): however large her caseload
    assert len(statements) <= 7
    assert sync_phone.statuses([create_item(visited)]) == ["created"]
    correct_contact(
        session=db,
        user=supervisor,
        person_id=corrected.id,
        base_version=corrected.version,
        data={"phone": "13900139000"},
        item_id=uuid.uuid4(),
    )
    assign(
        session=db,
        user=supervisor,
        person=moved,
        officer_id=other.id,
        peer_helper_id=None,
        reason="调岗",
        base_version=moved.version,
    )
    change_status(
        session=db,
        user=supervisor,
        person=closing,
        data={"to_status": "closed", "reason": "completed", "effective_on": TODAY.isoformat()},
        today=TODAY,
        zone=ZONE,
        base_version=closing.version,
    )
    db.commit()
    answer = sync_phone.pull(cursor)
    assert sorted(answer["people"]) == sorted([str(visited.id), str(corrected.id)])
    assert sorted(answer["removed"]) == sorted([str(moved.id), str(closing.id)])
    assert str(quiet.id) not in answer["people"] + answer["removed"]
    assert answer["cursor"] != cursor


def test_an_administrator_keeps_no_caseload_to_pull(client, auth, make_user):
    make_user("admin", role="admin")
    auth.login("admin")
    response = client.get("/api/v1/sync/pull")
    assert response.status_code == 403 and response.json["error"] == "forbidden"
