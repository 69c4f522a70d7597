"""The one write path for visits: outcomes the form and the offline sync rely on."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from app.contract import Outcome, commit
from app.models import Assignment, AuditEvent, Consent, Person, Visit, VisitVersion
from app.schedule import DueReason, DueState
from app.signals import visit_recorded
from app.visits.fields import clean_visit
from app.visits.service import edit_visit, visit_history
from tests.factories import NOW, make_person, save_visit, visit_data


@pytest.fixture
def officer(make_user):
    return make_user("officer1")


@pytest.fixture
def person(db, unit, officer):
    return make_person(db, unit, officer)


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def record(db, user, data, now=NOW):
    return save_visit(db, user, data, now=now)


def test_a_visit_is_recorded_with_audit_and_signal(db, officer, person):
    sent = []

    def receiver(visit, **kwargs):
        sent.append((visit.id, kwargs["user"].id, kwargs["session"] is db))

    data = visit_data(person, risk_flags=["self_harm", "relapse_signs"])
    with visit_recorded.connected_to(receiver):
        result = record(db, officer, data)
    assert result.outcome == Outcome.created and result.saved
    visit = db.get(Visit, uuid.UUID(data["id"]))
    assert visit.author_id == officer.id and visit.version == 1
    # 10:30 in Shanghai is 02:30 UTC; flags kept in the vocabulary's order
    assert visit.occurred_at == datetime(2026, 6, 15, 2, 30, tzinfo=UTC)
    assert visit.risk_flags == ["relapse_signs", "self_harm"]
    assert visit.participants == ["mother"] and visit.mood == 4 and visit.craving == 2
    assert sent == [(visit.id, officer.id, True)]
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "visit_create")).one()
    assert (event.person_id, event.target_id) == (person.id, str(visit.id))
    # the schedule follows: the contact today flagged self-harm, so the next is due within
    # the unit's 48 hours rather than the 30 days of her phase
    assert (result.due.state, result.due.reason) == (DueState.upcoming, DueReason.risk)
    assert result.due.due_on == NOW.date() + timedelta(days=2)
    # and the people list, sorted by the stored date, follows too
    db.refresh(person)
    assert person.next_due_on == NOW.date() + timedelta(days=2)


def test_a_visit_with_no_risk_to_follow_keeps_her_rhythm(db, officer, person):
    result = record(db, officer, visit_data(person, risk_flags=["no_income"]))
    # released 200 days ago, contact today, next in 30 days
    assert (result.due.state, result.due.reason) == (DueState.upcoming, DueReason.cadence)
    assert result.due.due_on == NOW.date() + timedelta(days=30)


def test_the_same_visit_twice_is_saved_once(db, officer, person):
    data = visit_data(person)
    first, second = record(db, officer, data), record(db, officer, dict(data))
    assert (first.outcome, second.outcome) == (Outcome.created, Outcome.duplicate)
    assert second.record.id == first.record.id
    assert count(db, Visit) == 1
    assert count(db, AuditEvent) == 1


def test_the_same_uuid_with_other_content_is_a_conflict_not_an_overwrite(db, officer, person):
    data = visit_data(person)
    record(db, officer, data)
    result = record(db, officer, {**data, "notes": "另一个版本"})
    assert result.outcome == Outcome.conflict and not result.saved
    assert result.record.notes == "入户面谈，情绪平稳。" and result.record.version == 1
    assert db.get(Visit, uuid.UUID(data["id"])).notes == "入户面谈，情绪平稳。"


def test_a_resent_create_after_a_correction_is_still_a_duplicate(db, officer, person):
    data = visit_data(person)
    record(db, officer, data)
    edited = edit(db, officer, data, now=NOW, mood="3")
    assert edited.outcome == Outcome.edited
    assert record(db, officer, data).outcome == Outcome.duplicate


INVALID = [
    ("no kind", {"kind": ""}, "kind"),
    ("unknown kind", {"kind": "party"}, "kind"),
    ("no time", {"occurred_at": ""}, "occurred_at"),
    ("not a time", {"occurred_at": "yesterday"}, "occurred_at"),
    ("in the future", {"occurred_at": "2026-06-16T09:00"}, "occurred_at"),
    ("mood above 5", {"mood": "6"}, "mood"),
    ("mood zero", {"mood": "0"}, "mood"),
    ("craving above 10", {"craving": "11"}, "craving"),
    ("craving not a number", {"craving": "high"}, "craving"),
    ("duration zero", {"duration_minutes": "0"}, "duration_minutes"),
    ("unknown place", {"location": "moon"}, "location"),
    ("unknown risk", {"risk_flags": ["bored"]}, "risk_flags"),
    ("unknown difficulty", {"difficulties": ["weather"]}, "difficulties"),
    ("next contact before this one", {"next_contact_on": "2026-06-01"}, "next_contact_on"),
    ("next contact two years on", {"next_contact_on": "2028-06-01"}, "next_contact_on"),
    ("notes too long", {"notes": "字" * 4001}, "notes"),
    ("attempt without a reason", {"kind": "attempt", "failure_reason": ""}, "failure_reason"),
    ("no identifier", {"id": "not-a-uuid"}, "id"),
    # what issue 9 sent: wrong types are refused, never coerced with str()
    ("kind as a list", {"kind": ["home_visit"]}, "kind"),
    ("risk flags as a number", {"risk_flags": 3}, "risk_flags"),
    ("notes as an object", {"notes": {"a": 1}}, "notes"),
    ("a NUL byte", {"notes": "a\x00b"}, "notes"),
    ("a lone surrogate", {"notes": "\ud800"}, "notes"),
    ("year 1", {"occurred_at": "0001-01-01T00:00"}, "occurred_at"),
    ("year 9999", {"occurred_at": "9999-12-31T23:59"}, "occurred_at"),
    ("dated 1900", {"occurred_at": "1900-06-15T10:30"}, "occurred_at"),
    ("next contact in 9999", {"next_contact_on": "9999-12-31"}, "next_contact_on"),
    ("mood as true", {"mood": True}, "mood"),
    ("mood as a float", {"mood": 4.0}, "mood"),
    ("duration past 600", {"duration_minutes": 601}, "duration_minutes"),
]


@pytest.mark.parametrize(("change", "field"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_values_are_named_field_by_field(change, field):
    person = Person(id=uuid.uuid4(), unit_id=uuid.uuid4(), name="x")
    _, errors = clean_visit(visit_data(person, **change), timezone="Asia/Shanghai", now=NOW)
    assert list(errors) == [field]
    assert all(isinstance(m, str) and m for m in errors[field])


def test_an_invalid_visit_changes_nothing(db, officer, person):
    result = record(db, officer, visit_data(person, mood="6", craving="11"))
    assert result.outcome == Outcome.invalid and not result.saved
    assert set(result.errors) == {"mood", "craving"}
    assert count(db, Visit) == 0 and count(db, AuditEvent) == 0


def test_a_failed_attempt_needs_only_kind_time_and_reason(db, officer, person):
    data = {
        "id": str(uuid.uuid4()),
        "person_id": str(person.id),
        "kind": "attempt",
        "occurred_at": "2026-06-15T09:00",
        "failure_reason": "no_answer",
        # fields an attempt does not ask for are dropped, not refused
        "mood": "9",
        "risk_flags": ["self_harm"],
    }
    result = record(db, officer, data)
    assert result.outcome == Outcome.created
    visit = result.record
    assert (visit.failure_reason, visit.mood, visit.risk_flags) == ("no_answer", None, [])
    assert visit.location == "phone"  # the kind's usual place
    # and it does not reset the clock: still due for a first contact since release
    assert result.due.reason == DueReason.first_contact


def test_json_values_from_a_phone_are_accepted(db, officer, person):
    data = visit_data(
        person, occurred_at="2026-06-15T02:30:00Z", mood=4, craving=0, duration_minutes=30
    )
    result = record(db, officer, data)
    assert result.outcome == Outcome.created
    assert result.record.occurred_at == datetime(2026, 6, 15, 2, 30, tzinfo=UTC)
    assert result.record.craving == 0


@pytest.mark.parametrize(
    ("who", "kind", "outcome"),
    [
        ("officer1", "home_visit", Outcome.created),
        ("officer2", "home_visit", Outcome.refused),
        ("supervisor", "family_therapy", Outcome.created),
        ("admin", "home_visit", Outcome.refused),
        ("helper1", "talk", Outcome.created),
        ("helper1", "online_check_in", Outcome.created),
        ("helper1", "home_visit", Outcome.refused),
        ("helper2", "talk", Outcome.refused),
    ],
)
def test_who_may_record_what(db, unit, make_user, who, kind, outcome):
    officer = make_user("officer1")
    helper = make_user("helper1", role="peer_helper")
    roles = {"officer2": "officer", "helper2": "peer_helper"}
    user = {"officer1": officer, "helper1": helper}.get(who) or make_user(
        who, role=roles.get(who, who)
    )
    person = make_person(db, unit, officer, peer_helper_id=helper.id)
    result = record(db, user, visit_data(person, kind=kind))
    assert result.outcome == outcome
    assert count(db, Visit) == (1 if outcome == Outcome.created else 0)
    if outcome == Outcome.refused:
        assert result.errors["_form"]


def test_an_unknown_person_is_refused_like_someone_elses(db, officer):
    data = visit_data(Person(id=uuid.uuid4(), unit_id=uuid.uuid4(), name="x"))
    assert record(db, officer, data).outcome == Outcome.refused


def test_a_visit_from_before_a_reassignment_is_accepted(db, unit, make_user, officer, person):
    """Recorded offline while she was assigned, synced after the supervisor reassigned."""
    colleague = make_user("officer2")
    handover = datetime(2026, 6, 14, 4, 0, tzinfo=UTC)
    assignment = db.exec(select(Assignment)).one()
    assignment.ended_at = handover
    db.add(
        Assignment(person_id=person.id, user_id=colleague.id, role="officer", started_at=handover)
    )
    person.assigned_officer_id = colleague.id
    db.commit()
    before = record(db, officer, visit_data(person, occurred_at="2026-06-13T15:00"))
    after = record(db, officer, visit_data(person, occurred_at="2026-06-15T10:00"))
    assert (before.outcome, after.outcome) == (Outcome.created, Outcome.refused)


def test_no_new_visits_once_consent_is_withdrawn(db, officer, person):
    db.add(Consent(person_id=person.id, signed_on=NOW.date(), taken_by_id=officer.id))
    db.add(
        Consent(
            person_id=person.id,
            version=2,
            signed_on=NOW.date(),
            taken_by_id=officer.id,
            withdrawn_at=NOW - timedelta(days=1),
        )
    )
    person.consent_withdrawn_at = NOW - timedelta(days=1)  # as withdraw_consent keeps it
    db.add(person)
    db.commit()
    result = record(db, officer, visit_data(person))
    assert result.outcome == Outcome.refused
    assert "consent" in result.errors["_form"][0]
    assert count(db, Visit) == 0


def test_reaching_her_again_ends_lost_contact_but_an_attempt_does_not(db, officer, person):
    person.status = "lost_contact"
    db.commit()
    attempt = visit_data(person, kind="attempt", failure_reason="not_at_home")
    record(db, officer, attempt)
    assert db.get(Person, person.id).status == "lost_contact"
    record(db, officer, visit_data(person))
    refreshed = db.get(Person, person.id)
    assert (refreshed.status, refreshed.version) == ("active", 2)


# --- corrections: every change is a new version ---


@pytest.fixture
def saved(db, officer, person):
    data = visit_data(person)
    record(db, officer, data, now=NOW)
    return data


def edit(db, user, data, *, base_version=1, now=NOW + timedelta(hours=1), **changes):
    result = edit_visit(
        session=db,
        user=user,
        visit_id=uuid.UUID(data["id"]),
        base_version=base_version,
        data={**data, **changes},
        now=now,
    )
    commit(db)
    return result


def test_a_correction_keeps_the_earlier_version(db, officer, saved):
    result = edit(db, officer, saved, mood="2", notes="更正：情绪偏低。")
    assert result.outcome == Outcome.edited
    visit = db.get(Visit, uuid.UUID(saved["id"]))
    assert (visit.version, visit.mood, visit.edited_by_id) == (2, 2, officer.id)
    history = visit_history(db, visit)
    assert [v.version for v in history] == [2, 1]
    assert history[0].changed == ["mood", "notes"]
    assert (history[1].content["mood"], history[1].content["notes"]) == (4, "入户面谈，情绪平稳。")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "visit_edit")).one()
    assert event.details["changed"] == ["mood", "notes"]


def test_a_correction_on_an_old_version_is_a_conflict(db, officer, make_user, saved):
    supervisor = make_user("supervisor", role="supervisor")
    assert edit(db, supervisor, saved, notes="负责人补充").outcome == Outcome.edited
    result = edit(db, officer, saved, base_version=1, notes="民警更正")
    assert result.outcome == Outcome.conflict
    assert (result.record.version, result.record.notes) == (2, "负责人补充")
    assert count(db, VisitVersion) == 1


def test_the_same_correction_twice_changes_nothing(db, officer, saved):
    assert edit(db, officer, saved, mood="3").outcome == Outcome.edited
    assert edit(db, officer, saved, mood="3", base_version=1).outcome == Outcome.duplicate
    assert db.get(Visit, uuid.UUID(saved["id"])).version == 2


@pytest.mark.parametrize(
    ("who", "hours_later", "outcome"),
    [
        ("officer1", 71, Outcome.edited),
        ("officer1", 73, Outcome.refused),
        ("supervisor", 24 * 400, Outcome.edited),
        ("officer2", 1, Outcome.refused),
    ],
)
def test_the_edit_window(db, make_user, officer, saved, who, hours_later, outcome):
    user = officer if who == "officer1" else make_user(who, role=who.rstrip("2"))
    now = NOW + timedelta(hours=hours_later)
    result = edit(db, user, saved, now=now, notes="更正")
    assert result.outcome == outcome
    assert db.get(Visit, uuid.UUID(saved["id"])).version == (2 if outcome == Outcome.edited else 1)


def test_the_unit_sets_the_edit_window(db, unit, officer, saved):
    unit.visit_edit_window_hours = 24
    db.commit()
    assert edit(db, officer, saved, now=NOW + timedelta(hours=25), notes="晚了").outcome == (
        Outcome.refused
    )


def test_an_invalid_correction_changes_nothing(db, officer, saved):
    result = edit(db, officer, saved, craving="12")
    assert (result.outcome, list(result.errors)) == (Outcome.invalid, ["craving"])
    assert db.get(Visit, uuid.UUID(saved["id"])).version == 1
