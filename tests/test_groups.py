"""Group sessions: one write path, each attendee's visit, her due date, idempotency."""

import uuid
from datetime import timedelta

import pytest
from sqlmodel import func, select

from app.contract import Outcome
from app.due import check_due
from app.groups.attendance import attendee_visit_id
from app.groups.history import group_history
from app.models import AuditEvent, GroupSession, GroupSessionVersion, Person, Visit
from app.visits.service import edit_visit
from tests.factories import NOW, TODAY, make_person, save_visit, visit_data
from tests.group_world import caseload, correct_group, group_data, save_group


@pytest.fixture
def officer(make_user):
    return make_user("officer1")


@pytest.fixture
def people(db, unit, officer):
    return caseload(db, unit, officer, 3)


def count(db, model, *where) -> int:
    db.commit()
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def visits_of(db, group_id) -> list[Visit]:
    db.commit()
    db.expire_all()
    return list(db.exec(select(Visit).where(Visit.group_session_id == group_id)))


def test_a_group_session_gives_each_attendee_a_visit_of_hers(db, officer, people):
    data = group_data(people)
    result = save_group(db, officer, data)
    assert result.outcome == Outcome.created
    group = db.get(GroupSession, uuid.UUID(data["id"]))
    assert (group.kind, group.topic, group.leader_id, group.version) == (
        "group_counselling",
        "情绪管理",
        officer.id,
        1,
    )
    visits = visits_of(db, group.id)
    assert sorted(v.person_id for v in visits) == sorted(p.id for p in people)
    for visit in visits:
        assert visit.id == attendee_visit_id(group.id, visit.person_id)
        assert (visit.kind, visit.occurred_at, visit.duration_minutes) == (
            "group_counselling",
            group.occurred_at,
            90,
        )
        # the group's notes and the others' names never go into her ledger
        assert visit.notes == "" and visit.agreed_actions == ""
        assert visit.location == "community_office"
    actions = db.exec(select(AuditEvent.action)).all()
    assert sorted(actions) == ["group_create"] + ["visit_create"] * 3


def test_each_attendees_next_due_date_moves(db, officer, people):
    before = {p.id: p.next_due_on for p in people}
    save_group(db, officer, group_data(people))
    for person in people:
        db.refresh(person)
        # released 200 days ago: contact today, the next in 30 days
        assert person.next_due_on == NOW.date() + timedelta(days=30) != before[person.id]
        assert person.last_contact_at is not None
    assert check_due(db, today=TODAY).differences == []


def test_the_same_session_sent_again_is_a_duplicate(db, officer, people):
    data = group_data(people)
    first, second = save_group(db, officer, data), save_group(db, officer, dict(data))
    assert (first.outcome, second.outcome) == (Outcome.created, Outcome.duplicate)
    assert count(db, GroupSession) == 1 and count(db, Visit) == 3


def test_the_same_uuid_with_other_content_is_a_conflict(db, officer, people):
    data = group_data(people)
    save_group(db, officer, data)
    result = save_group(db, officer, {**data, "topic": "家庭关系"})
    assert result.outcome == Outcome.conflict
    assert result.record.topic == "情绪管理"
    assert count(db, Visit) == 3


def test_an_attendee_out_of_her_caseload_refuses_the_whole_session(db, unit, officer, make_user):
    colleague = make_user("officer2")
    mine = caseload(db, unit, officer, 2)
    hers = make_person(db, unit, colleague, name="外人")
    result = save_group(db, officer, group_data([*mine, hers]))
    assert result.outcome == Outcome.refused and result.errors["_form"]
    assert count(db, GroupSession) == 0 and count(db, Visit) == 0 and count(db, AuditEvent) == 0


def test_a_closed_ledger_refuses_the_whole_session(db, unit, officer):
    mine = caseload(db, unit, officer, 2)
    closed = make_person(db, unit, officer, name="已结案", status="closed")
    result = save_group(db, officer, group_data([*mine, closed]))
    assert result.outcome == Outcome.refused
    assert count(db, GroupSession) == 0 and count(db, Visit) == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"attendees": []}, "attendees", "Tick at least one person who attended."),
        ({"attendees": ["not-a-uuid"]}, "attendees", "An attendee is not valid. Reload the form."),
        ({"topic": " "}, "topic", "Enter the topic."),
        ({"kind": "home_visit"}, "kind", "Choose what kind of group session this was."),
        ({"occurred_at": "2027-01-01T10:00"}, "occurred_at", None),
        ({"duration_minutes": "9999"}, "duration_minutes", None),
        ({"online": {"x": 1}}, "online", None),
        ({"notes": "\x00"}, "notes", None),
        ({"id": "nope"}, "id", None),
    ],
)
def test_invalid_input_changes_nothing_and_says_why(db, officer, people, fields, field, message):
    result = save_group(db, officer, group_data(people, **fields))
    assert result.outcome == Outcome.invalid
    assert result.errors[field] and (message is None or result.errors[field] == [message])
    assert count(db, GroupSession) == 0


def test_too_many_attendees_is_invalid(db, officer, people):
    ids = [str(uuid.uuid4()) for _ in range(61)]
    result = save_group(db, officer, group_data(people, attendees=ids))
    assert result.errors["attendees"] == ["A group session has at most 60 attendees."]


def test_a_peer_helper_records_a_peer_group_talk_for_her_pairs_only(db, unit, make_user):
    helper = make_user("helper1", role="peer_helper")
    pairs = caseload(db, unit, None, 2, peer_helper_id=helper.id)
    result = save_group(db, helper, group_data(pairs))
    assert result.outcome == Outcome.refused  # group counselling is an officer's
    result = save_group(db, helper, group_data(pairs, kind="talk"))
    assert result.outcome == Outcome.created
    assert {v.kind for v in visits_of(db, result.record.id)} == {"talk"}


def test_a_correction_moves_every_visit_and_keeps_the_earlier_version(db, officer, people):
    data = group_data(people)
    save_group(db, officer, data)
    group_id = uuid.UUID(data["id"])
    later = {**data, "occurred_at": "2026-06-15T11:00", "duration_minutes": "60"}
    result = correct_group(db, officer, group_id, 1, later)
    assert result.outcome == Outcome.edited and result.record.version == 2
    for visit in visits_of(db, group_id):
        assert visit.duration_minutes == 60 and visit.version == 2
    history = group_history(db, db.get(GroupSession, group_id))
    assert [v.version for v in history] == [2, 1]
    assert history[0].changed == ["occurred_at", "duration_minutes"]
    assert len(history[1].content["attendees"]) == 3


def test_removing_an_attendee_removes_her_visit_and_her_contact(db, officer, people):
    data = group_data(people)
    save_group(db, officer, data)
    group_id = uuid.UUID(data["id"])
    gone = people[0]
    kept = [str(p.id) for p in people[1:]]
    result = correct_group(db, officer, group_id, 1, {**data, "attendees": kept})
    assert result.outcome == Outcome.edited
    assert sorted(v.person_id for v in visits_of(db, group_id)) == sorted(p.id for p in people[1:])
    db.refresh(gone)
    assert gone.last_contact_at is None
    removal = db.exec(select(AuditEvent).where(AuditEvent.action == "group_attendee_remove")).one()
    assert removal.person_id == gone.id
    # the earlier list is in the session's history
    version = db.exec(select(GroupSessionVersion)).one()
    assert str(gone.id) in version.content["attendees"]
    assert check_due(db, today=TODAY).differences == []


def test_adding_an_attendee_gives_her_a_visit(db, unit, officer, people):
    data = group_data(people[:1])
    save_group(db, officer, data)
    attendees = [str(p.id) for p in people]
    result = correct_group(db, officer, uuid.UUID(data["id"]), 1, {**data, "attendees": attendees})
    assert result.outcome == Outcome.edited
    assert len(visits_of(db, uuid.UUID(data["id"]))) == 3


def test_a_correction_on_an_old_version_is_a_conflict_not_an_overwrite(db, officer, people):
    data = group_data(people)
    save_group(db, officer, data)
    group_id = uuid.UUID(data["id"])
    correct_group(db, officer, group_id, 1, {**data, "topic": "第一次更正"})
    result = correct_group(db, officer, group_id, 1, {**data, "topic": "第二次更正"})
    assert result.outcome == Outcome.conflict
    assert db.get(GroupSession, group_id).topic == "第一次更正"


def test_a_correction_adding_someone_elses_person_changes_nothing(db, unit, officer, make_user):
    colleague = make_user("officer2")
    mine = caseload(db, unit, officer, 2)
    hers = make_person(db, unit, colleague, name="外人")
    data = group_data(mine)
    save_group(db, officer, data)
    attendees = [*data["attendees"], str(hers.id)]
    result = correct_group(db, officer, uuid.UUID(data["id"]), 1, {**data, "attendees": attendees})
    assert result.outcome == Outcome.refused
    assert db.get(GroupSession, uuid.UUID(data["id"])).version == 1
    assert count(db, Visit) == 2


def test_her_visit_of_a_session_is_corrected_only_through_the_session(db, officer, people):
    data = group_data(people)
    save_group(db, officer, data)
    visit_id = attendee_visit_id(uuid.UUID(data["id"]), people[0].id)
    result = edit_visit(
        session=db,
        user=officer,
        visit_id=visit_id,
        base_version=1,
        data=visit_data(people[0], id=str(visit_id), kind="group_counselling", notes="x"),
        now=NOW,
    )
    assert result.outcome == Outcome.refused
    assert "group session" in result.errors["_form"][0]


def test_a_visit_of_her_own_is_untouched_by_a_session(db, officer, people):
    save_visit(db, officer, visit_data(people[0]), now=NOW)
    save_group(db, officer, group_data(people))
    assert count(db, Visit, Visit.person_id == people[0].id) == 2
    assert count(db, Person) == 3
