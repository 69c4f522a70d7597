"""axe-core on every main page, at 360 px, in Chinese and in English: no violation.

axe is vendored for the tests only (tests/browser/vendor, MPL-2.0) and never served by
Clover; it is injected into a context that lets the test's own script run beside the
pages' Content-Security-Policy, which stays as strict as ever for the pages themselves.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import GroupSession
from tests.browser.offline import first_person, settle_lock, sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-4.10.3.min.js"
# WCAG 2.1 A and AA, as axe checks them
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("options => axe.run(document, options)", RULES)["violations"]
    return [
        f"{v['id']}: {node['target']} {node.get('failureSummary', '')[:160]}"
        for v in found
        for node in v["nodes"]
    ]


@pytest.fixture
def audited(browser, browser_context_args):
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_officers_pages_have_no_accessibility_violation(audited, live_server, demo, language):
    page = audited
    officer, person = first_person(demo, "officer1")
    group = demo.exec(select(GroupSession).where(GroupSession.author_id == officer.id)).first()
    page.goto(f"{live_server}/auth/login")
    assert violations(page) == []
    sign_in(page, live_server, "officer1")
    if language == "en":
        page.goto(f"{live_server}/settings/")
        page.get_by_label("语言").select_option("en")
        page.get_by_role("button", name="保存", exact=True).click()
        expect(page.get_by_text("Settings saved.")).to_be_visible()
    for url in (
        "/",
        "/people/",
        f"/people/{person.id}",
        f"/people/{person.id}/visits/new",
        "/settings/",
        "/offline/outbox",
        "/groups",
        "/groups/new",
        f"/groups/{group.id}",
        f"/groups/{group.id}/versions",
    ):
        page.goto(f"{live_server}{url}")
        settle_lock(page)  # the page as she meets it, her offline store open
        assert violations(page) == [], url


def test_a_refused_visit_form_has_no_accessibility_violation(audited, live_server, demo):
    page = audited
    _officer, person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    page.goto(f"{live_server}/people/{person.id}/visits/new")
    page.locator("#occurred_at").fill("")
    page.get_by_role("button", name="保存回访").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    assert violations(page) == []


def test_the_supervisors_pages_have_no_accessibility_violation(audited, live_server, demo):
    page = audited
    sign_in(page, live_server, "supervisor")
    for url in ("/", "/reports/", "/people/", "/audit/"):
        page.goto(f"{live_server}{url}")
        settle_lock(page)  # the page as she meets it, her offline store open
        assert violations(page) == [], url
