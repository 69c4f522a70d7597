"""In headless Chromium at 360 px: a conflict between two phones, resolved by the officer."""

import uuid

import pytest
from playwright.sync_api import expect

from app.models import SyncConflict, Visit
from app.sync.push import push_items
from tests.browser.test_visits_browser import sign_in
from tests.factories import make_person
from tests.sync_world import create_item, edit_item, fresh

pytestmark = pytest.mark.browser


def test_the_officer_merges_two_phones_notes_at_360_px(page, live_server, db, unit, make_user):
    officer = make_user("officer1", display_name="陈雪梅")
    person = make_person(db, unit, officer, name="王秀英")
    created = create_item(person)
    first = edit_item(created, 1, notes="手机一：她找到了工作。")
    second = edit_item(created, 1, notes="手机二：她母亲住院了。")
    answers = push_items(session=db, user=officer, items=[created, first, second])
    assert [a.status for a in answers] == ["created", "edited", "conflict"]
    conflict_id = answers[2].conflict_id

    sign_in(page, live_server)
    page.goto(f"{live_server}/sync/conflicts")
    page.get_by_role("link", name="王秀英").click()
    field = page.locator("#field-notes")
    mine, current = field.locator('[data-side="mine"]'), field.locator('[data-side="current"]')
    expect(mine).to_have_text("手机二：她母亲住院了。")
    expect(current).to_have_text("手机一：她找到了工作。")
    # stacked on a narrow phone: hers above the current value, each a full-width row
    mine_box, current_box = mine.bounding_box(), current.bounding_box()
    assert mine_box["y"] + mine_box["height"] <= current_box["y"]
    for choice in field.locator("label.conflict-side").all():
        assert choice.bounding_box()["height"] >= 48
    field.locator('input[value="merged"]').check()
    field.locator("textarea").fill("她找到了工作；她母亲住院了。")
    page.get_by_role("button", name="保存为新版本").click()
    # the visit's versions: the new one, the one it replaced, and hers linked from there
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#version-3")).to_contain_text("她找到了工作；她母亲住院了。")
    expect(page.locator("#version-2")).to_contain_text("手机一：她找到了工作。")
    page.locator(f'a[href="/sync/conflicts/{conflict_id}"]').click()
    expect(page.locator('[data-side="mine"]').first).to_contain_text("手机二：她母亲住院了。")
    expect(page.locator('input[type="radio"]')).to_have_count(0)

    visit = fresh(db, Visit, uuid.UUID(created["id"]))
    assert (visit.version, visit.notes) == (3, "她找到了工作；她母亲住院了。")
    assert fresh(db, SyncConflict, conflict_id).resolved_version == 3
