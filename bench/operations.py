"""The benchmark's operations beyond page renders: sync push and pull, reminder planning."""

import re
import statistics
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as clock
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session, select

from app import audit
from app.models import OPEN_STATUSES, AuditEvent, Person, User, Visit
from app.visits.fields import CONTENT_FIELDS, clean_visit
from bench.seed import World

ROUNDS = 5


def pull(client) -> dict:
    """A phone's first pull: every person of her caseload."""
    response = client.get("/api/v1/sync/pull")
    assert response.status_code == 200, response.status_code
    assert response.json["full"] and response.json["people"], response.json
    return response.json


def _items(people: list[uuid.UUID], count: int, day: str) -> list[dict]:
    """`count` new home visits, as a phone's outbox sends them, spread over her people."""
    items = []
    for n in range(count):
        visit_id = str(uuid.uuid4())
        data = {
            "id": visit_id,
            "person_id": str(people[n % len(people)]),
            "kind": "home_visit",
            "occurred_at": f"{day}T10:{n % 60:02d}",
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
        items.append(
            {
                "id": visit_id,
                "type": "visit.create",
                "record_id": visit_id,
                "base_version": None,
                "data": data,
            }
        )
    return items


def _audit_rows(visits: list[dict], head) -> list[dict]:
    """The audit rows a push writes for these new visits, chained after `head` (seq, hash)."""
    rows = [
        SimpleNamespace(
            id=uuid.uuid4(),
            at=visit["created_at"],
            user_id=visit["author_id"],
            action="visit_create",
            person_id=visit["person_id"],
            target_type="visit",
            target_id=str(visit["id"]),
            ip="127.0.0.1",
            user_agent="bench",
            details={"kind": visit["kind"], "version": 1},
        )
        for visit in visits
    ]
    audit.chain(rows, head)
    return [vars(row) for row in rows]


def _insert_raw(engine, rows: list[dict], *, audited: bool) -> float:
    """Seconds to INSERT these visit rows in one statement and commit; `audited`, with
    their audit rows chained in the same transaction."""
    start = time.perf_counter()
    with Session(engine) as session:
        # the raw baseline: no tallies, no due standing (and, unless audited, no audit)
        session.execute(insert(Visit).execution_options(contact_tallies="recount"), rows)
        if audited:  # the chain's head read (under its lock) as a push reads it
            session.execute(insert(AuditEvent), _audit_rows(rows, audit.chain_head(session)))
        session.commit()
    return time.perf_counter() - start


def push_and_raw(
    app, client, world: World, count: int, rounds: int = ROUNDS
) -> tuple[float, float, float]:
    """Median seconds to push `count` new visits through the API, to INSERT the same rows,
    and to INSERT them with their chained audit rows.

    The push goes in batches of the API's largest size; the raw INSERT takes the same
    rows as the push stores them (cleaned by the same function), in one statement and
    one commit. The audited INSERT is the floor under the push: the audit row every visit
    must have, with no other work.
    """
    from app.sync.push import MAX_ITEMS

    engine = app.extensions["clover_engine"]
    with Session(engine) as session:
        officer = session.exec(select(User).where(User.username == world.officer)).one()
        people = list(
            session.exec(
                select(Person.id)
                .where(
                    Person.assigned_officer_id == officer.id,
                    Person.status.in_(OPEN_STATUSES),
                    Person.consent_withdrawn_at.is_(None),
                    Person.id != world.busy_person,  # her ledger keeps its size for reruns
                )
                .order_by(Person.id)
            )
        )
        officer_id, zone = officer.id, officer.timezone
    html = client.get("/").text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    today = datetime.now(ZoneInfo(zone)).date()
    pushes, raws, floors = [], [], []
    for round_ in range(rounds + 1):  # the first round warms up
        # each round a later day, as a phone catching up sends what is newer than what is
        # stored: rounds on one day would each read back every visit the last ones stored
        day = (today - timedelta(days=rounds + 1 - round_)).isoformat()
        items = _items(people, count, day)
        start = time.perf_counter()
        for first in range(0, count, MAX_ITEMS):
            response = client.post(
                "/api/v1/sync/push",
                json={"items": items[first : first + MAX_ITEMS]},
                headers={"X-CSRFToken": token},
            )
            assert response.status_code == 200, response.status_code
            statuses = {r["status"] for r in response.json["results"]}
            assert statuses == {"created"}, response.json["results"][0]
        pushes.append(time.perf_counter() - start)
        rows = []
        for item in items:
            clean, errors = clean_visit(
                item["data"], timezone=zone, now=datetime.now(ZoneInfo("UTC"))
            )
            assert not errors, errors
            now = datetime.now(ZoneInfo("UTC"))
            values = {name: clean[name] for name in CONTENT_FIELDS}
            rows.append(
                {
                    **values,
                    "id": uuid.uuid4(),
                    "author_id": officer_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        raws.append(_insert_raw(engine, rows, audited=False))
        again = [{**row, "id": uuid.uuid4()} for row in rows]
        floors.append(_insert_raw(engine, again, audited=True))
    return tuple(statistics.median(times[1:]) for times in (pushes, raws, floors))


def reminder_planning(app) -> tuple[float, int, int]:
    """Seconds for `flask reminders send`'s planning step over every user, at 18:30 local.

    At that hour both the morning digest and the evening heads-up are due for everyone,
    so each user's due list is worked out for both. Nothing is sent or saved.
    """
    from app.reminders.channels import build_channels, http_session
    from app.reminders.planning import plan_reminders, reachable_users

    engine = app.extensions["clover_engine"]
    zone = ZoneInfo(app.config["CLOVER_TIMEZONE"])
    now = datetime.combine(datetime.now(zone).date(), clock(18, 30), tzinfo=zone)
    with app.app_context(), http_session(1) as http, Session(engine) as session:
        channels = build_channels(app.config, http)
        users = len(reachable_users(session, channels))
        session.rollback()
        start = time.perf_counter()
        planned = plan_reminders(session, now=now.astimezone(ZoneInfo("UTC")), channels=channels)
        seconds = time.perf_counter() - start
        session.rollback()
    return seconds, users, len(planned)
