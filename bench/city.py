"""A city on PostgreSQL: 100,000 people and about 10 million visits, seeded set-based.

Why this shape: a city bureau of 20 units (district stations), each with a supervisor and
50 officers who keep about 100 women each (1,000 officers, 5,000 people a unit), and
peer helpers paired with about five women each, so that officers, supervisors and peer
helpers make 20,000 users, every one with a push subscription: the reminder run plans
for all of them. Each woman has between 55 and 155 visits (one of them, the busy ledger,
400; BENCH_CITY_VISITS sets another average) spread from her release day to now, none
before release; one in five has not been seen for one to five months, so due lists hold
overdue people as a real caseload does. Most are active; some are before release, paused,
lost to contact or closed; six in ten agreed to a peer helper's contact.

Users come from Python (their defaults are the models'); people and visits from
`INSERT ... SELECT generate_series` inside PostgreSQL, with `setseed` so every run makes
the same rows, and ids `md5(kind-n)::uuid` (`bench.seed.stable_id`). The visit table's
secondary indexes are built after loading, and foreign-key triggers are off while it loads
(`session_replication_role`): the rows are generated from the people and users just
inserted, so there is nothing for them to catch.
"""

import os
import time
from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlmodel import Session

from app import migrate
from app.accounts import hash_password
from app.due import schedule_today
from app.models import PushSubscription, Unit, User, Visit
from app.search_keys import name_search_keys
from bench.seed import (
    PASSWORD,
    World,
    enrol_supervisors,
    stable_id,
    store_standings,
    subscription_rows,
)

UNITS = 20
OFFICERS_PER_UNIT = 50
PEOPLE_PER_OFFICER = 100
USERS = 20_000
HELPERS_PER_UNIT = (USERS - UNITS - UNITS * OFFICERS_PER_UNIT) // UNITS  # 949
BUSY_VISITS = 400
SHAPE = (
    f"an officer keeps {PEOPLE_PER_OFFICER} people, the ledger holds {BUSY_VISITS} visits, "
    f"a supervisor's unit {OFFICERS_PER_UNIT * PEOPLE_PER_OFFICER:,} people"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "晓丽秀红玉春海燕静敏"
LAST = "梅娟英霞芳兰萍洁琳慧"

PEOPLE_SQL = """
CREATE TEMP TABLE seed_people AS
SELECT i,
       md5('person-' || i)::uuid AS id,
       i / :per_officer AS officer,
       i / :per_unit AS unit,
       (i / :per_unit) * :helpers + (i % :per_unit) % :helpers AS helper,
       CASE WHEN r1 < 0.03 THEN 'closed' WHEN r1 < 0.05 THEN 'paused'
            WHEN r1 < 0.10 THEN 'pre_release' WHEN r1 < 0.13 THEN 'lost_contact'
            ELSE 'active' END AS status,
       CASE WHEN r1 >= 0.05 AND r1 < 0.10 THEN -1 - floor(r2 * 60)::int
            ELSE 30 + floor(r2 * 1770)::int END AS release_days,
       CASE WHEN r3 < 0.2 THEN 30 + floor(r3 * 600)::int ELSE 0 END AS lag,
       CASE WHEN i = 0 THEN :busy ELSE :fewest + (i * 37) % :spread END AS visits,
       r3 < 0.6 AS peer_contact
FROM (SELECT i, random() AS r1, random() AS r2, random() AS r3
      FROM generate_series(0, :people - 1) AS i) AS draws
"""
PERSON_INSERT = """
INSERT INTO person (id, version, unit_id, name, search_keys, phone, emergency_contacts,
    release_date, support_path, status, risk_level, assigned_officer_id, peer_helper_id,
    due_recheck_on, created_at, updated_at)
SELECT p.id, 1, md5('unit-' || p.unit)::uuid, n.name, n.keys, '139' || lpad(p.i::text, 8, '0'),
    '[]'::json, CURRENT_DATE - p.release_days, 'return_to_society', p.status, 'low',
    md5('user-' || (:supervisors + p.officer))::uuid,
    md5('user-' || (:supervisors + :officers + p.helper))::uuid,
    DATE '2000-01-01', now(), now()
FROM seed_people p JOIN seed_names n ON n.n = (p.i * 7919) % :names
"""
CONSENT_INSERT = """
INSERT INTO consent (id, person_id, version, signed_on, consents, help_requested,
    preferred_contact_times, taken_by_id, withdrawn_reason, created_at)
SELECT md5('consent-' || p.i)::uuid, p.id, 1, CURRENT_DATE - greatest(p.release_days, 0),
    json_build_object('follow_up_visits', true, 'phone_contact', true,
                      'peer_contact', p.peer_contact),
    '[]'::json, '工作日晚上', md5('user-' || (:supervisors + p.officer))::uuid, '', now()
FROM seed_people p
"""
VISIT_INSERT = """
INSERT INTO visit (id, version, person_id, author_id, kind, occurred_at, duration_minutes,
    location, participants, failure_reason, mood, craving, risk_flags, help_given,
    difficulties, agreed_actions, notes, next_contact_on, created_at, updated_at)
SELECT md5('visit-' || p.i || '-' || k)::uuid, 1, p.id,
    md5('user-' || (:supervisors + p.officer))::uuid,
    CASE WHEN f THEN 'attempt' WHEN k % 3 = 0 THEN 'home_visit' ELSE 'phone_consultation' END,
    at, CASE WHEN f THEN NULL ELSE 30 END,
    CASE WHEN k % 3 = 0 THEN 'home' ELSE 'phone' END, '[]'::json,
    CASE WHEN f THEN 'no_answer' END, CASE WHEN f THEN NULL ELSE 4 END,
    CASE WHEN f THEN NULL ELSE 1 END, '[]'::json, '[]'::json, '[]'::json, '',
    CASE WHEN f THEN '' ELSE '电话回访，近况稳定。' END, NULL, at, at
FROM seed_people p
CROSS JOIN LATERAL (
    SELECT k, random() < 0.08 AS f,
        now() - make_interval(secs => 86400 * (p.lag + (p.release_days - p.lag)
                                               * (k - random()) / p.visits)) AS at
    FROM generate_series(1, p.visits) AS k
) AS v
WHERE p.status <> 'pre_release' AND p.i % 2 = :half
"""


def _users(password_hash: str) -> list[dict]:
    users = []

    def add(role: str, username: str, display: str, unit: int) -> None:
        n = len(users)
        users.append(
            {
                "id": stable_id("user", n),
                "username": username,
                "display_name": display,
                "role": role,
                "unit_id": stable_id("unit", unit),
                "password_hash": password_hash,
            }
        )

    for unit in range(UNITS):
        add("supervisor", f"supervisor{unit}", f"负责人{unit}", unit)
    for officer in range(UNITS * OFFICERS_PER_UNIT):
        add("officer", f"officer{officer}", f"警官{officer}", officer // OFFICERS_PER_UNIT)
    for helper in range(UNITS * HELPERS_PER_UNIT):
        add("peer_helper", f"helper{helper}", f"同伴{helper}", helper // HELPERS_PER_UNIT)
    return users


def _names() -> list[tuple[int, str, str]]:
    names = [a + b + c for a in SURNAMES for b in GIVEN for c in LAST]
    return [(n, name, name_search_keys(name)) for n, name in enumerate(names)]


def seed_city(app, *, log=print) -> World:
    """Empty the database, then seed the city and store everyone's standing."""
    engine = app.extensions["clover_engine"]
    if engine.dialect.name != "postgresql":
        raise SystemExit(
            "the city seed needs PostgreSQL (BENCH_DATABASE_URL=postgresql+psycopg://...)"
        )
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(engine)  # the schema a deployment has, server defaults and all
    now = datetime.now(UTC)
    with app.app_context():
        today = schedule_today()
    users = _users(hash_password(PASSWORD))
    people = UNITS * OFFICERS_PER_UNIT * PEOPLE_PER_OFFICER
    numbers = {
        "per_officer": PEOPLE_PER_OFFICER,
        "per_unit": OFFICERS_PER_UNIT * PEOPLE_PER_OFFICER,
        "helpers": HELPERS_PER_UNIT,
        "busy": BUSY_VISITS,
        **_visits_each(),
        "people": people,
        "supervisors": UNITS,
        "officers": UNITS * OFFICERS_PER_UNIT,
    }
    names = _names()
    with Session(engine) as session:
        stamp = {"created_at": now, "updated_at": now}
        session.execute(
            insert(Unit),
            [
                {"id": stable_id("unit", u), "name": f"城区工作站{u + 1}", **stamp}
                for u in range(UNITS)
            ],
        )
        session.execute(insert(User), [{**u, **stamp} for u in users])
        session.execute(insert(PushSubscription), subscription_rows([u["id"] for u in users], now))
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        session.execute(text("SELECT setseed(0.17)"))
        session.execute(text("CREATE TEMP TABLE seed_names (n int, name text, keys text)"))
        session.execute(
            text("INSERT INTO seed_names VALUES (:n, :name, :keys)"),
            [{"n": n, "name": name, "keys": keys} for n, name, keys in names],
        )
        session.execute(text(PEOPLE_SQL), numbers)
        session.execute(text(PERSON_INSERT), {**numbers, "names": len(names)})
        session.execute(text(CONSENT_INSERT), numbers)
        # the visits' generating columns are kept for the two loaders below
        session.execute(text("CREATE TABLE bench_seed_people AS SELECT * FROM seed_people"))
        session.commit()
    log(f"  users, people, consents: {time.perf_counter() - started:.0f} s", flush=True)
    _load_visits(engine, numbers)
    log(f"  visits loaded and indexed: {time.perf_counter() - started:.0f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("DROP TABLE bench_seed_people"))
        connection.execute(text("ANALYZE"))
    enrol_supervisors(app, [f"supervisor{u}" for u in range(UNITS)])
    check = store_standings(app, today=today)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE person"))
        connection.execute(text("ANALYZE contact_tally, on_time_tally"))
        visits = connection.execute(text("SELECT count(*) FROM visit")).scalar_one()
    seconds = time.perf_counter() - started
    log(f"  standings stored and checked: {seconds:.0f} s", flush=True)
    return World(
        officer="officer0",
        supervisor="supervisor0",
        busy_person=stable_id("person", 0),
        search=names[0][2].split()[-1],
        shape=SHAPE,
        people=people,
        visits=visits,
        users=len(users),
        check=check,
        notes={"seed_seconds": seconds},
    )


def city_world(app) -> World:
    """The entry points of a city seeded before (`--reuse`): they are the same every time."""
    engine = app.extensions["clover_engine"]
    with engine.connect() as connection:
        people, visits, users = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM visit),"
                ' (SELECT count(*) FROM "user")'
            )
        ).one()
    return World(
        officer="officer0",
        supervisor="supervisor0",
        busy_person=stable_id("person", 0),
        search=_names()[0][2].split()[-1],
        shape=SHAPE,
        people=people,
        visits=visits,
        users=users,
    )


def _visits_each() -> dict:
    """55 to 155 visits a woman (about 10 million), or about BENCH_CITY_VISITS on average
    (20: two million, a quicker run)."""
    average = int(os.environ.get("BENCH_CITY_VISITS", "105"))
    spread = max(1, min(101, average))
    return {"fewest": max(1, average - spread // 2), "spread": spread}


def _load_visits(engine, numbers: dict) -> None:
    """Visits in two halves on two connections (two cores), then their indexes."""
    table = Visit.__table__
    with engine.begin() as connection:
        for index in table.indexes:
            index.drop(connection)

    def load(half: int) -> None:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("SET LOCAL synchronous_commit = off"))
            connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            connection.execute(text("SELECT setseed(:seed)"), {"seed": 0.3 + half / 10})
            connection.execute(
                text(VISIT_INSERT.replace("seed_people", "bench_seed_people")),
                {**numbers, "half": half},
            )

    _together(load, [(0,), (1,)])

    def build(indexes: list) -> None:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            for index in indexes:
                index.create(connection)

    indexes = sorted(table.indexes, key=lambda index: index.name)
    work = [
        indexes[::2],
        indexes[1::2],
    ]
    _together(build, [(part,) for part in work])


def _together(work, arguments: list[tuple]) -> None:
    """Run `work` once per argument tuple, each in a thread; raise the first failure."""
    import threading

    failures = []

    def run(*args):
        try:
            work(*args)
        except Exception as error:  # noqa: BLE001 - raised again below
            failures.append(error)

    threads = [threading.Thread(target=run, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
