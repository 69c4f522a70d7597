"""A small world with known answers for the report and export tests: May 2026, Shanghai time.

Unit A (测试工作室): a supervisor, two officers, a peer helper, five people; unit B
(另一个工作室): an officer and one person. Each visit below says why it counts or not;
EXPECTED_A and EXPECTED_B are the figures worked out by hand.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

from app.accounts import create_unit
from app.models import Consent, Person, StatusChange, Unit, User, Visit

A_NAMES = ["张晓梅", "刘芳", "黄丽", "周敏", "吴静"]
B_NAMES = ["孙红"]
PERSON_NAMES = A_NAMES + B_NAMES


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# the figures of May 2026, by hand; follow-ups by kind in FOLLOW_UP_KINDS order:
# phone, home visit, training, family therapy, parent-child, talk, check-in, follow-up,
# group counselling
EXPECTED_A = {
    "by_kind": [1, 2, 1, 1, 0, 1, 2, 1, 0],
    "attempts": 2,
    "people_reached": 4,
    "applications": 1,
    "consents_withdrawn": 0,
    "released": 4,
    "first_contact_in_time": 2,
    "lost_contact": 1,
    "risk_raised": {"self_harm": 1, "family_conflict": 1, "no_income": 1, "relapse_signs": 1,
                    "health_problem": 1, "no_housing": 0},
    "risk_handled": {"self_harm": 1, "family_conflict": 1, "no_income": 0, "relapse_signs": 0,
                     "health_problem": 1, "no_housing": 0},
    "helpers_active": 1,
    "helper_talks": 1,
    "helper_check_ins": 2,
}  # fmt: skip
EXPECTED_B = {
    "by_kind": [1, 0, 0, 0, 0, 1, 0, 0, 0],
    "attempts": 0,
    "people_reached": 1,
    "applications": 1,
    "consents_withdrawn": 1,
    "released": 1,
    "first_contact_in_time": 1,
    "lost_contact": 0,
    "risk_raised": dict.fromkeys(EXPECTED_A["risk_raised"], 0),
    "risk_handled": dict.fromkeys(EXPECTED_A["risk_raised"], 0),
    "helpers_active": 0,
    "helper_talks": 0,
    "helper_check_ins": 0,
}
# by who recorded them in unit A: 李警官 (officer1), 王主任 (the supervisor), 陈警官
# (officer2), then every peer helper's together
EXPECTED_BY_OFFICER = [
    ("李警官", [1, 2, 0, 0, 0, 0, 0, 0, 0]),
    ("王主任", [0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ("陈警官", [0, 0, 0, 1, 0, 0, 0, 1, 0]),
    (None, [0, 0, 0, 0, 0, 1, 2, 0, 0]),
]


@dataclass
class ReportWorld:
    unit: Unit
    other_unit: Unit
    users: dict[str, User]
    people: dict[str, Person]


def _visit(db, person, author, kind, at, **fields) -> Visit:
    visit = Visit(id=uuid.uuid4(), person_id=person.id, author_id=author.id, kind=kind,
                  occurred_at=at, **fields)  # fmt: skip
    db.add(visit)
    return visit


def add_people(db, unit, officer, count: int, *, visits_each: int = 3) -> None:
    """More people in the unit, each with a few May visits: only the sizes change."""
    for n in range(count):
        person = Person(unit_id=unit.id, name=f"额外{n}", status="active",
                        release_date=date(2026, 5, 1 + n % 28),
                        assigned_officer_id=officer.id)  # fmt: skip
        db.add(person)
        db.flush()
        for k in range(visits_each):
            _visit(db, person, officer, "phone_consultation", utc(2026, 5, 2 + k, 2),
                   risk_flags=["no_income"] if k == 0 else [])  # fmt: skip
        db.add(Consent(person_id=person.id, signed_on=date(2026, 5, 3), taken_by_id=officer.id))
        db.add(StatusChange(person_id=person.id, from_status="active", to_status="lost_contact",
                            effective_on=date(2026, 5, 9), author_id=officer.id))  # fmt: skip
    db.commit()


def build_world(db, unit, make_user) -> ReportWorld:
    """The world of the module docstring (the test modules' `report_world` fixture)."""
    other = create_unit(db, name="另一个工作室")
    db.commit()
    # English headers in the tests' files; one test reads them in Chinese
    make = partial(make_user, locale="en")
    users = {
        "supervisor": make("sup1", role="supervisor", display_name="王主任"),
        "officer1": make("officer1", display_name="李警官"),
        "officer2": make("officer2", display_name="陈警官"),
        "helper": make("helper1", role="peer_helper", display_name="互助员小周"),
        "officer_b": make("officer_b", display_name="赵警官", unit_id=other.id),
        "supervisor_b": make("sup2", role="supervisor", unit_id=other.id),
        "director": make("director", role="director", display_name="局领导"),
        "admin": make("admin", role="admin"),
    }
    o1, o2, helper, ob = (users[k] for k in ("officer1", "officer2", "helper", "officer_b"))

    def person(key, name, unit_, officer, release):
        p = Person(unit_id=unit_.id, name=name, status="active", release_date=release,
                   assigned_officer_id=officer.id, phone="1380013800" + str(len(people)),
                   id_number_tail="123" + str(len(people)),
                   address="重庆市渝中区某街道")  # fmt: skip
        db.add(p)
        people[key] = p
        return p

    people: dict[str, Person] = {}
    p1 = person("p1", "张晓梅", unit, o1, date(2025, 11, 1))
    p2 = person("p2", "刘芳", unit, o2, date(2026, 5, 1))
    p3 = person("p3", "黄丽", unit, o1, date(2026, 5, 20))
    p5 = person("p5", "周敏", unit, o1, date(2026, 5, 20))
    p6 = person("p6", "吴静", unit, o2, date(2026, 5, 25))
    p4 = person("p4", "孙红", other, ob, date(2026, 5, 28))
    db.flush()

    # p1: 23:30 local on 31 May counts in May; 00:30 local on 1 June does not
    _visit(db, p1, o1, "home_visit", utc(2026, 5, 10, 2),
           risk_flags=["self_harm", "family_conflict"])  # fmt: skip
    _visit(db, p1, o1, "phone_consultation", utc(2026, 5, 31, 15, 30), risk_flags=["no_income"])
    _visit(db, p1, o1, "home_visit", utc(2026, 5, 31, 16, 30))  # 1 June local: not May
    _visit(db, p1, o1, "attempt", utc(2026, 5, 20, 3), failure_reason="no_answer")
    _visit(db, p1, o1, "home_visit", utc(2026, 5, 21, 3), failure_reason="not_at_home")
    # p2: released 1 May, reached 00:10 local that day (30 April in UTC): in time, in May
    _visit(db, p2, o2, "family_therapy", utc(2026, 4, 30, 16, 10))
    _visit(db, p2, helper, "talk", utc(2026, 5, 5, 2))
    _visit(db, p2, helper, "online_check_in", utc(2026, 5, 6, 2), risk_flags=["health_problem"])
    _visit(db, p2, helper, "online_check_in", utc(2026, 5, 7, 2))
    _visit(db, p2, o2, "follow_up", utc(2026, 5, 15, 2))  # handles the health flag
    # p3: a contact before her release (12 May) is not a first contact after it
    _visit(db, p3, users["supervisor"], "psychological_training", utc(2026, 5, 12, 2),
           risk_flags=["relapse_signs"])  # fmt: skip
    _visit(db, p3, o1, "parent_child_counselling", utc(2026, 4, 30, 15))  # 23:00 local 30 April
    # p5: released 20 May, first reached 00:10 local on 28 May: day 8, too late
    _visit(db, p5, o1, "home_visit", utc(2026, 5, 27, 16, 10))
    # p6: released 25 May, reached 23:30 local on 1 June: day 7, in time (a June visit)
    _visit(db, p6, o2, "phone_consultation", utc(2026, 6, 1, 15, 30))
    # p4 (unit B): released 28 May, reached on 3 June: in time
    _visit(db, p4, ob, "phone_consultation", utc(2026, 5, 3, 2))
    _visit(db, p4, ob, "talk", utc(2026, 5, 4, 2))
    _visit(db, p4, ob, "home_visit", utc(2026, 6, 3, 2))

    # support applications: first versions signed in May count; p3's second version does not
    def consent(p, signed, version=1, withdrawn_at=None):
        db.add(Consent(person_id=p.id, version=version, signed_on=signed, taken_by_id=o1.id,
                       withdrawn_at=withdrawn_at))  # fmt: skip

    consent(p2, date(2026, 5, 10))
    consent(p3, date(2026, 4, 30))
    consent(p3, date(2026, 5, 15), version=2)
    consent(p1, date(2025, 10, 1), withdrawn_at=utc(2026, 5, 31, 16, 30))  # 1 June local
    consent(p4, date(2026, 5, 2), withdrawn_at=utc(2026, 5, 31, 15, 59))  # 23:59 local 31 May

    def status(p, to, day):
        db.add(StatusChange(person_id=p.id, from_status="active", to_status=to, effective_on=day,
                            author_id=o1.id))  # fmt: skip

    status(p1, "lost_contact", date(2026, 5, 20))
    status(p1, "lost_contact", date(2026, 5, 25))  # the same woman again: one person
    status(p3, "lost_contact", date(2026, 4, 30))
    status(p4, "active", date(2026, 5, 10))
    db.commit()
    return ReportWorld(unit=unit, other_unit=other, users=users, people=people)
