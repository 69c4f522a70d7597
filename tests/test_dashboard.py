"""The supervisor's home: her unit's figures from aggregates, equal to a count by hand."""

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.models import AuditEvent, Person, User, Visit
from app.supervision.dashboard import (
    DASHBOARD_QUERIES,
    NotOverseen,
    forget_kept_figures,
    officer_due_page,
    unit_dashboard,
)
from app.supervision.dashboard_views import sort_officers
from tests.dashboard_world import EXPECTED, NAMES, NOW, TODAY, build
from tests.factories import save_visit, visit_data


@pytest.fixture
def world(db, make_user, unit, monkeypatch):
    """The world, with the pages' clock at noon on TODAY in Shanghai."""
    monkeypatch.setattr("app.supervision.dashboard_views.utcnow", lambda: NOW)
    forget_kept_figures()
    yield build(db, make_user, unit)
    forget_kept_figures()


def supervisor(db, name="supervisor") -> User:
    return db.exec(select(User).where(User.username == name)).one()


def test_the_figures_equal_a_count_by_hand(db, world):
    d = unit_dashboard(db, supervisor(db), today=TODAY)
    assert d.by_status == EXPECTED["by_status"]
    assert d.by_phase == EXPECTED["by_phase"]
    assert (d.due_today, d.overdue, d.due_week) == (
        EXPECTED["due_today"],
        EXPECTED["overdue"],
        EXPECTED["due_week"],
    )
    assert d.contacts_month == EXPECTED["contacts_month"]
    rows = {row.name: row for row in d.officers if row.officer_id}
    for name, (caseload, overdue, week, month, on_time) in EXPECTED["officers"].items():
        row = rows[name]
        assert (row.caseload, row.overdue, row.due_week, row.contacts_month) == (
            caseload,
            overdue,
            week,
            month,
        ), name
        assert (row.on_time.met, row.on_time.contacts, row.on_time.missed) == on_time, name
    assert rows["陈雪梅"].on_time_rate == pytest.approx(3 / 7)
    assert rows["刘芳"].on_time_rate == pytest.approx(2 / 3)
    assert rows["杨丽华"].on_time_rate is None
    assert rows["陈雪梅"].last_contact_at.date() == date(2026, 6, 10)
    # the closed person with no officer: a row of her own, nothing open
    (unassigned,) = [row for row in d.officers if row.officer_id is None]
    assert unassigned.caseload == 0
    assert (d.on_time.met, d.on_time.contacts, d.on_time.missed) == EXPECTED["unit_on_time"]
    assert d.funnel == EXPECTED["funnel"]
    months = {m: d.monthly.month_total(m) for m in d.monthly.months if d.monthly.month_total(m)}
    assert months == EXPECTED["monthly"]
    assert len(d.monthly.months) == 12 and d.monthly.months[-1] == "2026-06"
    june = {k: d.monthly.count("2026-06", k) for k in EXPECTED["june"]}
    assert june == EXPECTED["june"]
    assert [item.person.name for item in d.risks] == EXPECTED["risks"]
    assert d.risks[0].self_harm and d.risks[0].officer_name == "刘芳"


def test_a_contact_after_a_flag_takes_it_off_the_waiting_list(db, world):
    p3 = db.exec(select(Person).where(Person.name == "梁红")).one()
    data = visit_data(p3, kind="phone_consultation", occurred_at="2026-06-14T10:00")
    assert save_visit(db, world["b"], data, now=NOW).saved
    d = unit_dashboard(db, supervisor(db), today=TODAY)
    assert [item.person.name for item in d.risks] == ["王秀英"]
    # a failed attempt is no contact: her flag still waits
    p1 = db.exec(select(Person).where(Person.name == "王秀英")).one()
    attempt = visit_data(
        p1, kind="attempt", failure_reason="no_answer", occurred_at="2026-06-14T11:00"
    )
    assert save_visit(db, world["a"], attempt, now=NOW).saved
    assert [i.person.name for i in unit_dashboard(db, supervisor(db), today=TODAY).risks] == [
        "王秀英"
    ]


def test_the_unit_grace_days_move_the_on_time_rate(db, world):
    unit = world["unit"]
    unit.grace_days = 7  # p1's 20-day gap at day 4 (14 + 7) is met now; p2's 36-day still late
    db.add(unit)
    db.commit()
    d = unit_dashboard(db, supervisor(db), today=TODAY)
    rows = {row.name: row for row in d.officers}
    assert (rows["陈雪梅"].on_time.met, rows["陈雪梅"].on_time.missed) == (4, 0)


def test_an_officer_or_director_has_no_dashboard(db, world, make_user):
    officer = db.exec(select(User).where(User.username == "officer1")).one()
    with pytest.raises(NotOverseen):
        unit_dashboard(db, officer, today=TODAY)
    director = make_user("director", role="director")
    with pytest.raises(NotOverseen):
        unit_dashboard(db, director, today=TODAY)


def test_the_dashboard_is_the_supervisors_home(client, auth, db, world):
    auth.login("supervisor")
    page = client.get("/").text
    assert "<h1>今日</h1>" in page
    # figures, her officers, the risk flags first, no other unit
    assert page.index("梁红") < page.index("王秀英") < page.index('id="officers"')
    assert "陈雪梅" in page and "杨丽华" in page and "吴警官" not in page
    assert "钱多多" not in page and "13912345678" not in page
    for officer in (world["a"], world["b"]):
        assert f'href="/supervision/officers/{officer.id}"' in page
    # three charts, each an image with a title and a table beside it
    assert page.count('role="img"') == 3
    assert page.count("<svg") == 3 and "<title" in page
    for chart in ("contacts-by-month", "on-time", "funnel"):
        card = page[page.index(f'id="{chart}"') :]
        assert card.index("<svg") < card.index("<table") < card.index("</section>")
    assert "style=" not in page
    # the names shown are in the audit trail
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "people_read")).all()[-1]
    assert event.details["page"] == "supervision"
    shown = {p.id for p in db.exec(select(Person).where(Person.name.in_(["梁红", "王秀英"])))}
    assert {uuid.UUID(i) for i in event.details["people"]} == shown


def test_supervision_path_shows_the_same_dashboard(client, auth, world):
    auth.login("supervisor")
    assert "<h1>今日</h1>" in client.get("/supervision/").text


def column(page: str) -> list[str]:
    """The officers' names in the table's order."""
    table = page[page.index('id="officers"') :]
    table = table[: table.index("</table>")]
    return re.findall(r'class="cell-link" href="[^"]+">([^<]+)</a>', table)


def test_the_officers_table_sorts_by_each_column(client, auth, world):
    auth.login("supervisor")
    assert column(client.get("/?sort=name&dir=asc").text) == ["刘芳", "杨丽华", "陈雪梅"]
    page = client.get("/?sort=caseload&dir=desc").text
    assert column(page) == ["刘芳", "陈雪梅", "杨丽华"]
    assert 'aria-sort="descending"' in page
    # the header that sorts now offers the other direction
    assert 'href="/?sort=caseload&amp;dir=asc#officers"' in page
    # on-time, worst first; an officer with no due date last
    assert column(client.get("/?sort=on_time&dir=asc").text) == ["陈雪梅", "刘芳", "杨丽华"]
    # nonsense falls back to the default: overdue, most first
    assert column(client.get("/?sort=drop+table&dir=up").text)[2] == "杨丽华"


def test_sort_keeps_rows_without_a_value_last(db, world):
    d = unit_dashboard(db, supervisor(db), today=TODAY)
    for direction in ("asc", "desc"):
        rows = sort_officers(d.officers, "on_time", direction)
        assert [r.name for r in rows][-2:] == ["杨丽华", ""]


def test_an_officer_row_opens_her_due_list_paged(client, auth, db, world, unit):
    officer = world["a"]
    for n in range(30):
        db.add(
            Person(
                unit_id=unit.id,
                name=f"排队{n:02d}",
                status="active",
                release_date=date(2025, 1, 1),
                assigned_officer_id=officer.id,
                next_due_on=TODAY + timedelta(days=n + 1),
            )
        )
    db.commit()
    auth.login("supervisor")
    first = client.get(f"/supervision/officers/{officer.id}").text
    assert "王秀英" in first and "陈小燕" in first and "排队22" in first
    assert "排队23" not in first and "梁红" not in first
    assert first.index("王秀英") < first.index("陈小燕") < first.index("排队00")
    assert 'rel="next"' in first
    second = client.get(f"/supervision/officers/{officer.id}?page=2").text
    assert "排队23" in second and "排队29" in second and "王秀英" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    page = officer_due_page(db, supervisor(db), officer, page=2)
    assert page.total == 32 and len(page.people) == 7
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "people_read")).all()
    assert events[-1].details["page"] == "supervision.officer"
    assert len(events[-1].details["people"]) == 7


def test_a_supervisor_sees_no_officer_of_another_unit(client, auth, world):
    auth.login("supervisor")
    assert client.get(f"/supervision/officers/{world['stranger'].id}").status_code == 404
    assert client.get(f"/supervision/officers/{uuid.uuid4()}").status_code == 404
    supervisor_id = client.get("/").status_code and world["a"].id
    assert client.get(f"/supervision/officers/{supervisor_id}").status_code == 200


@pytest.mark.parametrize("path", ["/supervision/", "/supervision/city", "/supervision/officers/x"])
def test_an_officer_cannot_open_supervision(client, auth, world, path):
    auth.login("officer1")
    path = path.replace("x", str(world["a"].id))
    assert client.get(path).status_code == 403


def test_an_officer_keeps_her_today(client, auth, world):
    auth.login("officer1")
    page = client.get("/").text
    assert "<h1>今日</h1>" in page and 'role="img"' not in page


def test_the_dashboard_costs_the_same_queries_for_10_and_60_people(
    client, auth, db, world, unit, count_queries
):
    officer = world["a"]
    auth.login("supervisor")

    def add_people(n, start):
        for i in range(start, start + n):
            p = Person(
                unit_id=unit.id,
                name=f"加{i}",
                status="active",
                release_date=date(2026, 1, 1),
                assigned_officer_id=officer.id,
                next_due_on=TODAY - timedelta(days=i % 9),
                last_contact_at=NOW - timedelta(days=1),
            )
            db.add(p)
            db.flush()
            for k in range(3):
                moment = NOW - timedelta(days=10 * k + 1)
                db.add(
                    Visit(
                        id=uuid.uuid4(),
                        person_id=p.id,
                        author_id=officer.id,
                        kind="home_visit",
                        occurred_at=moment,
                        risk_flags=["self_harm"] if k == 0 and i % 2 else [],
                    )
                )
        db.commit()

    add_people(4, 0)  # 10 people in the unit
    with count_queries() as ten:
        page = client.get("/").text
    assert "加3" in page
    add_people(50, 4)  # 60
    with count_queries() as sixty:
        page = client.get("/").text
    assert "加53" in page
    assert len(sixty) == len(ten), "\n".join(sixty)
    assert len(ten) <= DASHBOARD_QUERIES + 12  # sign-in session, user, audit row: a few more


def test_the_figures_take_a_fixed_number_of_queries(db, world, count_queries):
    user = supervisor(db)
    with count_queries() as statements:
        first = unit_dashboard(db, user, today=TODAY)
    assert len(statements) == DASHBOARD_QUERIES
    # opened again with nothing changed: the counts are kept; the unit, version and officers read
    with count_queries() as statements:
        again = unit_dashboard(db, user, today=TODAY)
    assert len(statements) == 3
    assert again == first


def test_a_new_visit_renews_the_kept_contact_figures(db, world):
    user = supervisor(db)
    before = unit_dashboard(db, user, today=TODAY)
    p2 = db.exec(select(Person).where(Person.name == "陈小燕")).one()
    moment = NOW - timedelta(hours=1)
    db.add(
        Visit(
            id=uuid.uuid4(),
            person_id=p2.id,
            author_id=world["a"].id,
            kind="family_therapy",
            occurred_at=moment,
            created_at=moment,
            updated_at=moment,
        )
    )
    db.commit()
    after = unit_dashboard(db, user, today=TODAY)
    assert after.contacts_month == before.contacts_month + 1
    assert after.monthly.count("2026-06", "family_therapy") == 1


def test_names_shown_are_only_her_units(db, world):
    d = unit_dashboard(db, supervisor(db, "supervisor9"), today=TODAY)
    assert d.people == 1 and d.overdue == 1 and [r.name for r in d.officers] == ["吴警官"]
    assert {p.name for p in d.named()} <= set(NAMES) | {"钱多多"}
