"""The bureau's city view: every unit's figures side by side, never a person."""

import pytest
from sqlmodel import select

from app.models import Person, User
from app.supervision.dashboard import CITY_QUERIES, city_view, forget_kept_figures
from tests.dashboard_world import EXPECTED, NAMES, NOW, TODAY, build


@pytest.fixture
def world(db, make_user, unit, monkeypatch):
    monkeypatch.setattr("app.supervision.dashboard_views.utcnow", lambda: NOW)
    forget_kept_figures()
    built = build(db, make_user, unit)
    make_user("director", role="director", display_name="市局督导")
    make_user("admin", role="admin")
    yield built
    forget_kept_figures()


def user(db, name) -> User:
    return db.exec(select(User).where(User.username == name)).one()


def test_every_unit_side_by_side_equals_a_count_by_hand(db, world):
    city = city_view(db, user(db, "director"), today=TODAY)
    first, second = city.units  # by name: 另一个工作室, 测试工作室
    assert (first.name, second.name) == ("另一个工作室", "测试工作室")
    assert second.by_status == EXPECTED["by_status"]
    assert (second.due_today, second.overdue) == (EXPECTED["due_today"], EXPECTED["overdue"])
    assert second.contacts_month == EXPECTED["contacts_month"]
    on_time = second.on_time
    assert (on_time.met, on_time.contacts, on_time.missed) == EXPECTED["unit_on_time"]
    assert first.people == 1 and (first.due_today, first.overdue) == (0, 1)
    assert first.contacts_month == 1
    assert (first.on_time.met, first.on_time.contacts, first.on_time.missed) == (1, 2, 1)
    total = city.total
    assert total.people == 7 and total.overdue == 3 and total.on_time.rate == pytest.approx(7 / 14)


def test_the_city_view_takes_a_fixed_number_of_queries(db, world, count_queries):
    director = user(db, "director")
    with count_queries() as statements:
        city_view(db, director, today=TODAY)
    assert len(statements) == CITY_QUERIES
    with count_queries() as statements:
        city_view(db, director, today=TODAY)
    assert len(statements) == CITY_QUERIES - 2


def test_a_unit_grace_counts_for_its_own_unit_only(db, world):
    other = world["other"]
    other.grace_days = 60  # q's 59-day gap is met now, and her due date of 1 June is not late
    db.add(other)
    db.commit()
    first, second = city_view(db, user(db, "director"), today=TODAY).units
    assert (first.on_time.met, first.on_time.missed) == (2, 0)
    assert (second.on_time.met, second.on_time.missed) == (6, 1)


@pytest.mark.parametrize("who", ["director", "admin"])
def test_director_and_admin_land_on_the_city_view(client, auth, world, who):
    auth.login(who)
    answer = client.get("/")
    assert answer.status_code == 302 and answer.headers["Location"] == "/supervision/city"
    assert client.get("/supervision/").headers["Location"] == "/supervision/city"
    page = client.get("/supervision/city").text
    assert "<h1>" in page and "测试工作室" in page and "另一个工作室" in page


def test_the_city_view_names_nobody(client, auth, db, world):
    auth.login("director")
    page = client.get("/supervision/city").text
    for name in [*NAMES, "钱多多"]:
        assert name not in page
    assert "13912345678" not in page and 'href="/people/' not in page
    # and no officer either: staff names are her colleagues' business
    for name in ("陈雪梅", "刘芳", "吴警官"):
        assert name not in page
    assert 'href="/reports/"' in page
    assert "style=" not in page


def test_a_director_gets_no_person_page(client, auth, db, world):
    auth.login("director")
    person = db.exec(select(Person)).first()
    assert client.get("/people/").status_code in (403, 404)
    assert client.get(f"/people/{person.id}").status_code in (403, 404)
    assert client.get(f"/supervision/officers/{world['a'].id}").status_code == 403
    for path in ("/people/", f"/people/{person.id}", f"/supervision/officers/{world['a'].id}"):
        page = client.get(path).text
        assert not any(name in page for name in [*NAMES, "钱多多"])


@pytest.mark.parametrize("who", ["officer1", "supervisor", "helper1"])
def test_only_the_bureau_and_admins_see_the_city(client, auth, world, who):
    auth.login(who)
    assert client.get("/supervision/city").status_code == 403
