"""In real headless Chromium: turning reminders on, and the service worker's push handlers.

Headless Chromium cannot subscribe (no push service is reachable), so `PushManager` is
replaced in these tests only; everything after it is real: the page's script, the
subscription API, the server's Web Push to a stand-in push service that decrypts it.
The service worker gets a real push message over the DevTools protocol.
"""

import json
from datetime import date

import pytest
from playwright.sync_api import expect

from app.models import Reminder
from app.reminders.keys import b64url_decode
from app.reminders.messages import message_for
from tests.browser.offline import signed_in, wait_for_value, wait_until
from tests.conftest import SUBJECT
from tests.reminders.standins import PushServiceStandIn

pytestmark = pytest.mark.browser

# test only, run after the real /sw.js: record the app badge, and tap a notification
TEST_HOOKS = """
self.badges = [];
self.navigator.setAppBadge = function (n) { self.badges.push(n); return Promise.resolve(); };
self.navigator.clearAppBadge = function () { self.badges.push(0); return Promise.resolve(); };
self.addEventListener('message', function (event) {
  if (event.data === 'badges') event.source.postMessage({ badges: self.badges });
  // no DevTools command taps a notification: run what notificationclick runs
  if (event.data === 'tap-first') {
    event.waitUntil(self.registration.getNotifications().then(function (shown) {
      shown[0].close();
      return self.cloverPush.openApp(shown[0].data.url);
    }));
  }
});
"""

SHOWN = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
    .map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data.url }))"""

# test only: a PushManager that answers like a browser with a push service in reach
FAKE_PUSH_MANAGER = """
(function (subscription) {
  function current() {
    return localStorage.getItem('fake-push') ? { endpoint: subscription.endpoint,
      toJSON: function () { return subscription; } } : null;
  }
  PushManager.prototype.subscribe = function (options) {
    localStorage.setItem('fake-push', JSON.stringify({ userVisibleOnly: options.userVisibleOnly,
      key: Array.from(new Uint8Array(options.applicationServerKey)) }));
    return Promise.resolve(current());
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current()); };
})(%s);
"""

REGISTER = """() => navigator.serviceWorker.register('/sw.js', { scope: '/' })
  .then(() => navigator.serviceWorker.ready).then(() => true)"""


@pytest.fixture
def sw_app(push_app):
    app = push_app
    # the real worker, its vault included (her pages wait for its answers), plus the hooks
    real_worker = app.view_functions["offline.service_worker"]

    def service_worker():
        response = real_worker()
        response.set_data(response.get_data(as_text=True) + TEST_HOOKS)
        return response

    app.view_functions["offline.service_worker"] = service_worker
    return app


@pytest.fixture
def push_service(vapid_keys):
    service = PushServiceStandIn(vapid_public_key=vapid_keys[1], subject=SUBJECT)
    yield service
    service.close()
    assert service.errors == []


def sign_in(page, live_server, username="officer1"):
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("correct-horse-battery")
    page.get_by_role("button", name="登录").click()
    signed_in(page)
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()


def test_officer_turns_reminders_on_and_gets_a_test_reminder(
    sw_app, live_server, page, make_user, push_service, vapid_keys
):
    make_user("officer1", display_name="陈雪梅")
    browser = push_service.subscribe()
    page.context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(browser.as_json()))
    page.context.grant_permissions(["notifications"], origin=live_server)
    sign_in(page, live_server)
    page.goto(f"{live_server}/settings/")
    assert page.evaluate(REGISTER)

    turn_on = page.get_by_role("button", name="在这部手机上提醒我")
    expect(turn_on).to_be_visible()
    assert turn_on.bounding_box()["height"] >= 48
    turn_on.click()

    expect(page.get_by_text("已为这台设备开启提醒。")).to_be_visible()
    expect(page.locator("#push-status")).to_have_text("这部手机已开启提醒。")
    expect(page.locator("#push-devices .device-row")).to_have_count(1)
    expect(page.locator("#push-devices [data-this-device]")).to_have_text("这部手机")
    expect(turn_on).to_be_hidden()
    asked = json.loads(page.evaluate("localStorage.getItem('fake-push')"))
    assert asked["userVisibleOnly"] is True
    assert bytes(asked["key"]) == b64url_decode(vapid_keys[1])

    page.get_by_role("button", name="给我发一条测试提醒").click()
    expect(page.get_by_text("测试提醒已发出，稍后就会收到。")).to_be_visible()
    assert push_service.payloads(browser) == [
        {"title": "三叶草", "body": "测试提醒：您在这里能收到提醒。", "url": "/", "tag": "test"}
    ]
    expect(page.locator("#push-devices")).to_contain_text("最近一次送达")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_refused_notifications_are_explained(sw_app, live_server, page, make_user):
    """Headless Chromium refuses the permission prompt, as an officer tapping 'Block' would."""
    make_user("officer1")
    sign_in(page, live_server)
    page.goto(f"{live_server}/settings/")
    assert page.evaluate(REGISTER)
    page.get_by_role("button", name="在这部手机上提醒我").click()
    expect(page.locator("#push-status")).to_contain_text("此浏览器已禁止三叶草发送通知")
    page.reload()  # blocked now: explained at once, nothing to tap
    expect(page.locator("#push-status")).to_contain_text("此浏览器已禁止三叶草发送通知")
    expect(page.get_by_role("button", name="在这部手机上提醒我")).to_be_hidden()


def test_iphone_safari_not_installed_is_told_to_add_to_home_screen(
    sw_app, live_server, browser, make_user
):
    make_user("officer1")
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    )
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server}/settings/")
    expect(page.locator("#push-status")).to_contain_text("先把三叶草添加到主屏幕，再开启提醒")
    expect(page.get_by_role("button", name="在这部手机上提醒我")).to_be_hidden()
    context.close()


def test_service_worker_shows_the_push_sets_the_badge_and_a_tap_opens_today(
    sw_app, live_server, page, make_user
):
    make_user("officer1")
    page.context.grant_permissions(["notifications"], origin=live_server)
    sign_in(page, live_server)
    page.goto(f"{live_server}/settings/")
    assert page.evaluate(REGISTER)
    page.reload()  # now controlled by the service worker
    with sw_app.app_context():
        reminder = Reminder(kind="digest", day=date.today(), details={"due_today": 3, "overdue": 1})
        payload = message_for(reminder, "zh_Hans").payload()

    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    wait_until(page, lambda: registrations, message="no service worker registration reported")
    [registration] = [r for r in registrations if r["scopeURL"] == f"{live_server}/"]
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server,
            "registrationId": registration["registrationId"],
            "data": json.dumps(payload, ensure_ascii=False),
        },
    )
    cdp.detach()

    shown = wait_for_value(page, SHOWN, message="the service worker showed no notification")
    assert shown == [
        {
            "title": "三叶草",
            "body": "今日应访 3 人，逾期 1 人",
            "tag": "digest",
            "url": f"{live_server}/",
        }
    ]
    badges = page.evaluate(
        """() => new Promise((resolve) => {
            navigator.serviceWorker.addEventListener('message', (e) => resolve(e.data.badges));
            navigator.serviceWorker.controller.postMessage('badges');
        })"""
    )
    assert badges == [4]

    page.evaluate("navigator.serviceWorker.controller.postMessage('tap-first')")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    assert page.evaluate(SHOWN) == []
