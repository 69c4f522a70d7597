"""In headless Chromium at 360 px: her officer gives her a check-in link from her ledger;
in a browser with no session she opens it, checks in and asks to talk, and her page shows
nothing of her record; her officer then finds her first on Today."""

import pytest
from playwright.sync_api import expect

from tests.browser.offline import chip, expect_uncovered
from tests.browser.test_visits_browser import fits_the_phone, sign_in
from tests.factories import make_person

pytestmark = pytest.mark.browser

NAME, PHONE, ADDRESS, OFFICER = "王秀英", "13800138000", "重庆市渝中区解放碑街道 8 号", "陈雪梅"


@pytest.fixture
def person(db, unit, make_user):
    officer = make_user("officer1", display_name=OFFICER)
    return make_person(db, unit, officer, name=NAME, phone=PHONE, address=ADDRESS)


def watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    return violations


def test_she_checks_in_from_her_link_and_her_page_shows_nothing_of_her(
    page, browser, browser_context_args, live_server, person
):
    officer_violations = watch_csp(page)
    sign_in(page, live_server)
    page.goto(f"{live_server}/people/{person.id}")
    section = page.locator("#check-in")
    expect(section).to_contain_text("线上打卡链接")
    expect(section).to_contain_text("未配置短信服务")
    expect(section.get_by_role("button", name="用短信发送新链接")).to_have_count(0)
    section.get_by_role("button", name="生成链接").click()
    expect(page.get_by_role("heading", name="她的打卡链接", level=1)).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    link = page.locator("#check-in-url").input_value()
    assert link.startswith(f"{live_server}/c/")
    assert fits_the_phone(page)

    # her phone: a fresh browser, no account, no cookie of the officer's
    hers = browser.new_context(**browser_context_args)
    phone = hers.new_page()
    violations = watch_csp(phone)
    phone.goto(link)
    expect(phone.get_by_role("heading", name="线上打卡", level=1)).to_be_visible()
    for word in (NAME, PHONE, ADDRESS, OFFICER):
        assert word not in phone.content()
    assert fits_the_phone(phone)
    assert chip(phone, "mood", "4").bounding_box()["height"] >= 48
    chip(phone, "mood", "4").click()
    chip(phone, "craving", "3").click()
    chip(phone, "talk", "yes").click()
    phone.get_by_label("想说的话（可不填）").fill("想和干部聊聊工作的事")
    send = phone.get_by_role("button", name="提交打卡")
    send.scroll_into_view_if_needed()
    expect_uncovered(send)
    send.click()
    expect(phone.locator("#check-in-done")).to_contain_text("谢谢，打卡已收到。")
    for word in (NAME, PHONE, ADDRESS, OFFICER):
        assert word not in phone.content()
    assert violations == []
    hers.close()

    # her officer: first on Today, the check-in on her ledger
    page.goto(live_server)
    risk = page.locator("#risk")
    expect(risk).to_contain_text(NAME)
    expect(risk).to_contain_text("她想找人聊聊")
    page.goto(f"{live_server}/people/{person.id}")
    expect(page.locator("#timeline")).to_contain_text("本人打卡")
    expect(page.locator("#timeline")).to_contain_text("想和干部聊聊工作的事")
    expect(page.locator("#check-in")).to_contain_text("最近一次打卡")
    assert officer_violations == []
