"""The main queries read through an index, not a scan of every person or visit (PostgreSQL).

A city of people is seeded in bulk and ANALYZEd; each real query function runs while the
statements it sends are recorded, and PostgreSQL's plan of each is read with EXPLAIN:
none may scan the whole `person` or `visit` table.
"""

import re
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert, text
from sqlmodel import Session, select

from app import create_app
from app.due import due_items, refresh_due
from app.models import Consent, Person, PushSubscription, Unit, User, Visit
from app.people.ledger import find_person, load_ledger
from app.people.listing import PeopleFilter, people_page
from app.reminders.channels import WebPushChannel
from app.reminders.keys import generate_keys
from app.reminders.planning import plan_reminders
from app.search_keys import name_search_keys
from app.supervision.dashboard import forget_kept_figures, unit_dashboard
from app.supervision.recount import recount
from app.sync.pull import changes_since, make_cursor
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="query plans are PostgreSQL's: PostgreSQL only (TEST_DATABASE_URL), "
    "run in the PostgreSQL pass of .ci/run",
)

UNITS, OFFICERS, PEOPLE, VISITS = 20, 5, 30, 20  # officers a unit, people an officer, ...
TODAY = date(2026, 6, 15)
NOW = datetime.combine(TODAY, time(18, 30), tzinfo=ZoneInfo("Asia/Shanghai"))
SEQ_SCAN = re.compile(r"Seq Scan on (person|visit)\b")


def _seed(session: Session) -> None:
    now = NOW.astimezone(UTC)
    units, users, people, consents, visits = [], [], [], [], []
    for u in range(UNITS):
        unit_id = uuid.uuid4()
        units.append({"id": unit_id, "name": f"工作站{u}", "created_at": now, "updated_at": now})
        staff = [("supervisor", f"supervisor{u}")]
        staff += [("officer", f"officer{u}-{o}") for o in range(OFFICERS)]
        staff += [("peer_helper", f"helper{u}-{o}") for o in range(OFFICERS)]
        ids = {}
        for role, name in staff:
            ids[name] = uuid.uuid4()
            users.append(
                {
                    "id": ids[name],
                    "username": name,
                    "display_name": name,
                    "password_hash": "!",
                    "role": role,
                    "unit_id": unit_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for o in range(OFFICERS):
            officer = ids[f"officer{u}-{o}"]
            for n in range(PEOPLE):
                person_id = uuid.uuid4()
                name = "王李张刘陈"[n % 5] + "晓丽秀"[o % 3] + "梅娟英霞"[u % 4]
                people.append(
                    {
                        "id": person_id,
                        "unit_id": unit_id,
                        "name": name,
                        "search_keys": name_search_keys(name),
                        "phone": f"139{len(people):08d}",
                        "status": "active",
                        "release_date": TODAY - timedelta(days=30 + 7 * n),
                        "assigned_officer_id": officer,
                        "peer_helper_id": ids[f"helper{u}-{o}"],
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                consents.append(
                    {
                        "id": uuid.uuid4(),
                        "person_id": person_id,
                        "signed_on": TODAY - timedelta(days=40),
                        "consents": {"follow_up_visits": True, "peer_contact": n % 2 == 0},
                        "taken_by_id": officer,
                        "created_at": now,
                    }
                )
                for v in range(VISITS):
                    at = now - timedelta(days=3 * v + n)
                    visits.append(
                        {
                            "id": uuid.uuid4(),
                            "person_id": person_id,
                            "author_id": officer,
                            "kind": "phone_consultation",
                            "occurred_at": at,
                            "created_at": at,
                            "updated_at": at,
                        }
                    )
    session.execute(insert(Unit), units)
    session.execute(insert(User), users)
    session.execute(
        insert(PushSubscription),
        [
            {
                "user_id": user["id"],
                "endpoint": f"https://push.example.test/{n}",
                "p256dh": "B" + "A" * 86,
                "auth": "A" * 22,
            }
            for n, user in enumerate(users)
        ],
    )
    session.execute(insert(Person), people)
    session.execute(insert(Consent), consents)
    session.execute(insert(Visit).execution_options(contact_tallies="recount"), visits)
    recount(session.connection(), ZoneInfo("Asia/Shanghai"))
    session.commit()


@pytest.fixture(scope="module")
def city(_postgres_schema):
    """An app on the test database with a seeded, analysed city; emptied afterwards."""
    app = create_app({"TESTING": True, "DATABASE_URL": _postgres_schema})
    engine = app.extensions["clover_engine"]
    with app.app_context(), Session(engine) as session:
        _seed(session)
        refresh_due(session, today=TODAY, everyone=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    yield app
    from tests.conftest import _reset_postgres

    _reset_postgres(engine)
    engine.dispose()


@contextmanager
def recorded(engine):
    """The SELECT statements sent while the block runs, with their parameters."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def _ledger(session: Session):
    """Her ledger page's queries: finding her in the officer's scope, then the ledger."""
    officer = _user(session, "officer3-2")
    first = select(Person.id).where(Person.assigned_officer_id == officer.id).limit(1)
    person = find_person(session, officer, session.exec(first).one())
    return load_ledger(session=session, person=person, cipher=None)


def _channels():
    private_key, _public = generate_keys()
    return [WebPushChannel(private_key=private_key, subject="mailto:ops@clover.test", http=None)]


def _pull_since_an_hour(session: Session):
    cursor = make_cursor(NOW - timedelta(hours=1))
    return changes_since(session=session, user=_user(session, "officer3-2"), cursor=cursor, now=NOW)


def _page(username: str, q: str = ""):
    def people(session: Session):
        user, filters = _user(session, username), PeopleFilter(q=q)
        return people_page(session=session, user=user, filters=filters, page_size=30)

    return people


def _due(username: str):
    return lambda session: due_items(session, _user(session, username), today=TODAY)


def _dashboard(session: Session):
    """The supervisor home worked out anew: people counts, the tallies, flagged visits."""
    forget_kept_figures()
    return unit_dashboard(session, _user(session, "supervisor3"), today=TODAY)


def _visits_saved(session: Session):
    """A push's batch written: a visit to each of her people. The tallies' upkeep reads their
    contacts from the batch's first moment on and the one before; their due standing is
    worked out again."""
    officer = _user(session, "officer3-2")
    hers = session.exec(select(Person.id).where(Person.assigned_officer_id == officer.id))
    at = NOW.astimezone(UTC) - timedelta(days=1)
    kind = "home_visit"
    session.add_all(
        Visit(id=uuid.uuid4(), person_id=p, author_id=officer.id, kind=kind, occurred_at=at)
        for p in hers.all()
    )
    session.flush()


QUERIES = [
    pytest.param(_dashboard, id="supervisor home, figures anew"),
    pytest.param(_due("officer3-2"), id="officer due list"),
    pytest.param(_due("supervisor3"), id="unit due list"),
    pytest.param(_due("helper3-2"), id="peer helper due list"),
    pytest.param(_page("officer3-2"), id="people list page"),
    pytest.param(_page("officer3-2", "wxm"), id="people search"),
    pytest.param(_page("supervisor3", "0042"), id="people search by phone"),
    pytest.param(_ledger, id="ledger"),
    pytest.param(
        lambda s: changes_since(session=s, user=_user(s, "officer3-2"), cursor=None, now=NOW),
        id="sync pull, full caseload",
    ),
    pytest.param(_pull_since_an_hour, id="sync pull since a cursor"),
    pytest.param(_visits_saved, id="a batch of visits saved"),
    pytest.param(
        lambda s: plan_reminders(s, now=NOW, channels=_channels()), id="reminder planning"
    ),
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_query_reads_people_and_visits_through_an_index(city, query, request):
    name = request.node.callspec.id
    engine = city.extensions["clover_engine"]
    with city.app_context(), Session(engine) as session:
        with recorded(engine) as statements:
            query(session)
        session.rollback()
        plans = {}
        for statement, parameters in statements:
            if not re.search(r"\b(person|visit)\b", statement) or statement in plans:
                continue
            rows = session.connection().exec_driver_sql("EXPLAIN " + statement, parameters)
            plans[statement] = "\n".join(row[0] for row in rows)
    assert plans, f"{name} sent no query on person or visit"
    for statement, plan in plans.items():
        assert not SEQ_SCAN.search(plan), f"{name}:\n{statement}\n{plan}"
