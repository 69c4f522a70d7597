"""A sync push as one batch: each record read once, each person's due stored once."""

import uuid

from sqlmodel import select

from app import audit
from app.due import check_due, schedule_today
from app.models import AuditEvent, Person, Visit
from app.sync import push
from app.visits import service
from tests.factories import make_person
from tests.race import Writers
from tests.sync_world import contact_item, count, create_item, fresh


def _batch(people, size: int) -> list[dict]:
    """`size` new visits spread over these people, each on its own day."""
    return [
        create_item(
            people[n % len(people)],
            notes=f"第{n}次",
            occurred_at=f"2026-06-{1 + n % 28:02d}T10:30",
            next_contact_on=f"2026-07-{1 + n % 28:02d}",
        )
        for n in range(size)
    ]


def _split(statements: list[str]) -> tuple[int, list[str]]:
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    return len(inserts), [s for s in statements if s not in inserts]


def test_a_push_reads_each_record_once_whatever_its_size(
    db, unit, sync_officer, sync_phone, count_queries
):
    people = [make_person(db, unit, sync_officer) for _ in range(4)]
    postgres = db.bind.dialect.name == "postgresql"
    answers = {}
    for size in (5, 20):
        batch = _batch(people, size)
        with count_queries() as statements:
            assert sync_phone.statuses(batch) == ["created"] * size
        answers[size] = _split(statements)
    # new visits only: one INSERT of the visits, one of their audit rows and one upsert of
    # each contact tally; every other statement once per push: the user and her session,
    # the visits and the people named, their contacts as stored (for the tallies), the
    # audit chain's head, the people's history and one UPDATE of their standing (on
    # PostgreSQL, the chain's lock three times: queued for first, then taken again by the
    # tallies and by the chain)
    assert answers[5][0] == answers[20][0] == 4
    assert len(answers[20][1]) == 8 + 3 * postgres
    assert len(answers[5][1]) == len(answers[20][1])
    with count_queries() as statements:
        assert sync_phone.statuses(batch) == ["duplicate"] * 20
    # a resend: the user, her session, the visits and the people; nothing written
    assert len(statements) == 4 + postgres
    assert count(db, Visit) == 25
    assert count(db, AuditEvent, AuditEvent.action == "visit_create") == 25


def test_each_person_s_due_after_a_batch_follows_her_visits(db, unit, sync_officer, sync_phone):
    people = [make_person(db, unit, sync_officer) for _ in range(3)]
    batch = _batch(people, 20)
    assert sync_phone.statuses(batch) == ["created"] * 20
    today = schedule_today()
    assert check_due(db, today=today).differences == []
    for person in people:
        newest = max(
            v.occurred_at for v in db.exec(select(Visit).where(Visit.person_id == person.id))
        )
        assert fresh(db, Person, person.id).last_contact_at == newest


def test_a_batch_that_fails_as_a_whole_saves_each_item_on_its_own(
    db, unit, sync_officer, sync_phone, monkeypatch, caplog
):
    people = [make_person(db, unit, sync_officer) for _ in range(2)]
    batch = _batch(people, 6)

    def fails(*_args, **_kwargs):
        raise RuntimeError("the standing could not be stored")

    monkeypatch.setattr(service, "refresh_next_due_of", fails)
    assert sync_phone.statuses(batch) == ["created"] * 6
    assert "its items go again one by one" in caplog.text
    # once each, audited once each, the chain intact, her standing stored item by item
    ids = {uuid.UUID(item["id"]) for item in batch}
    assert {v.id for v in db.exec(select(Visit)).all()} == ids
    assert count(db, AuditEvent, AuditEvent.action == "visit_create") == 6
    assert audit.verify(db).finding is None
    assert check_due(db, today=schedule_today()).differences == []
    assert all(fresh(db, Person, p.id).last_contact_at is not None for p in people)


def test_a_failed_item_rolls_back_alone_inside_the_batch(
    db, unit, sync_officer, sync_phone, monkeypatch
):
    person = make_person(db, unit, sync_officer)
    batch = _batch([person], 4)
    apply_create = push.APPLY["visit.create"]

    def fail_on_the_third(session, user, item, now):
        result = apply_create(session, user, item, now)
        if str(item.id) == batch[2]["id"]:
            raise RuntimeError("mid-item")
        return result

    monkeypatch.setitem(push.APPLY, "visit.create", fail_on_the_third)
    assert sync_phone.statuses(batch) == ["created", "created", "error", "created"]
    kept = {str(v.id) for v in db.exec(select(Visit)).all()}
    assert kept == {batch[n]["id"] for n in (0, 1, 3)}
    assert count(db, AuditEvent, AuditEvent.action == "visit_create") == 3
    assert audit.verify(db).finding is None
    assert check_due(db, today=schedule_today()).differences == []


def test_batches_crossing_each_other_save_each_change_once_and_answer_every_item(
    db, unit, sync_officer, live_server
):
    # her lost contact ends with the first visit, and her phone is corrected: rows of
    # the person that both batches lock, taken in opposite orders
    lost = make_person(db, unit, sync_officer, status="lost_contact")
    other = make_person(db, unit, sync_officer)
    db.commit()
    batch = [
        *_batch([lost, other], 6),
        contact_item(lost, lost.version, phone="13900139000"),
    ]
    phones = Writers(live_server, "officer1", count=4)
    url, headers = f"{live_server}/api/v1/sync/push", {"X-CSRFToken": phones.token}

    def send(n, session):
        items = batch if n % 2 else batch[::-1]
        answer = session.post(url, json={"items": items}, headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        results = {r["id"]: r["status"] for r in answer.json()["results"]}
        return [results[item["id"]] for item in batch]

    answers = phones.race(send)
    for statuses in answers:
        assert set(statuses[:6]) <= {"created", "duplicate"}, statuses
        # a resent correction answers as it was answered first
        assert statuses[6] == "edited", statuses
    assert [sum(a[n] == "created" for a in answers) for n in range(6)] == [1] * 6
    assert count(db, Visit) == 6
    assert count(db, AuditEvent, AuditEvent.action == "visit_create") == 6
    assert count(db, AuditEvent, AuditEvent.action == "person_contact") == 1
    stored = fresh(db, Person, lost.id)
    assert (stored.status, stored.phone) == ("active", "13900139000")
    assert audit.verify(db).finding is None
    assert check_due(db, today=schedule_today()).differences == []


def test_phones_racing_with_the_same_new_visits_save_each_once(db, unit, sync_officer, live_server):
    # new visits only, written together by whichever batch goes first; the others queue
    # behind it for the audit chain, then find the visits stored and answer duplicate
    people = [make_person(db, unit, sync_officer) for _ in range(3)]
    db.commit()
    batch = _batch(people, 12)
    phones = Writers(live_server, "officer1", count=4)
    url, headers = f"{live_server}/api/v1/sync/push", {"X-CSRFToken": phones.token}

    def send(_n, session):
        answer = session.post(url, json={"items": batch}, headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        return [r["status"] for r in answer.json()["results"]]

    answers = phones.race(send)
    assert all(set(statuses) <= {"created", "duplicate"} for statuses in answers), answers
    assert [sum(a[n] == "created" for a in answers) for n in range(12)] == [1] * 12
    assert count(db, Visit) == 12
    assert count(db, AuditEvent, AuditEvent.action == "visit_create") == 12
    assert audit.verify(db).finding is None
    assert check_due(db, today=schedule_today()).differences == []


def test_new_visits_that_need_more_than_an_insert_go_item_by_item(
    db, unit, sync_officer, sync_phone
):
    # the same new visit twice in one batch, and a visit that ends her lost contact
    lost = make_person(db, unit, sync_officer, status="lost_contact")
    other = make_person(db, unit, sync_officer)
    db.commit()
    twice = create_item(other, notes="同一条")
    assert sync_phone.statuses([twice, create_item(other), twice]) == [
        "created",
        "created",
        "duplicate",
    ]
    assert sync_phone.statuses([create_item(other), create_item(lost)]) == ["created"] * 2
    assert fresh(db, Person, lost.id).status == "active"
    assert count(db, Visit) == 4
    assert count(db, AuditEvent, AuditEvent.action == "visit_create") == 4
    assert audit.verify(db).finding is None
    assert check_due(db, today=schedule_today()).differences == []
