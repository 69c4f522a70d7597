"""In headless Chromium at 360 px: her officer opens Today, finds her under release
preparation, and ticks an item on her ledger with a thumb-sized button."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import ReleasePreparation
from app.types import utcnow
from tests.browser.offline import expect_uncovered
from tests.browser.test_visits_browser import fits_the_phone, sign_in
from tests.factories import make_person

pytestmark = pytest.mark.browser


@pytest.fixture
def inside(db, unit, make_user):
    officer = make_user("officer1", display_name="陈雪梅")
    release = utcnow().date() + timedelta(days=45)
    return make_person(db, unit, officer, name="吴小兰", status="pre_release", release_date=release)


def test_tick_an_item_of_her_release_preparation_on_a_phone(page, live_server, inside, db):
    violations = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    sign_in(page, live_server)
    group = page.locator("#release-preparation")
    expect(group).to_contain_text("吴小兰")
    expect(group).to_contain_text("还剩 6 项")
    group.get_by_role("link", name="吴小兰").click()

    item = page.locator("#release-housing")
    expect(item).to_contain_text("住房落实")
    expect(item).to_contain_text("未完成")
    assert fits_the_phone(page)
    item.get_by_placeholder("备注（可选）").fill("暂住姐姐家")
    button = item.get_by_role("button", name="标记完成")
    button.scroll_into_view_if_needed()
    assert button.bounding_box()["height"] >= 44
    expect_uncovered(button)
    button.click()

    expect(page.get_by_text("已标记完成：住房落实。")).to_be_visible()
    item = page.locator("#release-housing")
    expect(item).to_contain_text("陈雪梅")
    expect(item).to_contain_text("暂住姐姐家")
    expect(item.get_by_role("button", name="标记未完成")).to_be_visible()
    expect(page.locator("#release")).to_contain_text("已完成 1 / 6 项")
    assert fits_the_phone(page)
    db.rollback()
    [row] = db.exec(select(ReleasePreparation)).all()
    assert (row.item, row.done, row.note) == ("housing", True, "暂住姐姐家")
    assert violations == []
