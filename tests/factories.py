"""Plain helpers that build people and visit data for the visit and Today tests."""

import uuid
from datetime import UTC, date, datetime, timedelta

from app.contract import commit
from app.models import Assignment, Consent, Person
from app.visits.service import record_visit

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 in Chongqing
TODAY = date(2026, 6, 15)


def make_person(db, unit, officer=None, *, name="张晓梅", **fields) -> Person:
    """A person released 200 days ago, assigned (with history) to `officer`.

    Paired with a peer helper (`peer_helper_id=`), she has agreed to a peer's contact.
    """
    fields.setdefault("release_date", TODAY - timedelta(days=200))
    fields.setdefault("status", "active")
    fields.setdefault("phone", "13800138000")
    person = Person(
        unit_id=unit.id,
        name=name,
        assigned_officer_id=officer.id if officer else None,
        **fields,
    )
    db.add(person)
    db.flush()
    if officer is not None:
        db.add(
            Assignment(
                person_id=person.id,
                user_id=officer.id,
                role="officer",
                started_at=NOW - timedelta(days=400),
            )
        )
    if person.peer_helper_id is not None:
        db.add(
            Consent(
                person_id=person.id,
                signed_on=TODAY - timedelta(days=300),
                consents={"follow_up_visits": True, "peer_contact": True},
                taken_by_id=officer.id if officer else person.peer_helper_id,
            )
        )
    db.commit()
    return person


def visit_data(person: Person, **fields) -> dict:
    """What a phone or the form sends for a home visit; override by keyword."""
    data = {
        "id": str(uuid.uuid4()),
        "person_id": str(person.id),
        "kind": "home_visit",
        "occurred_at": "2026-06-15T10:30",
        "duration_minutes": "45",
        "location": "home",
        "participants": ["mother"],
        "mood": "4",
        "craving": "2",
        "risk_flags": [],
        "help_given": ["emotional_support"],
        "difficulties": ["work"],
        "agreed_actions": "下周去社区报名技能培训",
        "notes": "入户面谈，情绪平稳。",
        "next_contact_on": "",
    }
    data.update(fields)
    return data


def save_visit(db, user, data: dict, now=None):
    """Record a visit through the write path and commit it, as the form does."""
    result = record_visit(session=db, user=user, data=data, now=now)
    commit(db)
    return result
