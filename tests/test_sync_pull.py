"""The sync pull API: what changed in her caseload since a cursor, and whom to forget."""

import uuid
from datetime import timedelta

from sqlmodel import update

from app.models import Assignment, AuditEvent, Person
from app.people.assignment import assign, change_status
from app.people.contact import correct_contact
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
    for cursor in (None, "not-a-cursor", ""):
        answer = sync_phone.pull(cursor)
        assert answer["full"] is True and answer["removed"] == []
        assert answer["people"] == [str(mine.id)]
        assert str(closed.id) not in answer["people"]
    assert count(db, AuditEvent, AuditEvent.action == "sync_pull") == 3


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
    # the user, the two lists, the audit event: however large her caseload
    assert len(statements) <= 4
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
    )
    change_status(
        session=db,
        user=supervisor,
        person=closing,
        data={"to_status": "closed", "reason": "completed", "effective_on": TODAY.isoformat()},
        today=TODAY,
        zone=ZONE,
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
