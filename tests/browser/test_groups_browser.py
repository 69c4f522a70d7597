"""A group session in real headless Chromium: recorded for eight women with no signal,
kept in the outbox, and saved once on the server when the signal returns. How long it takes
her (taps and seconds) is measured by `python -m bench.taps`, not asserted here."""

import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import GroupSession, User, Visit
from tests.browser.offline import outbox, sign_in, wait_for_outbox, wait_until_saved

pytestmark = pytest.mark.browser


def test_an_officer_records_a_group_session_for_eight_women_offline(
    page, context, live_server, demo
):
    officer = demo.exec(select(User).where(User.username == "officer1")).one()
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)

    context.set_offline(True)
    page.goto(f"{live_server}/")  # Today, from the copy on the phone
    page.get_by_role("link", name="记录团体活动").click()
    expect(page.get_by_role("heading", name="记录团体活动", level=1)).to_be_visible()
    page.get_by_label("主题").fill("情绪管理小组")
    page.get_by_label("地点").fill("社区康复站活动室")
    chips = page.locator('label.chip:has(input[name="attendees"])')
    assert chips.count() >= 8
    for n in range(8):
        chips.nth(n).click()
    expect(page.locator('input[name="attendees"]:checked')).to_have_count(8)
    page.get_by_role("button", name="保存团体活动").click()
    expect(page).to_have_url(f"{live_server}/outbox#saved-on-phone")
    [item] = outbox(page, officer.id)
    assert item["payload"]["type"] == "group.create"
    assert item["payload"]["record_id"] == item["payload"]["id"]
    assert len(item["payload"]["data"]["attendees"]) == 8
    expect(page.locator(".outbox-entry").first).to_contain_text("8 人")

    context.set_offline(False)
    wait_for_outbox(page, officer.id, 0)
    demo.rollback()
    group_id = uuid.UUID(item["payload"]["id"])
    group = demo.get(GroupSession, group_id)
    assert group.topic == "情绪管理小组" and group.author_id == officer.id
    visits = demo.exec(select(Visit).where(Visit.group_session_id == group_id)).all()
    assert len(visits) == 8 and all(visit.notes == "" for visit in visits)
