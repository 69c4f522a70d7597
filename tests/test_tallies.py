"""The contact tallies follow every write of a visit, and equal a count from the visits."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, update
from sqlmodel import select

from app.due import schedule_zone
from app.models import CheckInLink, Person, User, Visit
from app.supervision.dashboard import forget_kept_figures, unit_dashboard
from app.supervision.recount import check_tallies, recount
from app.supervision.tallies import ContactTally, OnTimeTally
from app.types import utcnow
from app.visits.service import edit_visit, record_visit
from tests.factories import make_person, visit_data
from tests.group_world import caseload, correct_group, group_data, save_group
from tests.race import ROUNDS, Writers
from tests.sync_world import create_item, edit_item

START = datetime(2025, 1, 1, 2, tzinfo=UTC)
KINDS = ["home_visit", "phone_consultation", "talk", "attempt"]
# days after her newest visit: either side of each interval plus grace (a backdated one too)
GAPS = [-9, 0, 3, 4, 7, 10, 11, 13, 14, 17, 18, 20, 30, 33, 34, 90, 93, 94]


def differences(db) -> list:
    db.commit()
    return check_tallies(db.connection(), schedule_zone())


def contacts(db, unit) -> int:
    db.commit()
    rows = db.exec(select(ContactTally.contacts).where(ContactTally.unit_id == unit.id)).all()
    return sum(rows)


def test_form_sync_batch_correction_and_check_in_keep_the_tallies(
    db, unit, sync_officer, sync_phone, make_user
):
    people = [make_person(db, unit, sync_officer, name=f"王{n}") for n in range(3)]
    batch = [create_item(people[n % 3], occurred_at=f"2026-06-{1 + n:02d}T10:30") for n in range(6)]
    assert sync_phone.statuses(batch) == ["created"] * 6  # the deferred batch
    assert contacts(db, unit) == 6 and differences(db) == []
    # a backdated correction moves the visit between months and re-judges its neighbours
    moved = edit_item(batch[3], 1, occurred_at="2026-05-20T09:00", kind="talk")
    assert sync_phone.statuses([moved]) == ["edited"]
    assert differences(db) == []
    # a form's visit, then its correction into a failed attempt: no longer a contact
    data = visit_data(people[0], occurred_at="2026-06-12T08:00")
    saved = record_visit(session=db, user=sync_officer, data=data, now=utcnow())
    db.commit()
    assert contacts(db, unit) == 7
    failed = {**data, "kind": "attempt", "failure_reason": "no_answer"}
    edit_visit(session=db, user=sync_officer, visit_id=saved.record.id, base_version=1, data=failed)
    assert contacts(db, unit) == 6 and differences(db) == []
    # her own check-in is not an officer's contact
    link = CheckInLink(
        person_id=people[1].id,
        issued_by_id=sync_officer.id,
        token_hash=uuid.uuid4().hex,
        expires_at=utcnow() + timedelta(days=90),
    )
    db.add(link)
    db.flush()
    check_in = visit_data(people[1], kind="online_check_in", occurred_at="2026-06-13T08:00")
    record_visit(session=db, user=sync_officer, data=check_in, check_in_link_id=link.id)
    assert contacts(db, unit) == 6 and differences(db) == []


def test_a_deleted_visit_and_a_new_release_day_are_taken_out_and_judged_again(
    db, unit, sync_officer
):
    her = make_person(db, unit, sync_officer, release_date=date(2026, 1, 1))
    visits = [
        Visit(
            id=uuid.uuid4(),
            person_id=her.id,
            author_id=sync_officer.id,
            kind="home_visit",
            occurred_at=datetime(2026, 1, 5, 2, tzinfo=UTC) + timedelta(days=12 * n),
        )
        for n in range(4)
    ]
    db.add_all(visits)
    db.commit()
    assert differences(db) == []
    db.delete(visits[1])  # as a group session's derived visit is removed
    db.commit()
    assert contacts(db, unit) == 3 and differences(db) == []
    her.release_date = date(2025, 12, 1)
    db.add(her)
    db.commit()
    assert differences(db) == []


def test_new_grace_days_judge_the_unit_s_contacts_again(db, unit, sync_officer):
    her = make_person(db, unit, sync_officer, release_date=date(2026, 1, 1))
    for step in range(3):  # 20 days apart: late at 3 days' grace, on time at 7
        db.add(
            Visit(
                id=uuid.uuid4(),
                person_id=her.id,
                author_id=sync_officer.id,
                kind="home_visit",
                occurred_at=datetime(2026, 1, 5, 2, tzinfo=UTC) + timedelta(days=20 * step),
            )
        )
    db.commit()

    def met():
        db.commit()
        return sum(db.exec(select(OnTimeTally.met).where(OnTimeTally.unit_id == unit.id)).all())

    assert met() == 1
    unit.grace_days = 7
    db.add(unit)
    db.commit()
    assert met() == 3 and differences(db) == []


def test_a_group_session_its_correction_and_a_removed_attendee_keep_the_tallies(
    db, unit, sync_officer
):
    people = caseload(db, unit, sync_officer, 3)
    data = group_data(people)
    save_group(db, sync_officer, data)
    assert contacts(db, unit) == 3 and differences(db) == []
    # moved a week back, and one attendee taken off: her derived visit is deleted
    later = {**data, "occurred_at": "2026-06-08T10:00", "attendees": [str(people[1].id)]}
    correct_group(db, sync_officer, uuid.UUID(data["id"]), 1, later)
    assert contacts(db, unit) == 1 and differences(db) == []


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 2), st.sampled_from(GAPS), st.sampled_from(KINDS)),
        st.tuples(st.just("add"), st.integers(0, 2), st.sampled_from(GAPS), st.sampled_from(KINDS)),
        st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 150), st.sampled_from(KINDS)),
        st.tuples(st.just("delete"), st.integers(0, 30)),
        st.tuples(st.just("release"), st.integers(0, 2), st.integers(-30, 300)),
        st.tuples(st.just("commit")),
    ),
    max_size=30,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
# her first contact after release judged from her release day, not a contact before it
@example(operations=[("add", 2, 0, "talk"), ("commit",), ("add", 2, 13, "talk")])
# a new contact judged against the stored one before it
@example(operations=[("add", 0, 0, "talk"), ("commit",), ("add", 0, 14, "home_visit")])
def test_after_any_writes_the_tallies_equal_a_count_from_the_visits(
    db, unit, sync_officer, make_user, operations
):
    second = db.exec(select(User).where(User.username == "officer2")).first()
    officers = [sync_officer.id, (second or make_user("officer2")).id]
    people = [
        Person(unit_id=unit.id, name=f"人{n}", release_date=date(2025, 1, 1 + n)) for n in range(3)
    ]
    db.add_all(people)
    visits: list[Visit] = []
    for operation in operations:
        match operation:
            case ("add", who, gap, kind):
                hers = [
                    (v.occurred_at - START).days for v in visits if v.person_id == people[who].id
                ]
                day = max(0, max(hers, default=0) + gap)
                visit = Visit(
                    id=uuid.uuid4(),
                    person_id=people[who].id,
                    author_id=officers[day % 2],
                    kind=kind,
                    occurred_at=START + timedelta(days=day),
                    failure_reason="no_answer" if kind == "attempt" else None,
                )
                db.add(visit)
                visits.append(visit)
            case ("move", which, day, kind) if visits:
                visit = visits[which % len(visits)]
                visit.occurred_at = START + timedelta(days=day)
                visit.kind, visit.version = kind, visit.version + 1
                visit.failure_reason = "no_answer" if kind == "attempt" else None
                db.add(visit)
            case ("delete", which) if visits:
                db.flush()
                db.delete(visits.pop(which % len(visits)))
            case ("release", who, day):
                people[who].release_date = date(2025, 1, 1) + timedelta(days=day)
                db.add(people[who])
            case ("commit",):
                assert differences(db) == []
    assert differences(db) == []
    for visit in visits:
        db.delete(visit)
    db.commit()
    for person in people:
        db.delete(person)
    db.commit()
    assert differences(db) == []


def test_check_tallies_reports_a_difference_and_fix_recounts(runner, db, unit, sync_officer):
    her = make_person(db, unit, sync_officer)
    db.add(
        Visit(
            id=uuid.uuid4(),
            person_id=her.id,
            author_id=sync_officer.id,
            kind="talk",
            occurred_at=datetime(2026, 6, 1, 2, tzinfo=UTC),
        )
    )
    db.commit()
    assert runner.invoke(args=["supervision", "check-tallies"]).exit_code == 0
    db.execute(update(ContactTally).values(contacts=ContactTally.contacts + 2))
    db.commit()
    answer = runner.invoke(args=["supervision", "check-tallies"])
    assert answer.exit_code == 1
    assert "contact_tally" in answer.output and "stored (3,), counted (1,)" in answer.output
    assert runner.invoke(args=["supervision", "check-tallies", "--fix"]).exit_code == 0
    assert runner.invoke(args=["supervision", "check-tallies"]).exit_code == 0
    assert contacts(db, unit) == 1


def test_a_bulk_statement_on_visits_must_say_it_recounts(db, unit, sync_officer):
    her = make_person(db, unit, sync_officer)
    row = {
        "id": uuid.uuid4(),
        "person_id": her.id,
        "author_id": sync_officer.id,
        "kind": "talk",
        "occurred_at": datetime(2026, 6, 1, 2, tzinfo=UTC),
    }
    with pytest.raises(RuntimeError, match="contact tallies"):
        db.execute(insert(Visit), [row])
    db.rollback()
    db.execute(insert(Visit).execution_options(contact_tallies="recount"), [row])
    recount(db.connection(), schedule_zone())
    assert contacts(db, unit) == 1 and differences(db) == []


def test_the_fresh_dashboard_reads_tallies_not_visits_whatever_the_people(
    db, unit, make_user, count_queries
):
    officer = make_user("officer1")
    supervisor = make_user("supervisor", role="supervisor")
    counted = {}
    for start, size in ((0, 5), (5, 40)):
        for n in range(start, size):
            person = Person(
                unit_id=unit.id,
                name=f"人{n}",
                release_date=date(2026, 1, 1),
                assigned_officer_id=officer.id,
            )
            db.add(person)
            db.flush()
            when = datetime(2026, 6, 1 + n % 10, 2, tzinfo=UTC)
            db.add(
                Visit(
                    id=uuid.uuid4(),
                    person_id=person.id,
                    author_id=officer.id,
                    kind="home_visit",
                    occurred_at=when,
                )
            )
        db.commit()
        forget_kept_figures()
        with count_queries() as statements:
            figures = unit_dashboard(db, supervisor, today=date(2026, 6, 15))
        assert figures.contacts_month == size
        counted[size] = statements
    forget_kept_figures()
    assert len(counted[5]) == len(counted[40])
    # the contact figures come from the tallies; `visit` is read only for its newest change
    # (the data version) and the flagged visits waiting for a contact
    on_visits = [s for s in counted[40] if " visit" in s]
    assert all("max(visit.updated_at)" in s or "risk_flags" in s for s in on_visits)
    assert any("contact_tally" in s for s in counted[40])
    assert any("on_time_tally" in s for s in counted[40])


def test_writers_at_once_add_to_the_same_tally_rows_without_losing_one(
    live_server, db, unit, sync_officer
):
    people = [make_person(db, unit, sync_officer, name=f"李{n}") for n in range(3)]
    phones = Writers(live_server, "officer1", count=8)
    url, headers = f"{live_server}/api/v1/sync/push", {"X-CSRFToken": phones.token}

    def send(n, session):
        # every writer's visits fall on the same keys (author, month, kind, days)
        batch = [
            create_item(people[k % 3], occurred_at=f"2026-06-{1 + k:02d}T0{n % 10}:30")
            for k in range(5)
        ]
        answer = session.post(url, json={"items": batch}, headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        return [r["status"] for r in answer.json()["results"]]

    for _round in range(ROUNDS):
        assert phones.race(send) == [["created"] * 5] * 8
    assert contacts(db, unit) == 40 * ROUNDS and differences(db) == []
