"""In real headless Chromium on a 360 px phone: the second factor from enrolment to a replay."""

import pytest
from playwright.sync_api import expect

from tests.browser.offline import LOCK_STATE, sign_in, signed_in, unspent_code
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def watch_csp(page) -> list:
    violations: list = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def password_step(page, base, username):
    page.goto(f"{base}/auth/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def give_code(page, code):
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="继续").click()


def arrive(page):
    """On Today after a sign-in, with this phone's offline store opened (a PIN set when the
    phone asks for one at her first sign-in here)."""
    signed_in(page)
    page.wait_for_function(f"() => ({LOCK_STATE})() === 'open'")


def sign_out(page, base):
    page.goto(f"{base}/settings/")
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="登录", level=1)).to_be_visible()


def test_a_new_supervisor_enrols_signs_in_with_a_code_and_a_recovery_code_and_a_replay_fails(
    page, live_server, make_user
):
    violations = watch_csp(page)
    make_user("head", role="supervisor", enrolled=False, display_name="李静")
    today = page.get_by_role("heading", name="今日", level=1)
    refused = page.get_by_text("验证码不正确，或已使用过。")

    # her first sign-in: a QR code and the key as text, confirmed with a code
    password_step(page, live_server, "head")
    expect(page.get_by_role("heading", name="设置两步验证", level=1)).to_be_visible()
    qr = page.locator("figure.qr svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] <= 360
    assert fits_the_phone(page)
    secret = page.locator("[data-totp-secret]").inner_text().replace(" ", "")
    assert len(secret) == 32
    page.get_by_label("验证码").fill(unspent_code(page, live_server, "head", secret))
    page.get_by_role("button", name="确认").click()

    # ten recovery codes, shown once, then in
    expect(page.get_by_role("heading", name="恢复码", level=1)).to_be_visible()
    codes = page.locator("[data-recovery-codes] code").all_inner_texts()
    assert len(set(codes)) == 10
    # the page stays until she goes on: the phone's lock does not take her away to a PIN
    page.wait_for_load_state("networkidle")
    expect(page).to_have_url(f"{live_server}/auth/enrol")
    expect(page.get_by_role("heading", name="恢复码", level=1)).to_be_visible()
    assert fits_the_phone(page)
    page.get_by_role("link", name="我已保存，继续").click()
    arrive(page)
    sign_out(page, live_server)

    # a sign-in with the code her app shows
    password_step(page, live_server, "head")
    expect(page.get_by_role("heading", name="两步验证", level=1)).to_be_visible()
    assert fits_the_phone(page)
    code = unspent_code(page, live_server, "head", secret)
    give_code(page, code)
    arrive(page)
    sign_out(page, live_server)

    # the same code again is refused: a code is good once
    password_step(page, live_server, "head")
    give_code(page, code)
    expect(refused).to_be_visible()
    expect(today).to_have_count(0)

    # a recovery code lets her in instead, once
    give_code(page, codes[0])
    arrive(page)
    sign_out(page, live_server)
    password_step(page, live_server, "head")
    give_code(page, codes[0])
    expect(refused).to_be_visible()
    give_code(page, codes[1])
    arrive(page)

    # Settings: on, with eight codes left
    page.goto(f"{live_server}/settings/second-factor")
    expect(page.get_by_text("还剩 8 个恢复码。")).to_be_visible()
    assert violations == []


def test_the_demo_supervisor_signs_in_with_the_published_secret(page, live_server, demo):
    violations = watch_csp(page)
    sign_in(page, live_server, "supervisor")
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    assert violations == []
