"""Helpers for the offline browser tests: signing in, and waiting for the service worker
and the offline copy the way a user's next page load would meet them."""

from playwright.sync_api import expect

ACTIVATED = """() => {
  navigator.serviceWorker.getRegistration().then((registration) => {
    window.__cloverWorkerActive = Boolean(
      registration && registration.active && registration.active.state === "activated"
    );
  });
  return window.__cloverWorkerActive === true;
}"""


def wait_for_control(page) -> None:
    """Wait until the service worker controls the page.

    A worker that activates while a navigation is in flight may not claim that page
    (Chromium holds it as a reserved client); the next load is controlled, as it is for
    an officer who opens another page, so reload once in that case.
    """
    page.wait_for_function(ACTIVATED)
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def sign_in(page, base, username):
    """Sign in with the demo password and land on Today."""
    page.goto(f"{base}/auth/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("clover-demo")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()


def wait_until_saved(page):
    """The service worker controls the page and the caseload is in the offline store."""
    wait_for_control(page)
    expect(page.locator("body")).to_have_attribute("data-offline-state", "saved", timeout=15000)
