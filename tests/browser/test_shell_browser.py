"""In real headless Chromium on a phone-sized screen: sign in, Today in Chinese, then English."""

import pytest
from playwright.sync_api import expect

from tests.browser.offline import signed_in

pytestmark = pytest.mark.browser


def test_officer_signs_in_sees_today_in_chinese_then_switches_to_english(page, live_server, demo):
    csp_violations = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/auth/login?next=%2F")
    page.get_by_label("用户名").fill("officer1")
    page.get_by_label("密码").fill("clover-demo-2026")
    page.get_by_role("button", name="登录").click()
    signed_in(page)

    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_text("陈雪梅，您好")).to_be_visible()
    expect(page.locator(".person-row").first).to_be_visible()
    # nothing wider than the phone: no sideways scrolling at 360 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    nav = page.get_by_role("navigation", name="主导航")
    for link in nav.get_by_role("link").all():
        assert link.bounding_box()["height"] >= 48

    nav.get_by_role("link", name="设置").click()
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert csp_violations == []
