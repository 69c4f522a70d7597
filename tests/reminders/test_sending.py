"""The sender: who gets what when, in her time zone and outside quiet hours, and only once."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.models import Reminder, Visit
from app.reminders import sending
from tests.reminders.conftest import CHONGQING_EIGHT, TODAY, senders_at_once

MINUTE = timedelta(minutes=1)


@pytest.fixture
def officer(make_user):
    return make_user("officer1", timezone="Asia/Chongqing")


def ledger(db) -> list[tuple]:
    db.expire_all()
    rows = db.exec(select(Reminder).order_by(Reminder.kind))
    return [(r.kind, r.day, r.status) for r in rows]


def test_digest_at_eight_in_chongqing_not_a_minute_before(
    officer, due_person, subscribe, push_service, sender, db
):
    due_person(officer)
    subscribe(officer)
    assert sender(CHONGQING_EIGHT - MINUTE) == {}  # 07:59 there
    assert sender(CHONGQING_EIGHT) == {("digest", "sent"): 1}
    assert ledger(db) == [("digest", TODAY, "sent")]


def test_each_officer_at_eight_in_her_own_time_zone(
    officer, make_user, due_person, subscribe, push_service, sender
):
    in_utc = make_user("officer2", timezone="UTC")
    for user in (officer, in_utc):
        due_person(user)
        subscribe(user)
    sender(CHONGQING_EIGHT)
    assert len(push_service.received) == 1  # midnight in UTC: officer2 sleeps on
    assert sender(CHONGQING_EIGHT + timedelta(hours=8)) == {("digest", "sent"): 1}
    assert len(push_service.received) == 2


def test_her_own_reminder_time(officer, due_person, subscribe, push_service, sender, db):
    officer.reminder_time = "09:30"
    db.add(officer)
    db.commit()
    due_person(officer)
    subscribe(officer)
    assert sender(CHONGQING_EIGHT + timedelta(minutes=89)) == {}
    assert sender(CHONGQING_EIGHT + timedelta(minutes=90)) == {("digest", "sent"): 1}


def test_quiet_hours_hold_a_reminder_until_they_end(
    officer, due_person, subscribe, push_service, sender, db
):
    officer.quiet_start, officer.quiet_end = "07:00", "09:00"
    db.add(officer)
    db.commit()
    due_person(officer)
    subscribe(officer)
    assert sender(CHONGQING_EIGHT) == {}
    assert sender(CHONGQING_EIGHT + timedelta(minutes=59)) == {}
    assert push_service.received == []
    assert sender(CHONGQING_EIGHT + timedelta(hours=1)) == {("digest", "sent"): 1}


def test_running_twice_or_late_sends_once(officer, due_person, subscribe, push_service, sender, db):
    due_person(officer)
    subscribe(officer)
    assert sender(CHONGQING_EIGHT + timedelta(hours=3)) == {("digest", "sent"): 1}  # late
    assert sender(CHONGQING_EIGHT + timedelta(hours=3)) == {}
    assert sender(CHONGQING_EIGHT + timedelta(hours=5)) == {}
    assert len(push_service.received) == 1
    # the next morning is a new day
    assert sender(CHONGQING_EIGHT + timedelta(days=1)) == {("digest", "sent"): 1}


def test_two_senders_at_the_same_moment_send_each_reminder_once(
    app, make_user, due_person, subscribe, push_service, sender, monkeypatch
):
    officers = [make_user(f"officer{n}", timezone="Asia/Chongqing") for n in range(4)]
    for user in officers:
        due_person(user)
        subscribe(user)
    # both senders work out the same four digests, then race to claim them
    both_planned = threading.Barrier(2, timeout=30)
    plans = []
    waited = threading.local()

    def plan_and_count(*args, **kwargs):
        planned = sending_plan(*args, **kwargs)
        plans.append(len(planned))
        return planned

    def claim_after_both_planned(*args, **kwargs):
        # the planning transaction has ended (SQLite allows one writer at a time)
        if not getattr(waited, "done", False):
            waited.done = True
            both_planned.wait()
        return sending_claim(*args, **kwargs)

    sending_plan, sending_claim = sending.plan_reminders, sending.claim
    monkeypatch.setattr(sending, "plan_reminders", plan_and_count)
    monkeypatch.setattr(sending, "claim", claim_after_both_planned)

    results = senders_at_once(app, sender, CHONGQING_EIGHT)
    assert plans == [4, 4]
    assert sum(result[("digest", "sent")] for result in results) == 4
    assert len(push_service.received) == 4
    assert len({received.path for received in push_service.received}) == 4


def test_the_database_refuses_a_second_row_for_the_same_reminder(officer, db):
    db.add(Reminder(user_id=officer.id, kind="digest", day=TODAY))
    db.commit()
    db.add(Reminder(user_id=officer.id, kind="digest", day=TODAY))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_nothing_due_sends_nothing_and_is_worked_out_once(
    officer, due_person, subscribe, push_service, sender, db, count_queries
):
    due_person(officer, due_in=5)  # upcoming, not due
    subscribe(officer)
    assert sender(CHONGQING_EIGHT) == {("digest", "nothing_due"): 1}
    with count_queries() as queries:
        assert sender(CHONGQING_EIGHT + timedelta(minutes=5)) == {}
    assert len(queries) == 3  # reachable users, today's ledger, pending alerts: no due list
    assert push_service.received == []


def test_evening_heads_up_counts_tomorrows_home_visits(
    officer, due_person, subscribe, push_service, sender, db
):
    due_person(officer, due_in=1, home_visit=True)
    due_person(officer, due_in=1, home_visit=True)
    due_person(officer, due_in=1)  # a phone call tomorrow: not a home visit
    due_person(officer, due_in=3, home_visit=True)  # not tomorrow
    agreed = due_person(officer, due_in=-20)  # last contact agreed to meet tomorrow
    db.add(
        Visit(
            id=uuid.uuid4(),
            person_id=agreed.id,
            author_id=officer.id,
            kind="phone_consultation",
            occurred_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
            next_contact_on=TODAY + timedelta(days=1),
        )
    )
    db.commit()
    subscribe(officer)
    evening = CHONGQING_EIGHT + timedelta(hours=10)  # 18:00 in Chongqing
    assert sender(evening) == {("digest", "nothing_due"): 1, ("evening", "sent"): 1}
    [received] = push_service.received
    assert received.payload["body"] == "明日家访 3 人"
    assert received.payload["url"] == "/"
    assert int(received.headers["ttl"]) == 12 * 60 * 60


def test_admins_and_inactive_users_get_no_reminders(
    make_user, due_person, subscribe, push_service, sender, db
):
    admin = make_user("admin", role="admin", timezone="Asia/Chongqing")
    gone = make_user("officer9", timezone="Asia/Chongqing")
    due_person(gone)
    gone.active = False
    db.add(gone)
    db.commit()
    subscribe(admin)
    subscribe(gone)
    assert sender(CHONGQING_EIGHT) == {}
    assert push_service.received == []


def test_cli_sends_and_reports(app, runner, officer, due_person, subscribe, push_service, push_app):
    due_person(officer)
    subscribe(officer)
    result = runner.invoke(args=["reminders", "send", "--at", "2026-03-03T08:00+0800"])
    assert result.exit_code == 0, result.output
    assert "digest: 1 sent" in result.output
    again = runner.invoke(args=["reminders", "send", "--at", "2026-03-03T08:05+0800"])
    assert "nothing to send now" in again.output
    assert len(push_service.received) == 1
