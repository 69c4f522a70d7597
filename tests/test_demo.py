"""Demo data: two realistic units, loaded once, never in production."""

from collections import Counter
from datetime import timedelta

from sqlmodel import func, select

from app.demo import DemoRefused, load_demo
from app.due import schedule_today
from app.models import Person, PersonStatus, Unit, User, Visit, VisitKind
from app.supervision.dashboard import unit_dashboard
from app.types import utcnow


def test_demo_loads_two_realistic_units(db):
    summary = load_demo(db, environment="development")
    assert summary.startswith("2 units, 10 users, 82 people")
    users = {u.username: u.role for u in db.exec(select(User))}
    assert users == {
        "admin": "admin",
        "director": "director",
        "supervisor": "supervisor",
        "officer1": "officer",
        "officer2": "officer",
        "officer3": "officer",
        "helper1": "peer_helper",
        "supervisor2": "supervisor",
        "officer4": "officer",
        "officer5": "officer",
    }
    statuses = Counter(p.status for p in db.exec(select(Person)))
    assert set(statuses) == set(PersonStatus)
    people = db.exec(select(Person)).all()
    assert all(p.address.startswith("重庆市") for p in people)
    assert all(len(p.phone) == 11 and p.phone.startswith("1") for p in people)
    assert len({p.name for p in people}) == 82
    visited = db.exec(select(func.count(func.distinct(Visit.person_id)))).one()
    assert visited == 82
    per_unit = Counter(p.unit_id for p in people)
    assert sorted(per_unit.values()) == [22, 60]
    # every unit's supervisor belongs to it; the director to none, with a second factor
    supervisors = db.exec(select(User).where(User.role == "supervisor")).all()
    assert {s.unit_id for s in supervisors} == set(per_unit)
    director = db.exec(select(User).where(User.username == "director")).one()
    assert director.unit_id is None and director.totp_secret_encrypted


def test_demo_has_a_year_of_every_kind_of_contact(db):
    load_demo(db, environment="development")
    since = utcnow() - timedelta(days=365)
    kinds = db.exec(select(Visit.kind).where(Visit.occurred_at >= since).distinct()).all()
    assert set(kinds) == set(VisitKind)
    months = {v.astimezone().strftime("%Y-%m") for v in db.exec(select(Visit.occurred_at))}
    assert len(months) >= 12


def test_demo_officers_keep_clearly_different_on_time_rates(db):
    load_demo(db, environment="development")
    today = schedule_today()
    rates = {}
    for unit in db.exec(select(Unit)):
        head = db.exec(select(User).where(User.unit_id == unit.id, User.role == "supervisor")).one()
        for row in unit_dashboard(db, head, today=today).officers:
            if row.officer_id:
                rates[row.name] = row.on_time_rate
    assert len(rates) == 5 and all(rate is not None for rate in rates.values())
    ordered = sorted(rates.values())
    assert ordered[-1] - ordered[0] >= 0.4  # the most punctual and the least, far apart
    assert rates["陈雪梅"] > rates["刘芳"] > rates["杨丽华"]


def test_demo_loads_once(runner, db):
    first = runner.invoke(args=["demo", "load", "--if-empty"])
    assert first.exit_code == 0 and "demo loaded" in first.output
    second = runner.invoke(args=["demo", "load", "--if-empty"])
    assert second.exit_code == 0 and "already loaded" in second.output
    assert db.exec(select(func.count()).select_from(User)).one() == 10
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
