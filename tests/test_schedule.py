"""The schedule rules, as a table of cases, and the due list built on them."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from app.due import count_due, due_for_person, due_items, refresh_due
from app.models import Consent, Person, SupportPlan, Visit, default_cadence
from app.schedule import (
    ContactHistory,
    DueReason,
    DueState,
    due_status,
    interval_for,
    local_date,
)

TODAY = date(2026, 6, 15)
RELEASE = date(2026, 1, 1)
CADENCE = default_cadence()  # every 14 days to day 90, 30 to day 365, then 90


def days(n: int) -> timedelta:
    return timedelta(days=n)


@pytest.mark.parametrize(
    ("days_since_release", "every"),
    [(0, 14), (89, 14), (90, 30), (364, 30), (365, 90), (2000, 90)],
)
def test_cadence_phase_boundaries(days_since_release, every):
    assert interval_for(CADENCE, days_since_release) == every


CASES = [
    # name, status, withdrawn, release, history, expected (state, due_on, reason, overdue days)
    (
        "pre-release contact six months before release",
        "pre_release",
        False,
        TODAY + days(100),
        ContactHistory(),
        (DueState.overdue, TODAY + days(100) - days(180), DueReason.pre_release, 80),
    ),
    (
        "pre-release contact not yet due",
        "pre_release",
        False,
        TODAY + days(200),
        ContactHistory(),
        (DueState.upcoming, TODAY + days(20), DueReason.pre_release, 0),
    ),
    (
        "after the pre-release meeting, first contact after release",
        "pre_release",
        False,
        TODAY + days(30),
        ContactHistory(last_contact_on=TODAY - days(10)),
        (DueState.upcoming, TODAY + days(37), DueReason.first_contact, 0),
    ),
    (
        "first contact within 7 days of release",
        "active",
        False,
        TODAY - days(3),
        ContactHistory(),
        (DueState.upcoming, TODAY + days(4), DueReason.first_contact, 0),
    ),
    (
        "first contact due today",
        "active",
        False,
        TODAY - days(7),
        ContactHistory(),
        (DueState.due_today, TODAY, DueReason.first_contact, 0),
    ),
    (
        "first contact missed",
        "active",
        False,
        TODAY - days(10),
        ContactHistory(last_contact_on=TODAY - days(40)),
        (DueState.overdue, TODAY - days(3), DueReason.first_contact, 3),
    ),
    (
        "phase one: every 14 days",
        "active",
        False,
        RELEASE,
        ContactHistory(last_contact_on=RELEASE + days(30)),
        (DueState.overdue, RELEASE + days(44), DueReason.cadence, (TODAY - RELEASE).days - 44),
    ),
    (
        "last contact on day 89 still phase one",
        "active",
        False,
        TODAY - days(95),
        ContactHistory(last_contact_on=TODAY - days(6)),
        (DueState.upcoming, TODAY + days(8), DueReason.cadence, 0),
    ),
    (
        "last contact on day 90 is phase two",
        "active",
        False,
        TODAY - days(96),
        ContactHistory(last_contact_on=TODAY - days(6)),
        (DueState.upcoming, TODAY + days(24), DueReason.cadence, 0),
    ),
    (
        "after a year, every three months",
        "active",
        False,
        TODAY - days(500),
        ContactHistory(last_contact_on=TODAY - days(90)),
        (DueState.due_today, TODAY, DueReason.cadence, 0),
    ),
    (
        "an agreed next date wins over the cadence",
        "active",
        False,
        RELEASE,
        ContactHistory(last_contact_on=TODAY - days(2), next_planned_on=TODAY + days(3)),
        (DueState.upcoming, TODAY + days(3), DueReason.planned, 0),
    ),
    (
        "an agreed date before the last contact is stale",
        "active",
        False,
        TODAY - days(200),
        ContactHistory(last_contact_on=TODAY - days(2), next_planned_on=TODAY - days(5)),
        (DueState.upcoming, TODAY + days(28), DueReason.cadence, 0),
    ),
    (
        "failed attempts do not reset the clock",
        "active",
        False,
        TODAY - days(200),
        ContactHistory(last_contact_on=TODAY - days(40), failed_attempts_since=2),
        (DueState.overdue, TODAY - days(10), DueReason.cadence, 10),
    ),
    (
        "lost contact stays due",
        "lost_contact",
        False,
        TODAY - days(200),
        ContactHistory(last_contact_on=TODAY - days(100), failed_attempts_since=3),
        (DueState.overdue, TODAY - days(70), DueReason.cadence, 70),
    ),
    (
        "withdrawn consent is never due",
        "active",
        True,
        TODAY - days(200),
        ContactHistory(last_contact_on=TODAY - days(100)),
        (DueState.not_due, None, None, 0),
    ),
    (
        "closed is never due",
        "closed",
        False,
        TODAY - days(200),
        ContactHistory(),
        (DueState.not_due, None, None, 0),
    ),
    (
        "paused is never due",
        "paused",
        False,
        TODAY - days(200),
        ContactHistory(),
        (DueState.not_due, None, None, 0),
    ),
]


@pytest.mark.parametrize(
    ("status", "withdrawn", "release", "history", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_due_rules(status, withdrawn, release, history, expected):
    due = due_status(
        status=status,
        consent_withdrawn=withdrawn,
        release_date=release,
        cadence=CADENCE,
        history=history,
        today=TODAY,
    )
    assert (due.state, due.due_on, due.reason, due.days_overdue) == expected


@pytest.mark.parametrize(
    ("history", "release", "suggest"),
    [
        (ContactHistory(last_contact_on=TODAY - days(10), failed_attempts_since=3), RELEASE, True),
        (ContactHistory(last_contact_on=TODAY - days(10), failed_attempts_since=2), RELEASE, False),
        (ContactHistory(last_contact_on=TODAY - days(60)), RELEASE, True),
        (ContactHistory(last_contact_on=TODAY - days(59)), RELEASE, False),
        (ContactHistory(), TODAY - days(60), True),
        (ContactHistory(), TODAY + days(30), False),
    ],
)
def test_lost_contact_is_suggested(history, release, suggest):
    due = due_status(
        status="active",
        consent_withdrawn=False,
        release_date=release,
        cadence=CADENCE,
        history=history,
        today=TODAY,
        lost_contact_after_days=60,
    )
    assert due.suggest_lost_contact is suggest


@pytest.mark.parametrize(
    ("hours", "history", "expected"),
    [
        # flagged yesterday, a 14-day rhythm: due tomorrow, 48 hours after that day
        (48, ContactHistory(last_contact_on=TODAY - days(1), open_risk_on=TODAY - days(1)), 1),
        # a shorter rule of the unit; part of a day counts as a whole day
        (24, ContactHistory(last_contact_on=TODAY, open_risk_on=TODAY), 1),
        (30, ContactHistory(last_contact_on=TODAY, open_risk_on=TODAY), 2),
        # flagged five days ago and not followed: overdue, still a risk
        (48, ContactHistory(last_contact_on=TODAY - days(5), open_risk_on=TODAY - days(5)), -3),
        # an agreed date sooner than the risk rule stands, as a risk
        (
            48,
            ContactHistory(
                last_contact_on=TODAY, open_risk_on=TODAY, next_planned_on=TODAY + days(1)
            ),
            1,
        ),
    ],
)
def test_an_open_risk_brings_her_next_contact_forward(hours, history, expected):
    due = due_status(
        status="active",
        consent_withdrawn=False,
        release_date=RELEASE,
        cadence=CADENCE,
        history=history,
        today=TODAY,
        risk_follow_up_hours=hours,
    )
    assert (due.reason, due.due_on) == (DueReason.risk, TODAY + days(expected))


def test_already_lost_contact_is_not_suggested_again():
    due = due_status(
        status="lost_contact",
        consent_withdrawn=False,
        release_date=RELEASE,
        cadence=CADENCE,
        history=ContactHistory(failed_attempts_since=5),
        today=TODAY,
    )
    assert due.suggest_lost_contact is False


@pytest.mark.parametrize(
    ("moment", "zone", "day"),
    [
        (datetime(2026, 3, 1, 15, 30, tzinfo=UTC), "Asia/Chongqing", date(2026, 3, 1)),
        (datetime(2026, 3, 1, 16, 0, tzinfo=UTC), "Asia/Shanghai", date(2026, 3, 2)),
        (datetime(2026, 3, 1, 16, 0, tzinfo=UTC), "UTC", date(2026, 3, 1)),
    ],
)
def test_local_date(moment, zone, day):
    assert local_date(moment, zone) == day


# --- the due list, from the database ---


def _visit(person, author, when, **fields):
    return Visit(
        id=uuid.uuid4(),
        person_id=person.id,
        author_id=author.id,
        kind=fields.pop("kind", "home_visit"),
        occurred_at=when,
        **fields,
    )


@pytest.fixture
def caseload(db, unit, make_user):
    officer = make_user("officer1")
    today = date(2026, 6, 15)
    noon = datetime(2026, 6, 15, 4, tzinfo=UTC)  # 12:00 in Chongqing

    def person(name, release, **kwargs):
        p = Person(
            unit_id=unit.id,
            name=name,
            release_date=release,
            status="active",
            assigned_officer_id=officer.id,
            **kwargs,
        )
        db.add(p)
        db.flush()
        return p

    overdue = person("逾期", today - days(200))
    db.add(_visit(overdue, officer, noon - days(40)))
    due_today = person("今天", today - days(200))
    db.add(_visit(due_today, officer, noon - days(30)))
    # 23:30 local on the evening 30 days ago is that day, not the next: due today too
    late = person("深夜", today - days(200))
    db.add(_visit(late, officer, datetime(2026, 5, 16, 15, 30, tzinfo=UTC)))
    soon = person("下周", today - days(3))
    later = person("很久以后", today - days(200))
    db.add(_visit(later, officer, noon - days(1)))
    withdrawn = person("撤回", today - days(200), consent_withdrawn_at=noon - days(5))
    db.add(
        Consent(
            person_id=withdrawn.id,
            signed_on=today - days(300),
            taken_by_id=officer.id,
            withdrawn_at=noon - days(5),
        )
    )
    planned = person("约定", today - days(200))
    db.add(_visit(planned, officer, noon - days(2), next_contact_on=today + days(1)))
    db.add(
        SupportPlan(
            person_id=planned.id,
            author_id=officer.id,
            cadence=[{"until_day": None, "every_days": 7}],
        )
    )
    weekly = person("每周", today - days(200))
    db.add(_visit(weekly, officer, noon - days(7)))
    db.add(SupportPlan(person_id=weekly.id, author_id=officer.id, version=1))
    db.add(
        SupportPlan(
            person_id=weekly.id,
            author_id=officer.id,
            version=2,
            cadence=[{"until_day": None, "every_days": 7}],
        )
    )
    db.commit()
    return officer, today, soon


def test_due_list_orders_overdue_then_today_then_upcoming(db, caseload):
    officer, today, _ = caseload
    items = due_items(db, officer, today=today)
    assert [(i.person.name, i.due.state) for i in items] == [
        ("逾期", DueState.overdue),
        ("今天", DueState.due_today),
        ("每周", DueState.due_today),
        ("深夜", DueState.due_today),
        ("约定", DueState.upcoming),
        ("下周", DueState.upcoming),
    ]
    assert items[0].due.days_overdue == 10
    assert count_due(items).total_due == 4


def test_due_list_takes_a_fixed_number_of_queries(db, caseload, count_queries, unit):
    """One range query once standings are stored; one more for rows not yet worked out."""
    officer, today, _ = caseload
    with count_queries() as unworked:  # rows made behind the services' back
        first = due_items(db, officer, today=today)
    assert refresh_due(db, today=today) == 8
    with count_queries() as stored:
        assert due_items(db, officer, today=today) == first
    for n in range(20):
        p = Person(
            unit_id=unit.id,
            name=f"新{n}",
            release_date=today - days(100),
            status="active",
            assigned_officer_id=officer.id,
        )
        db.add(p)
        db.flush()
        db.add(_visit(p, officer, datetime(2026, 5, 1, tzinfo=UTC)))
    db.commit()
    with count_queries() as more_unworked:
        assert len(due_items(db, officer, today=today)) == 26
    refresh_due(db, today=today)
    with count_queries() as more_stored:
        assert len(due_items(db, officer, today=today)) == 26
    assert len(unworked) == len(more_unworked) == 2
    assert len(stored) == len(more_stored) == 1


def test_due_list_is_scoped_by_policy(db, caseload, make_user):
    _, today, _ = caseload
    other = make_user("officer2")
    assert due_items(db, other, today=today) == []


def test_failed_attempts_count_per_person_since_her_last_contact(db, unit, make_user):
    """Three failed attempts after her last contact suggest lost contact; others are untouched."""
    officer = make_user("officer1")
    today = date(2026, 6, 15)
    noon = datetime(2026, 6, 15, 4, tzinfo=UTC)
    unreachable = Person(
        unit_id=unit.id,
        name="失联",
        release_date=today - days(300),
        status="active",
        assigned_officer_id=officer.id,
    )
    reachable = Person(
        unit_id=unit.id,
        name="联系上",
        release_date=today - days(300),
        status="active",
        assigned_officer_id=officer.id,
    )
    db.add_all([unreachable, reachable])
    db.flush()
    db.add(_visit(unreachable, officer, noon - days(40)))
    for n in (30, 20, 10):
        db.add(
            _visit(unreachable, officer, noon - days(n), kind="attempt", failure_reason="no_answer")
        )
    # her colleague's later contact must not hide those attempts
    db.add(_visit(reachable, officer, noon - days(25)))
    db.add(_visit(reachable, officer, noon - days(1), kind="attempt", failure_reason="no_answer"))
    db.commit()
    items = {i.person.name: i for i in due_items(db, officer, today=today)}
    assert items["失联"].due.suggest_lost_contact is True
    assert items["失联"].due.due_on == today - days(10)  # attempts did not reset the clock
    assert items["联系上"].due.suggest_lost_contact is False


# a visit late in the evening counts on that local day, wherever the officer works
@pytest.mark.parametrize(
    ("occurred_at", "zone", "state"),
    [
        (datetime(2026, 5, 16, 15, 30, tzinfo=UTC), "Asia/Chongqing", DueState.due_today),
        (datetime(2026, 5, 16, 16, 30, tzinfo=UTC), "Asia/Chongqing", DueState.upcoming),
        (datetime(2026, 5, 16, 16, 30, tzinfo=UTC), "UTC", DueState.due_today),
        (datetime(2026, 5, 15, 16, 30, tzinfo=UTC), "Asia/Shanghai", DueState.due_today),
        (datetime(2026, 5, 15, 15, 59, tzinfo=UTC), "Asia/Shanghai", DueState.overdue),
    ],
)
def test_due_for_one_person_in_her_officers_time_zone(
    db, unit, make_user, occurred_at, zone, state
):
    officer = make_user("officer1")
    person = Person(unit_id=unit.id, name="张晓梅", release_date=TODAY - days(200), status="active")
    db.add(person)
    db.flush()
    db.add(_visit(person, officer, occurred_at))
    db.commit()
    assert due_for_person(db, person, today=TODAY, timezone=zone).state == state


def test_due_for_one_person_is_not_due_when_closed(db, unit):
    person = Person(unit_id=unit.id, name="结案", status="closed", release_date=TODAY - days(9))
    db.add(person)
    db.commit()
    assert due_for_person(db, person, today=TODAY, timezone="Asia/Shanghai").state == (
        DueState.not_due
    )
