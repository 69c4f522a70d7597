"""Today: overdue first, then due today, then the next 7 days; a supervisor's is her unit's
dashboard (tests/test_dashboard.py has its figures)."""

import uuid
from datetime import timedelta

import pytest

from app.models import Visit
from app.schedule import DueState, local_date
from app.today.board import today_board
from app.types import utcnow
from tests.factories import make_person, save_visit, visit_data


def days(n: int) -> timedelta:
    return timedelta(days=n)


def contact(db, person, author, when, **fields):
    db.add(
        Visit(
            id=uuid.uuid4(),
            person_id=person.id,
            author_id=author.id,
            kind=fields.pop("kind", "home_visit"),
            occurred_at=when,
            created_at=when,
            updated_at=when,
            **fields,
        )
    )
    db.commit()


@pytest.fixture
def unit_people(db, unit, make_user):
    """Two officers' caseloads relative to now: overdue, due today, soon, later, withdrawn."""
    officer = make_user("officer1", display_name="陈雪梅")
    colleague = make_user("officer2", display_name="刘芳")
    make_user("supervisor", role="supervisor")
    helper = make_user("helper1", role="peer_helper")
    now = utcnow()
    today = local_date(now, "Asia/Shanghai")  # the officers' own calendar day
    long_ago = today - days(300)
    overdue = make_person(db, unit, officer, name="逾期甲", release_date=long_ago)
    contact(db, overdue, officer, now - days(35))  # every 30 days after day 90: 5 days late
    very_overdue = make_person(db, unit, officer, name="逾期乙", release_date=long_ago)
    contact(db, very_overdue, officer, now - days(50))
    today_due = make_person(db, unit, officer, name="今天", release_date=long_ago)
    contact(db, today_due, officer, now - days(10), next_contact_on=today)
    soon = make_person(
        db, unit, officer, name="新释放", release_date=today - days(2), peer_helper_id=helper.id
    )
    later = make_person(db, unit, officer, name="刚回访", release_date=long_ago)
    contact(db, later, officer, now - days(1))
    theirs = make_person(db, unit, colleague, name="同事的", release_date=long_ago)
    contact(db, theirs, colleague, now - days(40))
    return {
        "officer": officer,
        "colleague": colleague,
        "people": {p.name: p for p in (overdue, very_overdue, today_due, soon, later, theirs)},
    }


def names_in_order(html: str, names) -> list[str]:
    return sorted((n for n in names if n in html), key=html.index)


ALL = ["逾期甲", "逾期乙", "今天", "新释放", "刚回访", "同事的"]


def test_officer_today_orders_overdue_today_then_the_week(client, auth, unit_people):
    auth.login("officer1")
    page = client.get("/").text
    assert names_in_order(page, ALL) == ["逾期乙", "逾期甲", "今天", "新释放"]
    assert "逾期 20 天" in page and "逾期 5 天" in page
    assert "今日到期" in page and "约定联系" in page and "解除后首次联系" in page
    overdue = unit_people["people"]["逾期乙"]
    assert 'href="tel:13800138000"' in page
    # the form goes back to Today after the save, and after a call opens on its own
    assert f'href="/people/{overdue.id}/visits/new#from-today"' in page
    assert f'data-call-form="/people/{overdue.id}/visits/new"' in page
    assert "逾期 2 人" in page and "今日到期 1 人" in page


def test_supervisor_today_is_her_units_dashboard_by_officer(client, auth, unit_people):
    auth.login("supervisor")
    page = client.get("/").text
    assert "<h1>今日</h1>" in page
    table = page[page.index('id="officers"') :]
    assert set(names_in_order(table, ["陈雪梅", "刘芳"])) == {"陈雪梅", "刘芳"}
    # her home counts the unit's due people, it does not list them one by one
    assert names_in_order(page, ALL) == []


def test_peer_helper_today_shows_her_paired_people(client, auth, unit_people):
    auth.login("helper1")
    page = client.get("/").text
    assert names_in_order(page, ALL) == ["新释放"]


def test_a_self_harm_flag_shows_on_the_supervisors_today_at_once(client, auth, db, unit_people):
    officer = unit_people["officer"]
    later = unit_people["people"]["刚回访"]
    data = visit_data(later, risk_flags=["self_harm"], occurred_at=utcnow().isoformat())
    assert save_visit(db, officer, data).saved
    auth.login("supervisor")
    page = client.get("/").text
    alert = page[page.index('id="risks"') : page.index('id="officers"')]
    assert "刚回访" in alert and "自伤风险" in alert and "陈雪梅" in alert
    auth.logout()
    auth.login("officer2")
    assert "有自伤风险提示" not in client.get("/").text


def test_recording_a_visit_takes_her_off_the_due_list(db, unit_people):
    officer = unit_people["officer"]
    person = unit_people["people"]["逾期乙"]
    board = today_board(db, officer, now=utcnow())
    assert board.items[0].person.id == person.id
    assert board.items[0].due.state == DueState.overdue
    data = visit_data(person, occurred_at=utcnow().isoformat())
    assert save_visit(db, officer, data).saved
    board = today_board(db, officer, now=utcnow())
    assert person.id not in {item.person.id for item in board.items}


def test_a_failed_attempt_keeps_her_on_the_due_list(db, unit_people):
    officer = unit_people["officer"]
    person = unit_people["people"]["逾期乙"]
    attempt = visit_data(
        person, kind="attempt", failure_reason="no_answer", occurred_at=utcnow().isoformat()
    )
    assert save_visit(db, officer, attempt).saved
    board = today_board(db, officer, now=utcnow())
    assert board.items[0].person.id == person.id and board.items[0].due.days_overdue == 20


def test_today_takes_a_fixed_number_of_queries(db, unit, client, auth, unit_people, count_queries):
    officer = unit_people["officer"]
    auth.login("supervisor")
    first = make_person(db, unit, officer, name="加首", release_date=utcnow().date())
    contact(db, first, officer, utcnow() - days(1), risk_flags=["self_harm"])
    with count_queries() as before:
        client.get("/")
    for n in range(15):
        person = make_person(db, unit, officer, name=f"加{n}", release_date=utcnow().date())
        contact(db, person, officer, utcnow() - days(1), risk_flags=["self_harm"])
    with count_queries() as after:
        page = client.get("/").text
    assert "加14" in page
    assert len(after) == len(before)
