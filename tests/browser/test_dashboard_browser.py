"""On a 360 px phone in real Chromium: the supervisor's dashboard with its charts and tables,
sorted and drilled down, in Chinese then English; the director's city view names nobody."""

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import Person
from tests.browser.offline import sign_in, unspent_code

pytestmark = pytest.mark.browser


def watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_supervisor_reads_her_unit_sorts_officers_and_opens_a_due_list(page, live_server, demo):
    violations = watch_csp(page)
    sign_in(page, live_server, "supervisor")
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")

    # three charts, each an image with its title, each beside the table of its data
    charts = page.get_by_role("img")
    for chart_id in ("chart-monthly", "chart-on-time", "chart-funnel"):
        chart = page.locator(f"svg#{chart_id}")
        expect(chart).to_be_visible()
        expect(chart).to_have_attribute("role", "img")
        card = page.locator("section.chart-card", has=chart)
        expect(card.locator("table")).to_have_count(1)
        assert chart.bounding_box()["width"] <= 360
    assert charts.count() >= 3
    # the monthly table names every kind of contact; its rows are the last 12 months
    monthly = page.locator("#contacts-by-month table")
    expect(monthly.locator("tbody tr")).to_have_count(12)
    expect(monthly).to_contain_text("家访面谈")
    fits_the_phone(page)

    # the officers' table scrolls inside its card; sorting is a link, announced by aria-sort
    officers = page.locator("#officers table")
    expect(officers.locator("tbody tr")).to_have_count(3)
    caseload = officers.locator('thead a[href*="sort=caseload"]')
    assert caseload.bounding_box()["height"] >= 48
    caseload.focus()
    page.keyboard.press("Enter")
    header = page.locator("#officers thead th", has=page.locator('a[href*="sort=caseload"]'))
    expect(header).to_have_attribute("aria-sort", "descending")
    numbers = [int(t) for t in officers.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert numbers == sorted(numbers, reverse=True)
    fits_the_phone(page)

    # an officer's row opens her due list, most urgent first, names and all
    first = officers.locator("tbody tr th a").first
    name = first.inner_text()
    assert first.bounding_box()["height"] >= 48
    first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    rows = page.locator(".due-row")
    expect(rows.first).to_be_visible()
    officer_people = {
        p.name for p in demo.exec(select(Person).where(Person.next_due_on.is_not(None))).all()
    }
    assert rows.first.locator(".name").inner_text() in officer_people
    assert rows.first.bounding_box()["height"] >= 48
    fits_the_phone(page)

    # in English
    page.goto(f"{live_server}/settings/")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Officers")).to_be_visible()
    expect(page.locator("#contacts-by-month table")).to_contain_text("Home visit")
    expect(page.locator("svg#chart-funnel title")).to_have_text("From release to regular follow-up")
    fits_the_phone(page)
    assert violations == []


def test_the_director_sees_every_unit_and_no_one(page, live_server, demo):
    violations = watch_csp(page)
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("用户名").fill("director")
    page.get_by_label("密码").fill("clover-demo-2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_label("验证码").fill(
        unspent_code(page, live_server, "director", "CLOVERDEMOTOTP22")
    )
    page.get_by_role("button", name="继续").click()
    expect(page).to_have_url(f"{live_server}/supervision/city")
    table = page.locator("table.data-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("重庆市女子强制隔离戒毒所心理帮扶工作室")
    expect(table).to_contain_text("重庆市社区戒毒康复心理帮扶站")
    html = page.content()
    for person in demo.exec(select(Person)).all():
        assert person.name not in html and person.phone not in html
    # no People tab for her, and the people pages refuse her
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="帮扶对象")).to_have_count(0)
    assert page.goto(f"{live_server}/people/").status == 403
    fits_the_phone(page)
    assert violations == []
