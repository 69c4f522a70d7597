"""A visit recording a self-harm risk alerts the unit's supervisors at once, with no detail."""

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.accounts import create_unit
from app.models import AuditEvent, Person, Reminder, RiskFlag, Visit
from app.signals import visit_recorded
from app.types import utcnow


@pytest.fixture
def unit_people(make_user, db):
    officer = make_user("officer1", display_name="陈雪梅")
    supervisor = make_user("supervisor", role="supervisor", display_name="李静")
    # the alert goes at once by the real clock: no quiet hours, whatever time the suite runs
    supervisor.quiet_start = supervisor.quiet_end = ""
    db.add(supervisor)
    db.commit()
    person = Person(
        unit_id=officer.unit_id,
        name="张晓梅",
        address="重庆市渝中区民族路 8 号",
        status="active",
        assigned_officer_id=officer.id,
    )
    db.add(person)
    db.commit()
    return officer, supervisor, person


def record_visit(db, person, author, flags):
    visit = Visit(
        id=uuid.uuid4(),
        person_id=person.id,
        author_id=author.id,
        kind="home_visit",
        occurred_at=utcnow(),
        risk_flags=flags,
        notes="她说最近有轻生的念头",
    )
    db.add(visit)
    db.commit()
    return visit


def send_signal(app, db, visit, author):
    """What the visit write path does after commit; returns the delivery thread, if any."""
    with app.app_context():
        results = visit_recorded.send(visit, session=db, user=author)
    threads = [value for _receiver, value in results if value is not None]
    for thread in threads:
        thread.join(timeout=30)
    return threads


def test_supervisor_alerted_at_once_without_personal_detail(
    push_app, db, unit_people, subscribe, push_service, make_user
):
    officer, supervisor, person = unit_people
    browser = subscribe(supervisor)
    subscribe(officer)  # the officer who recorded it is not alerted
    subscribe(make_user("officer2"))  # nor another officer
    elsewhere = create_unit(db, name="另一个工作室")
    db.commit()
    subscribe(make_user("supervisor2", role="supervisor", unit_id=elsewhere.id))  # nor another unit
    visit = record_visit(db, person, officer, [RiskFlag.self_harm, RiskFlag.no_income])

    assert len(send_signal(push_app, db, visit, officer)) == 1

    [received] = push_service.received
    assert received.path == browser.path
    assert received.payload == {
        "title": "三叶草：需要您立即处理",
        "body": "刚有一次回访记录了高风险，请今天查看。",
        "url": f"/people/{person.id}",
        "tag": f"alert-{visit.id}",
    }
    text = str(received.payload)
    assert "张晓梅" not in text and "民族路" not in text and "轻生" not in text
    assert received.headers["urgency"] == "high"
    db.expire_all()
    [alert] = db.exec(select(Reminder)).all()
    assert (alert.kind, alert.status, alert.user_id) == ("alert", "sent", supervisor.id)
    audit = db.exec(select(AuditEvent).where(AuditEvent.action == "risk_alert")).one()
    assert audit.person_id == person.id and audit.user_id == officer.id


def test_the_same_visit_signalled_again_alerts_nobody_twice(
    push_app, db, unit_people, subscribe, push_service
):
    officer, supervisor, person = unit_people
    subscribe(supervisor)
    visit = record_visit(db, person, officer, [RiskFlag.self_harm])
    send_signal(push_app, db, visit, officer)
    assert send_signal(push_app, db, visit, officer) == []
    assert len(push_service.received) == 1


def test_a_visit_without_self_harm_alerts_nobody(
    push_app, db, unit_people, subscribe, push_service
):
    officer, supervisor, person = unit_people
    subscribe(supervisor)
    visit = record_visit(db, person, officer, [RiskFlag.relapse_signs])
    assert send_signal(push_app, db, visit, officer) == []
    assert db.exec(select(Reminder)).all() == []


def test_an_alert_in_quiet_hours_waits_for_them_to_end(
    push_app, db, unit_people, subscribe, push_service, sender
):
    officer, supervisor, person = unit_people
    now = utcnow().astimezone(ZoneInfo(supervisor.timezone))
    supervisor.quiet_start = (now - timedelta(hours=1)).strftime("%H:%M")
    supervisor.quiet_end = (now + timedelta(hours=1)).strftime("%H:%M")
    db.add(supervisor)
    db.commit()
    subscribe(supervisor)
    visit = record_visit(db, person, officer, [RiskFlag.self_harm])

    send_signal(push_app, db, visit, officer)
    assert push_service.received == []
    db.expire_all()
    assert db.exec(select(Reminder.status)).one() == "pending"

    # the digest and heads-up may be worked out too, depending on the hour: count alerts only
    assert sender(utcnow() + timedelta(minutes=30))[("alert", "sent")] == 0  # still quiet
    assert sender(utcnow() + timedelta(hours=1, minutes=1))[("alert", "sent")] == 1
    assert sender(utcnow() + timedelta(hours=2))[("alert", "sent")] == 0
    alerts = [r.payload for r in push_service.received if r.payload["tag"].startswith("alert")]
    assert [alert["tag"] for alert in alerts] == [f"alert-{visit.id}"]


def test_a_flag_someone_else_recorded_alerts_her_case_officer_too(
    push_app, db, unit_people, subscribe, push_service, make_user
):
    officer, supervisor, person = unit_people
    officer.quiet_start = officer.quiet_end = ""
    db.add(officer)
    db.commit()
    helper = make_user("helper1", role="peer_helper")
    person.peer_helper_id = helper.id
    db.add(person)
    db.commit()
    at_supervisor, at_officer = subscribe(supervisor), subscribe(officer)
    subscribe(helper)  # the helper who recorded it is not alerted
    visit = record_visit(db, person, helper, [RiskFlag.self_harm])

    assert len(send_signal(push_app, db, visit, helper)) == 1

    assert sorted(r.path for r in push_service.received) == sorted(
        [at_supervisor.path, at_officer.path]
    )
    assert all("张晓梅" not in str(r.payload) for r in push_service.received)
    db.expire_all()
    alerted = {r.user_id for r in db.exec(select(Reminder).where(Reminder.kind == "alert"))}
    assert alerted == {supervisor.id, officer.id}
