"""In headless Chromium at 360 px: record a home visit from Today, and a draft that survives."""

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.models import Visit
from app.types import utcnow
from tests.browser.offline import signed_in, wait_until
from tests.conftest import PASSWORD
from tests.factories import make_person

pytestmark = pytest.mark.browser

# drafts live in the one offline store, under the signed-in user
DRAFT_KEYS = "() => CloverStore.drafts.keys(document.body.dataset.userId).then(k => k.length)"


def wait_for_drafts(page, expected: int) -> None:
    wait_until(page, lambda: page.evaluate(DRAFT_KEYS) == expected, message=f"not {expected}")


@pytest.fixture
def overdue(db, unit, make_user):
    """An officer with one person whose follow-up is 20 days overdue."""
    officer = make_user("officer1", display_name="陈雪梅")
    person = make_person(
        db, unit, officer, name="王秀英", release_date=utcnow().date() - timedelta(300)
    )
    when = utcnow() - timedelta(days=50)
    db.add(
        Visit(
            id=uuid.uuid4(),
            person_id=person.id,
            author_id=officer.id,
            kind="phone_consultation",
            occurred_at=when,
            created_at=when,
            updated_at=when,
        )
    )
    db.commit()
    return person


def sign_in(page, live_server):
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("用户名").fill("officer1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    signed_in(page)
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()


def chip(page, name: str, value: str):
    return page.locator(f'label.chip:has(input[name="{name}"][value="{value}"])')


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_record_a_home_visit_from_today(page, live_server, overdue):
    violations = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    sign_in(page, live_server)
    row = page.locator(".due-row", has_text="王秀英")
    expect(row).to_contain_text("逾期 20 天")
    assert fits_the_phone(page)
    page.get_by_role("link", name="为 王秀英 记录回访").click()

    expect(page.get_by_role("heading", name="记录回访")).to_be_visible()
    expect(page.get_by_label("回访方式")).to_have_value("home_visit")
    expect(page.get_by_label("地点")).to_have_value("home")
    # fields by kind: a failed attempt asks for a reason and no assessment
    failure = page.locator('fieldset[data-kinds]:has(input[name="failure_reason"])')
    mood = page.locator('fieldset[data-kinds]:has(input[name="mood"])')
    expect(failure).to_be_hidden()
    page.get_by_label("回访方式").select_option("attempt")
    expect(failure).to_be_visible()
    expect(mood).to_be_hidden()
    expect(page.get_by_label("地点")).to_have_value("phone")
    page.get_by_label("回访方式").select_option("home_visit")
    expect(mood).to_be_visible()

    page.get_by_label("时长（分钟）").fill("40")
    chip(page, "participants", "mother").click()
    chip(page, "mood", "4").click()
    chip(page, "craving", "1").click()
    chip(page, "difficulties", "work").click()
    page.get_by_label("备注").fill("入户面谈，母亲也在，情绪平稳。")
    assert chip(page, "mood", "4").bounding_box()["height"] >= 48
    assert fits_the_phone(page)
    page.get_by_role("button", name="保存回访").click()

    expect(page).to_have_url(f"{live_server}/people/{overdue.id}")
    expect(page.get_by_text("回访已保存")).to_be_visible()
    entry = page.locator(".timeline-item").first
    expect(entry).to_contain_text("家访面谈")
    expect(entry).to_contain_text("入户面谈，母亲也在，情绪平稳。")
    expect(entry).to_contain_text("4/5")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="今日").click()
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    expect(page.locator(".due-row", has_text="王秀英")).to_have_count(0)
    assert violations == []


def test_a_draft_survives_a_reload_and_is_cleared_once_saved(page, live_server, overdue):
    sign_in(page, live_server)
    page.goto(f"{live_server}/people/{overdue.id}/visits/new")
    visit_id = page.locator('input[name="id"]').input_value()
    page.get_by_label("回访方式").select_option("phone_consultation")
    chip(page, "risk_flags", "no_income").click()
    page.get_by_label("备注").fill("她说最近找工作不顺")
    wait_for_drafts(page, 2)  # the draft and its slot

    page.reload()  # the phone locked, the tab was reloaded
    expect(page.get_by_label("备注")).to_have_value("她说最近找工作不顺")
    expect(page.get_by_label("回访方式")).to_have_value("phone_consultation")
    expect(page.locator('input[name="risk_flags"][value="no_income"]')).to_be_checked()
    expect(page.locator('input[name="id"]')).to_have_value(visit_id)
    expect(page.get_by_text("之前填写的内容保存在本机")).to_be_visible()

    page.get_by_role("button", name="保存回访").click()
    expect(page).to_have_url(f"{live_server}/people/{overdue.id}")
    wait_for_drafts(page, 0)
    expect(page.locator(f"#visit-{visit_id}")).to_contain_text("她说最近找工作不顺")
    page.goto(f"{live_server}/people/{overdue.id}/visits/new")
    expect(page.get_by_label("备注")).to_have_value("")
    assert page.locator('input[name="id"]').input_value() != visit_id
