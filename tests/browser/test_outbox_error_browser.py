"""One bad item never holds back the rest, in real headless Chromium: the server fails on
the middle of three changes queued offline; the other two are saved once and leave the
outbox, the middle one waits on the Outbox page with the server's message."""

import re

import pytest
from playwright.sync_api import expect

from app.sync import push
from tests.browser.offline import (
    first_person,
    outbox,
    record_offline,
    sign_in,
    visits_with,
    wait_for_outbox,
    wait_until_saved,
)

pytestmark = pytest.mark.browser


def test_an_item_the_server_fails_on_waits_for_her_and_the_rest_are_saved(
    page, context, live_server, demo, monkeypatch
):
    officer, person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    notes = ["第一次电话，情绪平稳", "第二次电话，服务器会出错", "第三次电话，约好下周见面"]
    first, middle, third = (
        record_offline(page, context, live_server, person, note) for note in notes
    )
    assert [item["id"] for item in outbox(page, officer.id)] == [first, middle, third]

    # the live server runs in this process: make it fail on the middle item only
    record = push.APPLY["visit.create"]
    failed = []

    def fail_on_middle(session, user, item, now):
        if str(item.id) == middle:
            failed.append(item.id)
            raise RuntimeError("a failure on the server, on this item only")
        return record(session, user, item, now)

    monkeypatch.setitem(push.APPLY, "visit.create", fail_on_middle)
    context.set_offline(False)
    wait_for_outbox(page, officer.id, 1)

    for saved, note in ((first, notes[0]), (third, notes[2])):
        [visit] = visits_with(demo, saved)
        assert visit.notes == note and visit.author_id == officer.id
    assert visits_with(demo, middle) == [] and len(failed) >= 1
    [waiting] = outbox(page, officer.id)
    assert waiting["id"] == middle and waiting["state"] == "attention"
    assert waiting["lastError"]["status"] == "error"
    reference = waiting["lastError"]["reference"]
    assert re.fullmatch(r"[0-9a-f]{12}", reference)
    [message] = waiting["lastError"]["errors"]["_form"]
    assert reference in message
    expect(page.locator("#sync-state")).to_have_attribute("data-state", "attention")

    page.goto(f"{live_server}/outbox")
    # grouped under whom it is for, named from her ledger kept on the phone
    expect(page.locator(".outbox-person-name")).to_have_text([person.name])
    listed = page.locator("[data-outbox-list] .outbox-entry")
    expect(listed).to_have_count(1)
    entry = listed.first
    expect(entry).to_have_attribute("data-outbox-id", middle)
    expect(entry).to_have_attribute("data-state", "attention")
    expect(entry).to_contain_text("需要处理")
    expect(entry.locator(".error")).to_have_text(message)
    expect(entry.locator(".error")).to_contain_text(reference)

    # the server is mended: she tries again and the middle one lands, once
    monkeypatch.setitem(push.APPLY, "visit.create", record)
    entry.get_by_role("button", name="重试").click()
    wait_for_outbox(page, officer.id, 0)
    [visit] = visits_with(demo, middle)
    assert visit.notes == notes[1]
    for saved in (first, third):
        assert len(visits_with(demo, saved)) == 1
