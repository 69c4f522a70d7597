"""Demo data: one realistic unit, loaded once, never in production."""

from collections import Counter

from sqlmodel import func, select

from app.demo import DemoRefused, load_demo
from app.models import Person, PersonStatus, User, Visit


def test_demo_loads_a_realistic_unit(db):
    summary = load_demo(db, environment="development")
    assert summary.startswith("1 unit, 6 users, 60 people")
    users = {u.username: u.role for u in db.exec(select(User))}
    assert users == {
        "admin": "admin",
        "supervisor": "supervisor",
        "officer1": "officer",
        "officer2": "officer",
        "officer3": "officer",
        "helper1": "peer_helper",
    }
    statuses = Counter(p.status for p in db.exec(select(Person)))
    assert set(statuses) == set(PersonStatus)
    people = db.exec(select(Person)).all()
    assert all(p.address.startswith("重庆市") for p in people)
    assert all(len(p.phone) == 11 and p.phone.startswith("1") for p in people)
    assert len({p.name for p in people}) == 60
    visited = db.exec(select(func.count(func.distinct(Visit.person_id)))).one()
    assert visited == 60


def test_demo_loads_once(runner, db):
    first = runner.invoke(args=["demo", "load", "--if-empty"])
    assert first.exit_code == 0 and "demo loaded" in first.output
    second = runner.invoke(args=["demo", "load", "--if-empty"])
    assert second.exit_code == 0 and "already loaded" in second.output
    assert db.exec(select(func.count()).select_from(User)).one() == 6
    assert "officer1" in second.output and "clover-demo-2026" in second.output


def test_demo_is_refused_in_production(db):
    try:
        load_demo(db, environment="production")
    except DemoRefused as error:
        assert "production" in str(error)
    else:
        raise AssertionError("demo loaded in production")
    assert db.exec(select(func.count()).select_from(User)).one() == 0


def test_demo_signs_in(client, auth, db):
    load_demo(db, environment="development")
    assert auth.login("officer1", "clover-demo-2026").headers["Location"] == "/"
    assert "陈雪梅" in client.get("/").text
