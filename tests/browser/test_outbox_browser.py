"""The outbox in real headless Chromium: a visit recorded with no signal waits on the phone,
survives a reload, and lands on the server exactly once, through a flaky server, an
expired session, another user on the same phone and a sign-out with items waiting."""

import json
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import Person, SyncConflict
from tests.browser.offline import (
    first_person,
    outbox,
    record_offline,
    sign_in,
    unlock,
    visits_with,
    wait_for_outbox,
    wait_until,
    wait_until_saved,
)
from tests.factories import save_visit

pytestmark = pytest.mark.browser
PUSH = "**/api/v1/sync/push"


def signed_out(page):
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()


def badge_count(page, count):
    counter = page.locator("#sync-state [data-sync-count]")
    if count:
        expect(counter).to_have_text(str(count))
    else:
        expect(counter).to_be_hidden()


def test_a_visit_recorded_offline_waits_and_lands_once(page, context, live_server, demo):
    officer, person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    kept_form = page.evaluate(
        "([id, url]) => CloverStore.readPage(id, url).then(p => p.html)",
        [str(officer.id), f"/people/{person.id}/visits/new"],
    )

    visit_id = record_offline(page, context, live_server, person, "楼里没有信号，先记在手机上")
    # a fresh UUID minted on the phone, never the one rendered into the kept form
    assert visit_id not in kept_form
    expect(page.locator(".outbox-entry").first).to_contain_text("等待同步")
    badge_count(page, 1)
    expect(page.locator("#sync-state")).to_have_attribute("data-state", "offline")

    page.reload()  # still offline: the item is in the outbox and on the ledger
    expect(page.locator(f'.outbox-entry[data-outbox-id="{visit_id}"]')).to_be_visible()
    [item] = outbox(page, officer.id)
    assert item["payload"]["type"] == "visit.create"
    assert item["payload"]["data"]["person_id"] == str(person.id)
    assert item["payload"]["data"]["notes"] == "楼里没有信号，先记在手机上"
    assert visits_with(demo, visit_id) == []

    context.set_offline(False)
    wait_for_outbox(page, officer.id, 0)
    badge_count(page, 0)
    expect(page.locator("#sync-state")).to_have_attribute("data-state", "synced")
    assert outbox(page, officer.id) == []
    [visit] = visits_with(demo, visit_id)
    assert visit.notes == "楼里没有信号，先记在手机上" and visit.author_id == officer.id

    # the ledger kept on the phone was saved again after the sync: offline it shows the visit
    context.set_offline(True)
    page.reload()
    expect(page.locator(f"#visit-{visit_id}")).to_contain_text("楼里没有信号")
    expect(page.locator(".outbox-entry")).to_have_count(0)


def test_a_flaky_server_gets_the_visit_once(page, context, live_server, demo):
    officer, person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    visit_id = record_offline(page, context, live_server, person, "服务器不稳定")

    attempts = []

    def flaky(route):
        attempts.append(route.request.post_data_json)
        if len(attempts) == 1:
            route.abort("connectionreset")
        elif len(attempts) == 2:
            route.fulfill(status=500, body="boom")
        else:
            route.continue_()

    page.clock.install()  # her retries wait 2 to 4 s, then 4 to 8: the test moves the clock
    context.route(PUSH, flaky)
    context.set_offline(False)
    for failed in (1, 2):
        wait_until(page, lambda n=failed: len(attempts) >= n, message=f"no attempt {failed}")
        page.clock.fast_forward("00:10")  # past her longest wait after this failure
    wait_for_outbox(page, officer.id, 0)
    badge_count(page, 0)
    assert len(attempts) >= 3
    assert all(body["items"][0]["id"] == visit_id for body in attempts)
    assert len(visits_with(demo, visit_id)) == 1
    assert outbox(page, officer.id) == []


def test_an_expired_session_keeps_the_outbox_until_she_signs_in(
    page, context, live_server, demo, app
):
    officer, person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    page.clock.install()
    visit_id = record_offline(page, context, live_server, person, "一整天都没有信号")
    # a whole day offline: her session has expired on the server meanwhile
    page.clock.fast_forward("24:00:00")
    # a day away: the app locked itself; her PIN opens it again, still offline
    expect(page.get_by_role("heading", name="三叶草已锁定")).to_be_visible()
    unlock(page)
    expect(page.get_by_role("heading", name=person.name, level=1)).to_be_visible()
    idle = app.config["CLOVER_IDLE_FIELD"]
    app.config["CLOVER_IDLE_FIELD"] = timedelta(0)
    try:
        context.set_offline(False)
        expect(page.locator("#sync-state")).to_have_attribute("data-state", "signin")
    finally:
        app.config["CLOVER_IDLE_FIELD"] = idle
    assert [item["id"] for item in outbox(page, officer.id)] == [visit_id]
    assert visits_with(demo, visit_id) == []

    sign_in(page, live_server, "officer1")  # a new session, a new CSRF token
    wait_for_outbox(page, officer.id, 0)
    badge_count(page, 0)
    assert len(visits_with(demo, visit_id)) == 1


def test_sign_out_with_waiting_items_and_another_user_on_the_phone(
    page, context, live_server, demo
):
    officer, person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    visit_id = record_offline(page, context, live_server, person, "交班前记下")

    sent = []

    def refuse(route):
        sent.append(route.request.post_data or "")
        route.fulfill(status=503, body="down")

    context.route(PUSH, refuse)
    context.set_offline(False)
    page.goto(f"{live_server}/settings/")
    page.get_by_role("button", name="退出登录").click()
    dialog = page.locator("#sign-out-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("1")
    dialog.get_by_role("button", name="仍然退出").click()
    signed_out(page)
    # her pages and drafts are gone from the phone; her outbox stays for her next sign-in,
    # sealed: only its id can be read without her key
    assert page.evaluate("id => CloverStore.pageUrls(id)", str(officer.id)) == []
    assert page.evaluate("id => CloverStore.outbox.ids(id)", str(officer.id)) == [visit_id]

    context.unroute(PUSH)
    sent.clear()
    context.route(PUSH, lambda route: (sent.append(route.request.post_data), route.continue_()))
    sign_in(page, live_server, "officer2")
    badge_count(page, 0)
    page.goto(f"{live_server}/outbox")
    expect(page.locator("[data-outbox-empty]")).to_be_visible()
    expect(page.locator("[data-outbox-list] .outbox-entry")).to_have_count(0)
    # one whole sync run for her, joined if one is under way: had it taken officer1's item,
    # the push would be in `sent` by the time it ends
    page.evaluate("() => window.CloverSyncNow()")
    assert not any(visit_id in (body or "") for body in sent)
    assert visits_with(demo, visit_id) == []

    page.goto(f"{live_server}/settings/")
    page.get_by_role("button", name="退出登录").click()  # nothing waiting: no question
    signed_out(page)
    sign_in(page, live_server, "officer1")
    wait_for_outbox(page, officer.id, 0)
    [visit] = visits_with(demo, visit_id)
    assert visit.author_id == officer.id
    assert any(visit_id in json.dumps(json.loads(body or "{}")) for body in sent)


def correct_offline(page, context, base, visit_id, note):
    """On a correction form opened while online, the signal drops before she saves."""
    page.goto(f"{base}/visits/{visit_id}/edit")
    expect(page.get_by_role("heading", name="更正回访")).to_be_visible()
    context.set_offline(True)
    page.get_by_label("备注").fill(note)
    page.get_by_role("button", name="保存更正").click()
    entry = page.locator(".outbox-entry").first
    expect(entry).to_have_attribute("data-state", "waiting")


def test_two_phones_correct_the_same_visit_and_she_resolves_the_conflict(
    page, context, browser, browser_context_args, live_server, demo
):
    officer, person = first_person(demo, "officer1")
    result = save_visit(
        demo,
        officer,
        {
            "id": str(uuid.uuid4()),
            "person_id": person.id,
            "kind": "phone_consultation",
            "occurred_at": "2026-11-20T10:00",
            "location": "phone",
            "notes": "最初的记录",
        },
    )
    visit_id = str(result.record.id)
    other_context = browser.new_context(**browser_context_args)
    other = other_context.new_page()
    try:
        for device in (page, other):
            sign_in(device, live_server, "officer1")
            wait_until_saved(device)
        correct_offline(page, context, live_server, visit_id, "手机甲的更正")
        correct_offline(other, other_context, live_server, visit_id, "手机乙的更正")

        context.set_offline(False)
        wait_for_outbox(page, officer.id, 0)
        [visit] = visits_with(demo, visit_id)
        assert (visit.version, visit.notes) == (2, "手机甲的更正")

        other_context.set_offline(False)
        wait_for_outbox(other, officer.id, 0)  # the server holds it now, as a conflict
        demo.rollback()
        [conflict] = demo.exec(select(SyncConflict)).all()
        [visit] = visits_with(demo, visit_id)
        assert (visit.version, visit.notes) == (2, "手机甲的更正")  # nothing overwritten

        other.goto(f"{live_server}/outbox")
        waiting = other.locator("[data-outbox-conflicts] li")
        expect(waiting).to_have_count(1)
        expect(waiting).to_contain_text("待处理冲突")
        waiting.get_by_role("link", name="去处理").click()
        expect(other).to_have_url(f"{live_server}/sync/conflicts/{conflict.id}")
        notes = other.locator("#field-notes")
        expect(notes.locator('[data-side="mine"]')).to_have_text("手机乙的更正")
        expect(notes.locator('[data-side="current"]')).to_have_text("手机甲的更正")
        other.get_by_role("button", name="保存为新版本").click()
        [visit] = visits_with(demo, visit_id)
        assert (visit.version, visit.notes) == (3, "手机乙的更正")
    finally:
        other_context.close()


def test_a_contact_correction_that_fails_to_post_waits_in_the_outbox(
    page, context, live_server, demo
):
    officer, person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    page.goto(f"{live_server}/people/{person.id}/contact")
    expect(page.get_by_role("heading", name="更正电话或住址")).to_be_visible()
    item_id = page.locator('input[name="item_id"]').input_value()
    page.get_by_label("电话").fill("13900001111")
    # online, but the server fails: the service worker keeps the change in the outbox
    context.route(f"**/people/{person.id}/contact", lambda route: route.fulfill(status=500))
    context.route(PUSH, lambda route: route.fulfill(status=503))
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page).to_have_url(f"{live_server}/people/{person.id}")
    entry = page.locator(f'.outbox-entry[data-outbox-id="{item_id}"]')
    expect(entry).to_contain_text("联系方式更正")
    [item] = outbox(page, officer.id)
    assert item["payload"]["type"] == "person.contact"
    assert item["payload"]["record_id"] == str(person.id)
    assert item["payload"]["data"]["phone"] == "13900001111"

    demo.rollback()
    assert demo.get(Person, person.id).phone != "13900001111"
    context.unroute(f"**/people/{person.id}/contact")
    page.locator("#sync-state").click()
    expect(page).to_have_url(f"{live_server}/outbox")
    listed = page.locator(f'[data-outbox-list] [data-outbox-id="{item_id}"]')
    expect(listed).to_contain_text("联系方式更正")
    expect(listed).to_contain_text("等待同步")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.unroute(PUSH)  # the server is back
    page.get_by_role("button", name="立即同步").click()
    wait_for_outbox(page, officer.id, 0)
    demo.rollback()
    assert demo.get(Person, person.id).phone == "13900001111"


def test_a_waiting_visit_shows_in_full_and_is_corrected_before_it_syncs(
    page, context, live_server, demo
):
    officer, person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    visit_id = record_offline(page, context, live_server, person, "电话里她说工作找到了")
    # saved on the phone, and said so
    expect(page.locator("[data-saved-on-phone]")).to_be_visible()
    entry = page.locator(f'.outbox-entry[data-outbox-id="{visit_id}"]')
    expect(entry).to_contain_text("电话里她说工作找到了")  # in full, not only its kind

    entry.get_by_role("link", name="更正").click()
    expect(page.get_by_role("heading", name="记录回访")).to_be_visible()
    expect(page.get_by_label("备注")).to_have_value("电话里她说工作找到了")
    page.get_by_label("备注").fill("电话里她说工作找到了，下周一上班")
    page.get_by_role("button", name="保存回访").click()

    expect(page).to_have_url(f"{live_server}/people/{person.id}")
    expect(page.locator(".outbox-entry")).to_have_count(1)  # replaced, not added
    expect(entry).to_contain_text("下周一上班")
    [item] = outbox(page, officer.id)
    assert item["id"] == visit_id
    assert item["payload"]["data"]["notes"] == "电话里她说工作找到了，下周一上班"

    context.set_offline(False)
    wait_for_outbox(page, officer.id, 0)
    [visit] = visits_with(demo, visit_id)
    assert visit.notes == "电话里她说工作找到了，下周一上班" and visit.version == 1
