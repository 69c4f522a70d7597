"""Taps and seconds to record a phone consultation from Today, and a group session for eight
women with no signal: `python -m bench.taps`.

The demo is loaded into a temporary SQLite database and served on 127.0.0.1; Playwright
drives Debian's Chromium as a 360 x 740 touch phone. officer1 signs in, sets her PIN and
waits for her caseload to be saved on the phone. Then, from Today, online and with no
connection, she records a phone consultation with the first woman due who has a phone
number: the call button (the dialer does not exist here: the page stays, as a phone's does
during the call, and she comes back to Clover), a tap on the notes and a short note, the
save button; and a call nobody answered: the call button and the one-tap "no answer".
Each flow counts her taps and times, by the script, from the tap on the call button
(the call itself excluded) until Today shows where the record is. Typing is not a tap.
Last, with no connection, she opens the group session form from Today, records a session
(its topic and place typed, eight women ticked) and saves it to the outbox: timed from the
tap on Today's link until the outbox shows it.
"""

import os
import time

from bench.demo_server import CHROME_ARGS, demo_server, sign_in_on_the_phone

PHONE = {"width": 360, "height": 740}
# the dialer a tel: link opens is not there in headless Chromium: the page stays put
NO_DIALER = """() => document.addEventListener('click', (event) => {
  if (event.target.closest('a[href^="tel:"]')) event.preventDefault();
})"""
BACK_FROM_THE_CALL = "() => document.dispatchEvent(new Event('visibilitychange'))"


class Phone:
    """Her phone: every tap counted."""

    def __init__(self, page):
        self.page = page
        self.taps = 0

    def tap(self, locator) -> None:
        locator.tap()
        self.taps += 1


def record_from_today(phone: Phone, *, answered: bool, confirmation: str) -> float:
    """One call from Today, recorded; seconds from the call button to the confirmation."""
    from playwright.sync_api import expect

    page = phone.page
    page.evaluate(NO_DIALER)
    row = page.locator(".due-row").filter(has=page.locator("a[data-call-form]")).first
    started = time.perf_counter()
    phone.tap(row.locator("a[data-call-form]"))
    page.evaluate(BACK_FROM_THE_CALL)  # she hangs up and is back in Clover
    expect(page.get_by_role("heading", name="记录回访")).to_be_visible()
    if answered:
        phone.tap(page.get_by_label("备注"))
        page.keyboard.type("电话回访，近况稳定。")
        phone.tap(page.get_by_role("button", name="保存回访"))
    else:
        phone.tap(page.get_by_role("button", name="未接通：记一次未联系上"))
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    expect(page.get_by_text(confirmation).first).to_be_visible()
    return time.perf_counter() - started


def group_session_offline(phone: Phone, attendees: int = 8) -> float:
    """A group session for `attendees` women, recorded with no signal; seconds to the outbox."""
    from playwright.sync_api import expect

    page = phone.page
    started = time.perf_counter()
    phone.tap(page.get_by_role("link", name="记录团体活动"))
    expect(page.get_by_role("heading", name="记录团体活动", level=1)).to_be_visible()
    phone.tap(page.get_by_label("主题"))
    page.keyboard.type("情绪管理小组")
    phone.tap(page.get_by_label("地点"))
    page.keyboard.type("社区康复站活动室")
    chips = page.locator('label.chip:has(input[name="attendees"])')
    for n in range(attendees):
        phone.tap(chips.nth(n))
    phone.tap(page.get_by_role("button", name="保存团体活动"))
    expect(page.locator(".outbox-entry", has_text=f"{attendees} 人")).to_be_visible()
    return time.perf_counter() - started


def main() -> int:
    from playwright.sync_api import sync_playwright

    flows = [
        ("online", "answered", True, "回访已保存到服务器"),
        ("online", "no answer", False, "未联系上的尝试已保存到服务器"),
        ("offline", "answered", True, "已保存在本机"),
        ("offline", "no answer", False, "已保存在本机"),
    ]
    print("officer1 of the demo records a call from Today (360 x 740, touch)")
    print(f"{'connection':<11} {'call':<15} {'taps':>4} {'seconds':>8}")
    with demo_server("taps") as (_app, base, _work), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROME_ARGS
        )
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
        page = context.new_page()
        sign_in_on_the_phone(page, base)
        for connection, call, answered, confirmation in flows:
            context.set_offline(connection == "offline")
            page.goto(f"{base}/")
            phone = Phone(page)
            seconds = record_from_today(phone, answered=answered, confirmation=confirmation)
            print(f"{connection:<11} {call:<15} {phone.taps:>4} {seconds:>8.2f}")
        context.set_offline(True)
        page.goto(f"{base}/")
        phone = Phone(page)
        seconds = group_session_offline(phone)
        print(f"{'offline':<11} {'group, 8 women':<15} {phone.taps:>4} {seconds:>8.2f}")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
