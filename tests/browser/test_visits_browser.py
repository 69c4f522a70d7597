"""In headless Chromium at 360 px: record a home visit from Today, and a draft that survives."""

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import Visit
from app.types import utcnow
from tests.browser.offline import chip, expect_uncovered, settle_lock, signed_in, wait_until
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
    expect(chip(page, "kind", "home_visit").locator("input")).to_be_checked()
    expect(page.get_by_label("地点")).to_have_value("home")
    # fields by kind: a failed attempt asks for a reason and no assessment
    failure = page.locator('fieldset[data-kinds]:has(input[name="failure_reason"])')
    mood = page.locator('fieldset[data-kinds]:has(input[name="mood"])')
    expect(failure).to_be_hidden()
    chip(page, "kind", "attempt").click()
    expect(failure).to_be_visible()
    expect(mood).to_be_hidden()
    expect(page.get_by_label("地点")).to_have_value("phone")
    chip(page, "kind", "home_visit").click()
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

    # back on Today, where she came from
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_text("回访已保存到服务器")).to_be_visible()
    expect(page.locator(".due-row", has_text="王秀英")).to_have_count(0)
    page.goto(f"{live_server}/people/{overdue.id}")
    entry = page.locator(".timeline-item").first
    expect(entry).to_contain_text("家访面谈")
    expect(entry).to_contain_text("入户面谈，母亲也在，情绪平稳。")
    expect(entry).to_contain_text("4/5")
    assert violations == []


def test_a_draft_survives_a_reload_and_is_cleared_once_saved(page, live_server, overdue):
    sign_in(page, live_server)
    page.goto(f"{live_server}/people/{overdue.id}/visits/new")
    visit_id = page.locator('#visit-form input[name="id"]').input_value()
    chip(page, "kind", "phone_consultation").click()
    chip(page, "risk_flags", "no_income").click()
    page.get_by_label("备注").fill("她说最近找工作不顺")
    wait_for_drafts(page, 2)  # the draft and its slot

    page.reload()  # the phone locked, the tab was reloaded
    expect(page.get_by_label("备注")).to_have_value("她说最近找工作不顺")
    expect(chip(page, "kind", "phone_consultation").locator("input")).to_be_checked()
    expect(page.locator('input[name="risk_flags"][value="no_income"]')).to_be_checked()
    expect(page.locator('#visit-form input[name="id"]')).to_have_value(visit_id)
    expect(page.get_by_text("之前填写的内容保存在本机")).to_be_visible()

    page.get_by_role("button", name="保存回访").click()
    expect(page).to_have_url(f"{live_server}/people/{overdue.id}")
    wait_for_drafts(page, 0)
    expect(page.locator(f"#visit-{visit_id}")).to_contain_text("她说最近找工作不顺")
    page.goto(f"{live_server}/people/{overdue.id}/visits/new")
    expect(page.get_by_label("备注")).to_have_value("")
    assert page.locator('#visit-form input[name="id"]').input_value() != visit_id


# test only: the dialer a tel: link opens is not there in headless Chromium, so the tap
# leaves the page where it is, as a phone does while the call is on
NO_DIALER = """() => document.addEventListener('click', (event) => {
  if (event.target.closest('a[href^="tel:"]')) event.preventDefault();
})"""
BACK_FROM_THE_CALL = "() => document.dispatchEvent(new Event('visibilitychange'))"


def test_a_call_from_today_that_nobody_answers_is_one_tap(page, live_server, db, overdue):
    overdue.phone = "13800001111"
    db.add(overdue)
    db.commit()
    sign_in(page, live_server)
    page.evaluate(NO_DIALER)
    row = page.locator(".due-row", has_text="王秀英")
    row.get_by_role("link", name="拨打 王秀英 的电话").click()
    started = page.evaluate(
        "() => { const d = new Date(); d.setSeconds(0, 0); return d.getTime(); }"
    )
    page.evaluate(BACK_FROM_THE_CALL)  # she hangs up and is back in Clover

    expect(page.get_by_role("heading", name="记录回访")).to_be_visible()
    expect(chip(page, "kind", "phone_consultation").locator("input")).to_be_checked()
    typed = page.locator("#occurred_at").input_value()
    assert page.evaluate(f"() => new Date('{typed}').getTime()") >= started - 60_000
    no_answer = page.get_by_role("button", name="未接通：记一次未联系上")
    expect(no_answer).to_be_visible()
    assert no_answer.bounding_box()["height"] >= 48
    no_answer.click()

    # back on Today, told where it is; a failed attempt leaves her overdue
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_text("未联系上的尝试已保存到服务器")).to_be_visible()
    expect(page.locator(".due-row", has_text="王秀英")).to_contain_text("逾期")
    [attempt] = [
        v
        for v in db.exec(select(Visit).where(Visit.person_id == overdue.id))
        if v.kind == "attempt"
    ]
    assert attempt.failure_reason == "no_answer"


def test_the_kind_first_a_save_bar_in_reach_and_back_to_today(page, live_server, overdue):
    sign_in(page, live_server)
    page.get_by_role("link", name="为 王秀英 记录回访").click()
    expect(page.get_by_role("heading", name="记录回访")).to_be_visible()
    settle_lock(page)  # the form as she meets it: her offline store open, nothing over it
    # the kinds are large buttons, first on the form
    kinds = page.locator("#kind label.chip")
    assert kinds.count() >= 4
    assert all(kinds.nth(n).bounding_box()["height"] >= 48 for n in range(kinds.count()))
    assert (
        page.locator("#kind").bounding_box()["y"] < page.locator("#occurred_at").bounding_box()["y"]
    )
    chip(page, "kind", "phone_consultation").click()
    # the save button stays on the screen while the form scrolls under it
    save = page.get_by_role("button", name="保存回访")
    assert save.bounding_box()["y"] + save.bounding_box()["height"] <= 740
    expect_uncovered(save)
    page.get_by_label("备注").fill("电话回访，近况稳定。")
    save.click()

    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_text("回访已保存到服务器")).to_be_visible()
    expect(page.locator(".due-row", has_text="王秀英")).to_have_count(0)
