"""Offline use in real headless Chromium: installable, the caseload opens with no network,
one user's pages never reach another, sign-out forgets them, updates keep the offline data."""

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import Person, PersonStatus, User, UserSession
from tests.browser import offline
from tests.browser.offline import sign_in, wait_for_control, wait_for_value

pytestmark = pytest.mark.browser
SHELL_PREFIX = "clover-shell-"
POST_A_FORM = """action => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    document.body.append(form);
    form.submit();
}"""


def wait_until_saved(page):
    """As the shared helper, and the page says when the copy was saved."""
    offline.wait_until_saved(page)
    expect(page.locator("[data-offline-status]").first).to_contain_text("离线副本保存于")


def stored_urls(page, user_id):
    return page.evaluate("id => CloverStore.pageUrls(id)", str(user_id))


def cached_urls(page):
    """Every URL in Cache Storage, by cache name."""
    return page.evaluate(
        """async () => {
            const out = {};
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                out[name] = (await cache.keys()).map(r => new URL(r.url).pathname);
            }
            return out;
        }"""
    )


def caseload_of(db, username):
    """The officer and her open caseload (consent withdrawn: nothing kept on the phone)."""
    officer = db.exec(select(User).where(User.username == username)).one()
    people = db.exec(
        select(Person)
        .where(
            Person.assigned_officer_id == officer.id,
            Person.status != PersonStatus.closed,
            Person.consent_withdrawn_at.is_(None),
        )
        .order_by(Person.name)
    ).all()
    return officer, list(people)


def test_the_app_is_installable(browser_type, browser_type_launch_args, live_server, tmp_path):
    # a normal context is incognito, which is never installable: use a persistent one
    context = browser_type.launch_persistent_context(
        str(tmp_path / "profile"), **browser_type_launch_args
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server}/auth/login")
        wait_for_control(page)
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        manifest = cdp.send("Page.getAppManifest")
        cdp.detach()
        assert errors == []
        assert manifest["url"].partition("?")[0].endswith("/static/manifest.webmanifest")
        assert manifest["errors"] == []
    finally:
        context.close()


def test_the_caseload_opens_offline(page, context, live_server, demo):
    officer, people = caseload_of(demo, "officer1")
    person = people[0]
    console = []
    page.on("console", lambda message: console.append(message.text))
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    saved = set(stored_urls(page, officer.id))
    ledgers = {f"/people/{p.id}" for p in people}
    forms = {f"/people/{p.id}/visits/new" for p in people}
    assert {"/", "/settings/", "/people/", "/groups/new"} | ledgers | forms == saved
    # personal pages live in the offline store only, never in Cache Storage
    caches = cached_urls(page)
    assert len(caches) == 1 and next(iter(caches)).startswith(SHELL_PREFIX)
    shell = next(iter(caches.values()))
    assert "/offline" in shell and "/static/js/offline-store.js" in shell
    assert not any(url == "/" or url.startswith("/people") for url in shell)

    # who Today lists online (whoever is due), Today lists from the copy on the phone
    [due] = [p for p in people if page.locator(".due-row", has_text=p.name).count()][:1]
    context.set_offline(True)
    response = page.reload()
    assert response.from_service_worker
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    expect(page.locator(".due-row", has_text=due.name).first).to_be_visible()
    expect(page.locator("#sync-state")).to_have_attribute("data-state", "offline")
    expect(page.locator("[data-offline-status]")).to_contain_text("离线副本保存于")

    response = page.goto(f"{live_server}/people/{person.id}")
    assert response.from_service_worker
    # a saved page runs under the same strict policy as one from the server
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-clover-saved-at"]
    expect(page.get_by_role("heading", name=person.name, level=1)).to_be_visible()
    page.goto(f"{live_server}/people/")
    expect(page.get_by_text(person.name).first).to_be_visible()

    response = page.goto(f"{live_server}/settings/")
    assert response.from_service_worker
    expect(page.get_by_role("heading", name="设置", level=1)).to_be_visible()
    response = page.goto(f"{live_server}/no-such-page")
    assert response.from_service_worker
    # in her language only
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_visible()
    expect(page.get_by_role("heading", name="You are offline")).to_be_hidden()

    # a form posted with no connection gets the offline page too
    with page.expect_navigation():
        page.evaluate(POST_A_FORM, "/settings/")
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_visible()

    context.set_offline(False)
    page.goto(f"{live_server}/settings/")
    expect(page.get_by_role("heading", name="设置", level=1)).to_be_visible()
    assert not [text for text in console if "Content Security Policy" in text]


def test_another_user_never_gets_the_first_users_pages(page, context, live_server, demo):
    first, first_people = caseload_of(demo, "officer1")
    second, second_people = caseload_of(demo, "officer2")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    # her session ends without signing out (expired, cookie gone): the sign-in page shows
    context.clear_cookies()
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    context.set_offline(True)
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_visible()
    expect(page.get_by_text(first_people[0].name)).to_have_count(0)
    context.set_offline(False)

    sign_in(page, live_server, "officer2")
    wait_until_saved(page)
    assert stored_urls(page, first.id) == []
    assert f"/people/{second_people[0].id}" in stored_urls(page, second.id)
    context.set_offline(True)
    page.goto(f"{live_server}/people/{first_people[0].id}")
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_visible()
    expect(page.get_by_text(first_people[0].name)).to_have_count(0)
    page.goto(f"{live_server}/")
    expect(page.get_by_text("刘芳，您好")).to_be_visible()
    page.goto(f"{live_server}/people/{second_people[0].id}")
    expect(page.get_by_role("heading", name=second_people[0].name)).to_be_visible()


def test_signing_out_forgets_the_users_pages(page, context, live_server, demo):
    officer, people = caseload_of(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    assert len(stored_urls(page, officer.id)) == 2 * len(people) + 4  # + 4 shared pages
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    expect(page.locator("[data-offline-panel]")).to_contain_text("离线副本保存于")
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    assert stored_urls(page, officer.id) == []
    assert page.evaluate("CloverStore.currentUser()") is None
    context.set_offline(True)
    page.goto(f"{live_server}/people/{people[0].id}")
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_visible()


def session_of(db, user) -> UserSession:
    db.rollback()  # what the server has committed since
    return db.exec(select(UserSession).where(UserSession.user_id == user.id)).one()


def test_signing_out_with_no_signal_forgets_her_pages_and_ends_the_session_later(
    page, context, live_server, demo
):
    officer, people = caseload_of(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    context.set_offline(True)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    expect(page.get_by_role("heading", name="设置", level=1)).to_be_visible()
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_text("您已在这部手机上退出登录")).to_be_visible()
    assert stored_urls(page, officer.id) == []
    assert page.evaluate("CloverStore.currentUser()") is None
    page.goto(f"{live_server}/people/{people[0].id}")
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_visible()
    expect(page.get_by_text(people[0].name)).to_have_count(0)
    assert session_of(demo, officer).ended_at is None

    # back in signal: the first page she opens ends her session on the server first
    context.set_offline(False)
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    assert session_of(demo, officer).ended_at
    assert page.evaluate("CloverStore.getMeta('signOut:kept')") is None


def test_download_button_saves_again(page, live_server, demo):
    officer, _people = caseload_of(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    first = page.evaluate("id => CloverStore.downloadedAt(id)", str(officer.id))
    page.get_by_role("button", name="下载供离线使用").click()
    wait_for_value(
        page,
        "([id, first]) => CloverStore.downloadedAt(id).then(at => at !== first)",
        [str(officer.id), first],
    )
    expect(page.locator("body")).to_have_attribute("data-offline-state", "saved")


def test_an_update_waits_for_the_officer_and_keeps_the_offline_data(app, page, live_server, demo):
    officer, people = caseload_of(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    # the server is down: the item stays in the outbox across the update
    page.context.route("**/api/v1/sync/push", lambda route: route.fulfill(status=503))
    item = {
        "id": "3f1c2a8e-0000-4000-8000-000000000001",
        "userId": str(officer.id),
        "kind": "visit.create",
        "payload": {"notes": "家访"},
    }
    page.evaluate("item => CloverStore.outbox.put(item)", item)
    old_caches = set(cached_urls(page))
    old_script = page.evaluate("navigator.serviceWorker.controller.scriptURL")

    app.config["CLOVER_BUILD"] = "next-release"
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    bar = page.locator("#update-bar")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("三叶草有新版本可用")
    # waiting, not taken over: the old caches still serve this page
    assert set(cached_urls(page)) >= old_caches
    with page.expect_navigation():
        bar.get_by_role("button", name="重新载入").click()
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    expect(bar).to_be_hidden()
    # the new worker drops the old shell as it activates: wait for it to have done so
    offline.wait_until(
        page, lambda: len(cached_urls(page)) == 1, message="the old shell is still cached"
    )
    assert set(cached_urls(page)).isdisjoint(old_caches)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == old_script
    kept = page.evaluate("id => CloverStore.outbox.list(id)", str(officer.id))
    assert [(row["id"], row["payload"]) for row in kept] == [(item["id"], {"notes": "家访"})]
    assert len(stored_urls(page, officer.id)) == 2 * len(people) + 4  # + 4 shared pages


def test_the_offline_store_keeps_each_users_outbox_in_order(page, live_server):
    page.goto(f"{live_server}/auth/login")
    result = page.evaluate(
        """async () => {
            const box = CloverStore.outbox;
            // each user's items are sealed under her own key
            const keys = {};
            for (const user of ["u1", "u2"]) {
                keys[user] = await crypto.subtle.generateKey(
                    {name: "AES-GCM", length: 256}, false, ["encrypt", "decrypt"]);
            }
            const as = (user) => CloverStore.setKey(user, keys[user]);
            as("u1");
            const refused = await box.put({userId: "u1", kind: "visit"}).then(
                () => "stored", error => error.name);
            await box.put({id: "b", userId: "u1", kind: "visit", payload: {n: 2},
                           createdAt: "2026-01-02T00:00:00Z"});
            await box.put({id: "a", userId: "u1", kind: "person_edit", payload: {n: 1},
                           createdAt: "2026-01-01T00:00:00Z"});
            as("u2");
            await box.put({id: "c", userId: "u2", kind: "visit", payload: {n: 3}});
            as("u1");
            const first = await box.get("a");
            await box.put({...first, state: "attention", attempts: 1, lastError: "invalid"});
            const before = (await box.list("u1")).map(i => [i.id, i.state, i.attempts]);
            await box.remove("b");
            const after = (await box.list("u1")).map(i => i.id);
            as("u2");
            return {refused, before, after,
                    counts: [await box.count("u1"), await box.count("u2")],
                    other: (await box.list("u2"))[0]};
        }"""
    )
    assert result["refused"] == "TypeError"
    assert result["before"] == [["a", "attention", 1], ["b", "waiting", 0]]
    assert result["after"] == ["a"]
    assert result["counts"] == [1, 1]
    other = result["other"]
    assert (other["id"], other["state"], other["attempts"], other["lastError"]) == (
        "c",
        "waiting",
        0,
        None,
    )
    assert other["payload"] == {"n": 3} and other["createdAt"]


def test_the_offline_page_speaks_her_language_only(page, context, live_server, demo):
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    context.set_offline(True)
    page.goto(f"{live_server}/reports/")  # a page never kept on the phone
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_visible()
    expect(page.get_by_role("heading", name="You are offline")).to_be_hidden()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")

    context.set_offline(False)
    page.goto(f"{live_server}/settings/")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.goto(f"{live_server}/")  # a page in English: the phone notes her language
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    context.set_offline(True)
    page.goto(f"{live_server}/reports/")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_role("heading", name="当前处于离线状态")).to_be_hidden()
    expect(page.get_by_role("link", name="Open Today")).to_be_visible()
