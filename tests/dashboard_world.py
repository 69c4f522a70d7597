"""A small unit with known answers for the dashboard and city view tests: 15 June 2026.

Grace 3 days, the default cadence (every 14 days to day 90 after release, 30 to day 365,
then 90). The on-time window is the 90 days from 18 March to 15 June. Each visit says
what it counts for; EXPECTED holds the figures worked out by hand.
"""

import uuid
from datetime import UTC, date, datetime

from app.accounts import create_unit
from app.models import Person, Visit

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 4, tzinfo=UTC)  # noon in Shanghai


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at(day: str) -> datetime:
    """10:00 in Shanghai on that day."""
    y, m, d = map(int, day.split("-"))
    return utc(y, m, d, 2)


# hand-worked figures; on-time as (met, contacts in the window, overdue beyond grace now)
EXPECTED = {
    "by_status": {
        "pre_release": 1,
        "active": 2,
        "paused": 1,
        "lost_contact": 0,
        "relapse": 1,
        "closed": 1,
    },
    "by_phase": {"pre_release": 1, "days_0": 1, "days_90": 2, "days_365": 1, "unknown": 0},
    "due_today": 1,
    "overdue": 2,
    "due_week": 2,
    "contacts_month": 4,
    "officers": {
        # caseload, overdue, due this week, contacts this month, on time
        "陈雪梅": (2, 1, 1, 1, (3, 6, 1)),
        "刘芳": (3, 1, 1, 2, (2, 3, 0)),
        "杨丽华": (0, 0, 0, 0, (0, 0, 0)),
    },
    "unit_on_time": (6, 10, 1),
    # regular: reached and not overdue beyond grace (p2, p3) or paused (p6); p1 is 5 days late
    "funnel": [("enrolled", 6), ("released", 5), ("first_contact", 5), ("regular", 3),
               ("closed", 1)],
    "monthly": {"2026-01": 3, "2026-02": 1, "2026-03": 2, "2026-04": 3, "2026-05": 4,
                "2026-06": 4},
    "june": {"home_visit": 1, "talk": 2, "phone_consultation": 1},
    "risks": ["梁红", "王秀英"],  # self-harm first
}  # fmt: skip
NAMES = ["王秀英", "陈小燕", "梁红", "赵婷", "孙兰", "周琴"]


def build(db, make_user, unit):
    """The unit of the `unit` fixture with its people, and a second unit with one person."""
    unit.grace_days = 3
    db.add(unit)
    a = make_user("officer1", display_name="陈雪梅")
    b = make_user("officer2", display_name="刘芳")
    make_user("officer3", display_name="杨丽华")  # no caseload
    helper = make_user("helper1", role="peer_helper", display_name="周小燕")
    make_user("supervisor", role="supervisor", display_name="李静")

    def person(name, officer, status, release, due, last):
        p = Person(
            unit_id=unit.id,
            name=name,
            phone="13912345678",
            status=status,
            release_date=release,
            assigned_officer_id=officer.id if officer else None,
            next_due_on=due,
            last_contact_at=at(last) if last else None,
        )
        db.add(p)
        db.flush()
        return p

    def visit(p, author, when, kind="home_visit", **fields):
        moment = at(when) if isinstance(when, str) else when
        db.add(
            Visit(
                id=uuid.uuid4(),
                person_id=p.id,
                author_id=author.id,
                kind=kind,
                occurred_at=moment,
                created_at=moment,
                updated_at=moment,
                **fields,
            )
        )

    # day 165 after release (days 90-364), due 10 June: 5 days late, beyond grace
    p1 = person("王秀英", a, "active", date(2026, 1, 1), date(2026, 6, 10), "2026-05-16")
    visit(p1, a, "2026-01-06")  # before the window (first contact, on time)
    visit(p1, a, "2026-01-18")
    visit(p1, a, "2026-03-20")  # 61 days after day 17 (every 14 + 3): late
    visit(p1, a, "2026-04-15")  # 26 days after day 78 (14 + 3): late
    visit(p1, a, "2026-05-16", risk_flags=["relapse_signs"])  # 31 after day 104 (30 + 3): met
    visit(p1, a, "2026-06-01", kind="attempt", failure_reason="no_answer")  # no contact
    # day 45 (days 0-89), due today
    p2 = person("陈小燕", a, "active", date(2026, 5, 1), TODAY, "2026-06-10")
    visit(p2, a, "2026-04-20", kind="talk")  # before release: in the chart, not rated
    visit(p2, a, "2026-05-05")  # first contact, day 4 (7 + 3): met
    visit(p2, a, "2026-05-25")  # 20 days after day 4 (14 + 3): late
    visit(p2, a, "2026-06-08")  # 14 days after day 24: met
    visit(p2, helper, "2026-06-10", kind="talk")  # the helper's, 2 days after day 38: met
    # day 530 (day 365 on), due 13 June: overdue within grace
    p3 = person("梁红", b, "relapse", date(2025, 1, 1), date(2026, 6, 13), "2026-06-12")
    visit(p3, b, "2026-02-01")  # before the window
    visit(p3, b, "2026-05-01")  # 89 days after day 396 (90 + 3): met
    visit(p3, b, "2026-06-12", kind="phone_consultation", risk_flags=["self_harm"])  # met
    # before release, due this week; 01:30 on 1 June in Shanghai is June's
    p4 = person("赵婷", b, "pre_release", date(2026, 9, 1), date(2026, 6, 18), "2026-06-01")
    visit(p4, b, utc(2026, 5, 31, 17, 30), kind="talk")
    # closed, no officer: a self-harm flag never followed, but her ledger is closed
    p5 = person("孙兰", None, "closed", date(2024, 1, 1), None, "2026-01-10")
    visit(p5, a, "2026-01-10", risk_flags=["self_harm"])
    # paused, day 106
    p6 = person("周琴", b, "paused", date(2026, 3, 1), None, "2026-04-10")
    visit(p6, b, "2026-03-05")  # before the window
    visit(p6, b, "2026-04-10")  # 36 days after day 4 (14 + 3): late

    other = create_unit(db, name="另一个工作室")
    db.flush()
    stranger = make_user("officer9", display_name="吴警官", unit_id=other.id)
    make_user("supervisor9", role="supervisor", display_name="赵主任", unit_id=other.id)
    q = Person(
        unit_id=other.id,
        name="钱多多",
        status="active",
        release_date=date(2026, 4, 1),
        assigned_officer_id=stranger.id,
        next_due_on=date(2026, 6, 1),
        last_contact_at=at("2026-06-03"),
    )
    db.add(q)
    db.flush()
    visit(q, stranger, "2026-04-05")  # first contact on day 4: met
    visit(q, stranger, "2026-06-03")  # 59 days after day 4: late
    db.commit()
    return {"unit": unit, "other": other, "a": a, "b": b, "stranger": stranger, "q": q}
