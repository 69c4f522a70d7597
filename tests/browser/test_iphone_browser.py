"""Clover on an iPhone: in Safari it asks to be added to the Home Screen before reminders.

Chromium plays the iPhone by its User-Agent. With CLOVER_DOCS_SCREENSHOT set to a file
name, the test also saves the picture of the reminders section the README shows.
"""

import os

import pytest
from playwright.sync_api import expect

from tests.browser.test_reminders_browser import sign_in

pytestmark = pytest.mark.browser

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; V2203A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36"
)
MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
ADD_FIRST = "先把三叶草添加到主屏幕，再开启提醒"


@pytest.fixture
def iphone(browser):
    """Safari on an iPhone 14 (390 x 844), as far as a page can tell."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        user_agent=IPHONE,
    )
    yield context.new_page()
    context.close()


def test_iphone_in_safari_is_asked_to_add_clover_to_the_home_screen_first(
    push_app, live_server, iphone, make_user
):
    push_app.config["CLOVER_SMS_URL"] = "http://127.0.0.1:9/sms"  # offered, never called
    make_user("officer1")
    sign_in(iphone, live_server)
    iphone.goto(f"{live_server}/settings/")
    status = iphone.locator("#push-status")
    expect(status).to_contain_text(ADD_FIRST)
    expect(status).to_contain_text("添加到主屏幕")
    expect(iphone.get_by_role("button", name="在这部手机上提醒我")).to_be_hidden()
    if path := os.environ.get("CLOVER_DOCS_SCREENSHOT"):
        iphone.locator("#reminders").evaluate(
            """(section) => window.scrollTo(0, section.getBoundingClientRect().top
                + window.scrollY - document.querySelector('.topbar').offsetHeight - 8)"""
        )
        iphone.screenshot(path=path)


@pytest.mark.parametrize(
    ("env", "needs"),
    [
        ({"userAgent": IPHONE, "displayMode": "browser"}, True),
        ({"userAgent": IPHONE, "standalone": True, "displayMode": "standalone"}, False),
        ({"userAgent": IPHONE, "displayMode": "standalone"}, False),
        # iPadOS asks for desktop pages: a Mac with a touch screen is an iPad
        ({"userAgent": MAC, "platform": "MacIntel", "maxTouchPoints": 5}, True),
        ({"userAgent": MAC, "platform": "MacIntel", "maxTouchPoints": 0}, False),
        ({"userAgent": ANDROID, "displayMode": "browser"}, False),
    ],
    ids=["safari", "home-screen", "display-mode", "ipad", "mac", "android"],
)
def test_only_an_iphone_or_ipad_not_on_the_home_screen_needs_it(live_server, page, env, needs):
    page.goto(f"{live_server}/auth/login")
    page.wait_for_function("() => window.CloverReminders !== undefined")
    assert page.evaluate("(env) => window.CloverReminders.needsHomeScreen(env)", env) is needs


def test_android_chrome_is_not_asked_to_add_to_the_home_screen(
    push_app, live_server, page, make_user
):
    make_user("officer1")
    sign_in(page, live_server)
    page.goto(f"{live_server}/settings/")
    expect(page.get_by_role("button", name="在这部手机上提醒我")).to_be_visible()
    expect(page.locator("#push-status")).not_to_contain_text(ADD_FIRST)
