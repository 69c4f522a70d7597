"""In headless Chromium at 360 px: a PHQ-9 entered from her ledger on one screen, then
charted there; axe-core finds no WCAG 2.1 A/AA violation on the scale pages."""

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.contract import commit
from app.models import User
from app.scales.service import record_scale
from app.types import utcnow
from tests.browser.offline import chip, expect_uncovered
from tests.browser.test_accessibility_browser import violations
from tests.browser.test_visits_browser import fits_the_phone, sign_in
from tests.factories import make_person

pytestmark = pytest.mark.browser


@pytest.fixture
def person(db, unit, make_user):
    officer = make_user("officer1", display_name="陈雪梅")
    return make_person(db, unit, officer, name="王秀英")


def test_enter_a_phq9_from_her_ledger_on_a_phone(page, live_server, person):
    violations = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    sign_in(page, live_server)
    page.goto(f"{live_server}/people/{person.id}")
    expect(page.locator("#scales")).to_contain_text("还没有填写过量表。")
    page.locator("#scales").get_by_role("link", name="填写量表").click()
    page.get_by_role("link", name="PHQ-9（抑郁）").click()

    expect(page.get_by_role("heading", name="PHQ-9（抑郁）", level=1)).to_be_visible()
    expect(page.get_by_text("在过去的两周里，您有多少时间受到以下问题的困扰？")).to_be_visible()
    save = page.get_by_role("button", name="保存量表")
    # the save button stays in reach above the bottom navigation, before any scrolling
    expect(save).to_be_in_viewport()
    expect_uncovered(save)
    assert fits_the_phone(page)
    for item, answer in enumerate([2, 2, 1, 2, 1, 1, 1, 1], start=1):
        chip(page, f"q{item}", str(answer)).click()
    assert chip(page, "q1", "2").bounding_box()["height"] >= 48
    # one left unanswered: refused, and what was chosen stays chosen
    save.click()
    expect(page.get_by_role("alert")).to_contain_text("第 9 题")
    expect(page.locator('input[name="q1"][value="2"]')).to_be_checked()
    assert fits_the_phone(page)
    chip(page, "q9", "0").click()
    page.get_by_role("button", name="保存量表").click()
    expect(page.get_by_text("PHQ-9（抑郁）已保存：总分 11，中度抑郁。")).to_be_visible()
    scales = page.locator("#scales")
    expect(scales.locator("svg#chart-phq9")).to_be_visible()
    expect(scales).to_contain_text("最近一次：11，中度抑郁")
    expect(scales.locator("table tbody tr")).to_have_count(1)
    assert fits_the_phone(page)
    assert violations == []


@pytest.fixture
def audited(browser, browser_context_args):
    """A page beside which axe's own script may run (the pages keep their strict CSP)."""
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_the_scale_pages_and_her_chart_have_no_accessibility_violation(
    audited, live_server, person, db
):
    page = audited
    officer = db.get(User, person.assigned_officer_id)
    for days, total in ((40, 16), (10, 9)):
        answers = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
        data = {"id": str(uuid.uuid4()), "person_id": person.id, "scale": "phq9"}
        data.update({f"q{i + 1}": a for i, a in enumerate(answers)})
        assert record_scale(session=db, user=officer, data=data, now=utcnow() - timedelta(days))
        commit(db)
    sign_in(page, live_server)
    for url in ("", "/scales/new", "/scales/phq9/new", "/scales/craving/new"):
        page.goto(f"{live_server}/people/{person.id}{url}")
        assert violations(page) == [], url
    # a refused scale: the summary, the questions marked invalid
    page.get_by_role("button", name="保存量表").click()
    expect(page.get_by_role("alert")).to_contain_text("第 1 题")
    assert violations(page) == []
