"""A large unit for benchmarks, inserted in bulk."""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

from app.accounts import hash_password
from app.models import Person, Unit, User, Visit
from app.search_keys import name_search_keys

OFFICERS = 50
PEOPLE_PER_OFFICER = 120
VISITS_PER_PERSON = 20
BUSY_VISITS = 150
PASSWORD = "bench-password"  # noqa: S105 - a throwaway database


@dataclass
class World:
    officer: str
    supervisor: str
    busy_person: uuid.UUID
    password: str = PASSWORD


def seed(app) -> World:
    """6,000 people and about 120,000 visits in one unit."""
    rng = random.Random(1)
    engine = app.extensions["clover_engine"]
    SQLModel.metadata.create_all(engine)
    now = datetime.now(UTC)
    today = date.today()
    password_hash = hash_password(PASSWORD)
    unit = Unit(name="bench")
    users = [
        dict(
            id=uuid.uuid4(),
            username=f"officer{n}",
            display_name=f"警官{n}",
            role="officer",
            unit_id=unit.id,
            password_hash=password_hash,
        )
        for n in range(OFFICERS)
    ]
    users.append(
        dict(
            id=uuid.uuid4(),
            username="supervisor",
            display_name="负责人",
            role="supervisor",
            unit_id=unit.id,
            password_hash=password_hash,
        )
    )
    people, visits = [], []
    for index in range(OFFICERS * PEOPLE_PER_OFFICER):
        person_id = uuid.uuid4()
        name = rng.choice("王李张刘陈杨黄赵") + rng.choice("晓丽秀红") + rng.choice("梅娟英霞")
        people.append(
            dict(
                id=person_id,
                unit_id=unit.id,
                name=name,
                search_keys=name_search_keys(name),
                phone=f"139{index:08d}",
                status="active",
                release_date=today - timedelta(days=rng.randint(10, 700)),
                assigned_officer_id=users[index % OFFICERS]["id"],
                created_at=now,
                updated_at=now,
            )
        )
        count = BUSY_VISITS if index == 0 else VISITS_PER_PERSON
        for _ in range(count):
            visits.append(
                dict(
                    id=uuid.uuid4(),
                    person_id=person_id,
                    author_id=users[index % OFFICERS]["id"],
                    kind="phone_consultation",
                    occurred_at=now - timedelta(days=rng.randint(1, 700)),
                    notes="电话回访，近况稳定。",
                    created_at=now,
                    updated_at=now,
                )
            )
    with Session(engine) as session:
        session.add(unit)
        session.commit()
        stamp = {"created_at": now, "updated_at": now}
        session.execute(insert(User), [{**u, **stamp} for u in users])
        session.execute(insert(Person), people)
        for start in range(0, len(visits), 20_000):
            session.execute(insert(Visit), visits[start : start + 20_000])
        session.commit()
    return World(officer="officer0", supervisor="supervisor", busy_person=people[0]["id"])
