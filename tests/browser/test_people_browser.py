"""On a 360 px phone in real Chromium: find a person by pinyin initials and open her ledger."""

import pytest
from playwright.sync_api import expect

from tests.browser.offline import sign_in, signed_in
from tests.conftest import PASSWORD, TOTP_SECRET

pytestmark = pytest.mark.browser


def test_officer_finds_a_person_by_pinyin_initials_and_opens_her_ledger(page, live_server, world):
    world.add("zeng", "曾丽", officer="officer", phone="13600002222")
    world.add("zhao", "赵敏", officer="officer")
    csp_violations = []
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("用户名").fill("officer1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    signed_in(page)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="帮扶对象").click()
    expect(page.get_by_role("heading", name="帮扶对象", level=1)).to_be_visible()
    rows = page.locator("#people-results .person-row")
    expect(rows).to_have_count(3)

    # typing searches as she types: no button, no page load
    page.get_by_label("搜索").press_sequentially("zxm", delay=60)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("张晓梅")
    expect(page).to_have_url(f"{live_server}/people/?q=zxm&status=")
    # the surname reading of 曾 is zeng, though pypinyin reads the character ceng first
    page.get_by_label("搜索").fill("zengl")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("曾丽")
    page.get_by_label("搜索").fill("2222")
    expect(rows.first).to_contain_text("曾丽")
    page.get_by_label("搜索").fill("zxm")
    expect(rows.first).to_contain_text("张晓梅")
    expect(rows).to_have_count(1)
    assert rows.first.bounding_box()["height"] >= 48
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    rows.first.locator(".row-link").click()
    expect(page.get_by_role("heading", name="张晓梅", level=1)).to_be_visible()
    call = page.locator('a[href="tel:13812345678"]').first
    expect(call).to_be_visible()
    assert call.bounding_box()["height"] >= 48
    expect(page.get_by_role("heading", name="帮扶计划")).to_be_visible()
    expect(page.get_by_text("500***********", exact=False)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # the printed ledger: no navigation, the unit's name in the header
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="主导航")).to_be_hidden()
    expect(page.locator(".print-head")).to_contain_text("测试工作室")
    assert csp_violations == []


def test_supervisor_reveals_an_id_number_in_place(page, live_server, world):
    person = world.people["mine"]
    number = world.cipher.decrypt(person.id_number_encrypted)
    # her role requires a second factor: the helper gives the code when asked
    sign_in(page, live_server, "supervisor", password=PASSWORD, totp_secret=TOTP_SECRET)
    page.goto(f"{live_server}/people/{person.id}")
    expect(page.locator("#id-number")).to_contain_text(number[:3] + "*" * 11 + number[-4:])
    page.get_by_role("button", name="显示完整号码").click()
    expect(page.locator("#id-number")).to_contain_text(number)
    expect(page.get_by_role("heading", name="张晓梅", level=1)).to_be_visible()
