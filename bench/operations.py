"""The benchmark's operations beyond page renders: sync push and pull, reminder planning."""

import re
import statistics
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session, select

from app.models import OPEN_STATUSES, Person, User, Visit
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


def push_and_raw(
    app, client, world: World, count: int, rounds: int = ROUNDS
) -> tuple[float, float]:
    """Median seconds to push `count` new visits through the API, and to INSERT the same rows.

    The push goes in batches of the API's largest size; the raw INSERT takes the same
    rows as the push stores them (cleaned by the same function), in one statement and
    one commit.
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
    day = (datetime.now(ZoneInfo(zone)) - timedelta(days=1)).date().isoformat()
    pushes, raws = [], []
    for _ in range(rounds + 1):  # the first round warms up
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
        start = time.perf_counter()
        with Session(engine) as session:
            # the raw baseline: no tallies, no audit, no due standing
            session.execute(insert(Visit).execution_options(contact_tallies="recount"), rows)
            session.commit()
        raws.append(time.perf_counter() - start)
    return statistics.median(pushes[1:]), statistics.median(raws[1:])


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
