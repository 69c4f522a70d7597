"""The benchmark's data: one unit of 6,000 people (any database), or a city (PostgreSQL).

Both seeds end the same way: every person's standing is stored by the rules
(`refresh_due(everyone=True)`) and a sample is checked against them (`check_due`), so
the due lists read what the app itself would have stored.
"""

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from app import migrate
from app.accounts import hash_password
from app.auth.totp import set_secret
from app.due import CheckReport, check_due, refresh_due, schedule_today, schedule_zone
from app.models import Person, PushSubscription, Unit, User, Visit
from app.search_keys import name_search_keys
from app.supervision.recount import recount

OFFICERS = 50
PEOPLE_PER_OFFICER = 120
VISITS_PER_PERSON = 20
BUSY_VISITS = 150
PASSWORD = "bench-password"  # noqa: S105 - a throwaway database
SHAPE = (
    f"an officer keeps {PEOPLE_PER_OFFICER} people, the ledger holds {BUSY_VISITS} visits, "
    f"the supervisor's unit {OFFICERS * PEOPLE_PER_OFFICER:,} people"
)
TOTP_SECRET = "BENCHSECRETOFCLOVERSBENCHRUNS222"  # the supervisor's second factor (base32)


# fixed secrets, so a database seeded by one run (`--reuse`) is read by the next
BENCH_ENV = {
    "CLOVER_ENV": "testing",
    "SECRET_KEY": "bench-secret-key-" + "x" * 32,
    "CLOVER_DATA_KEY": "Y2xvdmVyLWJlbmNoLWRhdGEta2V5LTAxMjM0NTY3ODk=",
    "CLOVER_HASH_KEY": "bench-hash-key-" + "h" * 32,
}


@dataclass
class World:
    officer: str
    supervisor: str
    busy_person: uuid.UUID
    search: str  # what the officer types in the people search
    shape: str = ""  # what the pages hold, said above the table
    people: int = 0
    visits: int = 0
    users: int = 0
    check: CheckReport | None = None
    password: str = PASSWORD
    totp_secret: str = TOTP_SECRET
    notes: dict = field(default_factory=dict)


def stable_id(kind: str, number: int) -> uuid.UUID:
    """The same id in every run, and the same as PostgreSQL's `md5(kind || '-' || n)::uuid`."""
    return uuid.UUID(hashlib.md5(f"{kind}-{number}".encode()).hexdigest())  # noqa: S324


def subscription_rows(user_ids: list[uuid.UUID], now: datetime) -> list[dict]:
    """One push subscription per user: reminder planning reaches whoever has one."""
    return [
        {
            "id": stable_id("subscription", n),
            "user_id": user_id,
            "endpoint": f"https://push.bench.invalid/{n}",
            "p256dh": "B" + "A" * 86,
            "auth": "A" * 22,
            "label": "Android · Chrome",
            "created_at": now,
        }
        for n, user_id in enumerate(user_ids)
    ]


def store_standings(app, *, today: date) -> CheckReport:
    """Store everyone's standing by the rules and count the contact tallies from the visits
    written in bulk, then check a sample of standings against the rules."""
    engine = app.extensions["clover_engine"]
    with app.app_context(), Session(engine) as session:
        recount(session.connection(), schedule_zone())
        session.commit()
        refresh_due(session, today=today, everyone=True)
        return check_due(session, today=today, sample=200)


def enrol_supervisors(app, usernames: list[str]) -> None:
    """Supervisors sign in with a second factor: enrol them with the bench's secret."""
    engine = app.extensions["clover_engine"]
    now = datetime.now(UTC)
    with app.app_context(), Session(engine) as session:
        for user in session.query(User).filter(User.username.in_(usernames)):
            set_secret(session, user, TOTP_SECRET, now=now)
        session.commit()


DIRECTOR = "bench-director"


def ensure_director(app) -> str:
    """A director of the bureau (every unit's figures), enrolled with the bench's secret."""
    from app.accounts import create_user

    engine = app.extensions["clover_engine"]
    with app.app_context(), Session(engine) as session:
        if session.query(User).filter(User.username == DIRECTOR).first() is None:
            create_user(
                session,
                username=DIRECTOR,
                display_name="局领导",
                password=PASSWORD,
                role="director",
                unit_id=None,
                environment="testing",
            )
            session.commit()
    enrol_supervisors(app, [DIRECTOR])
    return DIRECTOR


def seed(app) -> World:
    """6,000 people and about 120,000 visits in one unit."""
    rng = random.Random(1)
    engine = app.extensions["clover_engine"]
    migrate.upgrade(engine)  # the schema a deployment has, server defaults and all
    now = datetime.now(UTC)
    with app.app_context():
        today = schedule_today()
    password_hash = hash_password(PASSWORD)
    unit = Unit(id=stable_id("unit", 0), name="bench")
    users = [
        dict(
            id=stable_id("user", n),
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
            id=stable_id("user", OFFICERS),
            username="supervisor",
            display_name="负责人",
            role="supervisor",
            unit_id=unit.id,
            password_hash=password_hash,
        )
    )
    people, visits = [], []
    for index in range(OFFICERS * PEOPLE_PER_OFFICER):
        person_id = stable_id("person", index)
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
        for number in range(count):
            visits.append(
                dict(
                    id=stable_id(f"visit-{index}", number),
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
            # written in bulk, then counted into the contact tallies at once (store_standings)
            bulk = insert(Visit).execution_options(contact_tallies="recount")
            session.execute(bulk, visits[start : start + 20_000])
        session.execute(insert(PushSubscription), subscription_rows([u["id"] for u in users], now))
        session.commit()
    enrol_supervisors(app, ["supervisor"])
    check = store_standings(app, today=today)
    return World(
        officer="officer0",
        supervisor="supervisor",
        busy_person=people[0]["id"],
        search=people[0]["search_keys"].split()[-1],  # her pinyin initials, as officers type
        shape=SHAPE,
        people=len(people),
        visits=len(visits),
        users=len(users),
        check=check,
    )
