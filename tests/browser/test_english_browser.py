"""The officer's minute in English, at 360 px: Today, a call recorded from it online and
with no connection, the waiting visit on her ledger and in the Outbox, the search on the
phone, and signing out with no signal."""

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import Person
from tests.browser.offline import (
    chip,
    expect_uncovered,
    outbox,
    sign_in,
    wait_for_outbox,
    wait_until_saved,
)
from tests.browser.test_visits_browser import BACK_FROM_THE_CALL, NO_DIALER, fits_the_phone

pytestmark = pytest.mark.browser


def overlaps(first: dict, second: dict) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


def call_and_come_back(page, row) -> str:
    """Tap the row's call button, hang up, be back in Clover on the visit form."""
    name = row.locator("a[data-call-form]").get_attribute("aria-label").removeprefix("Call ")
    page.evaluate(NO_DIALER)
    row.locator("a[data-call-form]").click()
    page.evaluate(BACK_FROM_THE_CALL)
    expect(page.get_by_role("heading", name="Record visit")).to_be_visible()
    expect(chip(page, "kind", "phone_consultation").locator("input")).to_be_checked()
    assert fits_the_phone(page)
    expect_uncovered(page.get_by_role("button", name="Save visit"))
    return name


def test_an_officer_in_english_records_calls_online_and_offline(page, context, live_server, demo):
    sign_in(page, live_server, "officer1")
    page.goto(f"{live_server}/settings/")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()

    # Today: people first, every badge clear of the call button, nothing wider than 360
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    wait_until_saved(page)  # her pages kept again, now in English
    assert fits_the_phone(page)
    rows = page.locator(".due-row").filter(has=page.locator("a[data-call-form]"))
    assert rows.count() >= 2
    for n in range(rows.count()):
        call = rows.nth(n).locator("a[data-call-form]").bounding_box()
        for badge in rows.nth(n).locator(".badge").all():
            assert not overlaps(badge.bounding_box(), call)

    # online: the call, a note, save; back on Today, told it is on the server
    name = call_and_come_back(page, rows.first)
    page.get_by_label("Notes").fill("Phoned her; she is well.")
    page.get_by_role("button", name="Save visit").click()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(page.get_by_text("Visit saved on the server")).to_be_visible()

    # no connection: the kept Today, the same minute, told it is on this phone
    context.set_offline(True)
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    row = page.locator(".due-row").filter(has=page.locator("a[data-call-form]")).first
    name = call_and_come_back(page, row)
    page.get_by_label("Notes").fill("No signal in the stairwell; she is fine.")
    page.get_by_role("button", name="Save visit").click()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(page.get_by_text("Saved on this phone.")).to_be_visible()

    # her ledger shows it in full and lets her correct it; the Outbox names her
    person = demo.exec(select(Person).where(Person.name == name)).first()
    page.goto(f"{live_server}/people/{person.id}")
    entry = page.locator(".outbox-entry")
    expect(entry).to_contain_text("No signal in the stairwell; she is fine.")
    expect(entry.get_by_role("link", name="Correct")).to_be_visible()
    page.goto(f"{live_server}/outbox")
    expect(page.locator(".outbox-person-name")).to_have_text([name])
    expect(page.locator(".outbox-person")).to_contain_text("Phone consultation")
    expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_visible()

    # the search runs on the phone, in English
    page.goto(f"{live_server}/people/")
    page.get_by_label("Search").fill(name)
    expect(page.locator("#people-count")).to_have_text("On this phone: 1 found")

    # back in signal: the visit lands once
    context.set_offline(False)
    page.goto(f"{live_server}/")
    officer_id = page.evaluate("document.body.dataset.userId")
    wait_for_outbox(page, officer_id, 0)
    assert outbox(page, officer_id) == []

    # signing out with no signal: the offline page says what happened, in English only
    context.set_offline(True)
    page.goto(f"{live_server}/settings/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out on this phone")).to_be_visible()
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_hidden()
