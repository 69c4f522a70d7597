"""Helpers for the offline browser tests: signing in, waiting for the service worker and
the offline copy the way a user's next page load would meet them, and the outbox."""

import time
import uuid

from playwright.sync_api import expect
from sqlmodel import select

from app.auth.totp import Totp
from app.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from app.models import Person, PersonStatus, User, Visit

ACTIVATED = """() => {
  navigator.serviceWorker.getRegistration().then((registration) => {
    window.__cloverWorkerActive = Boolean(
      registration && registration.active && registration.active.state === "activated"
    );
  });
  return window.__cloverWorkerActive === true;
}"""


def wait_until(page, check, *, timeout: float = 30.0, message: str = "") -> None:
    """Poll `check()` until it is true; Playwright delivers the page's events in between.

    For a state only a script can read (IndexedDB, a CDP event). The deadline is long, as
    `expect`'s is: a busy machine slows the page down, a test that waits for a state does
    not fail by it.
    """
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, message or f"still waiting after {timeout} s"
        page.wait_for_timeout(100)


def wait_for_value(page, expression: str, arg=None, *, message: str = ""):
    """Poll an async page function until it answers something truthy, and return that.

    `page.wait_for_function` takes a returned promise for a truthy answer and stops at
    once, so a state only a promise can report is polled from here.
    """
    answer = None

    def answered():
        nonlocal answer
        answer = page.evaluate(expression, arg)
        return answer

    wait_until(page, answered, message=message)
    return answer


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


# the last time step whose code each sign-in here gave, per server and user
_spent_steps: dict[tuple[str, str], int] = {}


# the PIN the helpers set on the phone at a first sign-in there
PIN = "246810"
# where lock.js says the page stands: "open", or the lock page's mode
LOCK_STATE = "() => document.documentElement.dataset.lock || ''"


def sign_in(
    page,
    base,
    username,
    *,
    password=DEMO_PASSWORD,
    totp_secret=DEMO_TOTP_SECRET,
    pin=PIN,
):
    """Sign in (by default as a demo user) and land on Today, giving her code when asked
    and setting her PIN when this phone asks for one (her first sign-in here)."""
    page.goto(f"{base}/auth/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    second_step = page.get_by_role("heading", name="两步验证", level=1)
    expect(landed(page).or_(second_step)).to_be_visible()
    if second_step.is_visible():
        page.get_by_label("验证码").fill(unspent_code(page, base, username, totp_secret))
        page.get_by_role("button", name="继续").click()
    signed_in(page, pin)


def landed(page):
    """Today, or the PIN setup that may take its place at once: either means signed in."""
    today = page.get_by_role("heading", name="今日", level=1)
    return today.or_(page.get_by_role("heading", name="为这部手机设置 PIN 码", level=1))


def signed_in(page, pin=PIN) -> None:
    """After a sign-in: on Today, with her offline store open (her PIN set)."""
    expect(landed(page)).to_be_visible()
    settle_lock(page, pin)
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()


def settle_lock(page, pin=PIN) -> None:
    """A field role's page opens her offline store: wait until it is open, setting the PIN
    first when the lock page asks for one."""
    page.wait_for_function(
        f"""() => ['open', 'page-setup'].includes(({LOCK_STATE})())
          || (document.readyState !== 'loading' && !document.querySelector('[data-lock-page]')
              && !document.body.hasAttribute('data-offline-copy'))"""
    )
    if page.evaluate(LOCK_STATE) not in ("open", "page-setup"):
        return
    if page.evaluate(LOCK_STATE) == "page-setup":
        set_pin(page, pin)
        expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
        page.wait_for_function(f"() => ({LOCK_STATE})() === 'open'")


def set_pin(page, pin=PIN) -> None:
    """On the lock page in its setup mode: the PIN, twice."""
    page.get_by_label("PIN 码", exact=True).fill(pin)
    page.get_by_label("再次输入 PIN 码").fill(pin)
    page.get_by_role("button", name="保存 PIN 码").click()


def unlock(page, pin=PIN) -> None:
    """On the lock page: her PIN opens Clover again."""
    page.get_by_label("PIN 码", exact=True).fill(pin)
    page.get_by_role("button", name="解锁").click()


def unspent_code(page, base, username, secret) -> str:
    """Her code now, or the next step's when a sign-in here spent this one (a replay)."""
    totp = Totp(secret)
    now_step = int(time.time()) // totp.interval
    step = max(now_step, _spent_steps.get((base, username), -1) + 1)
    if step > now_step + 1:
        # both usable steps spent: wait for the clock to reach the next one
        page.wait_for_function(f"() => Date.now() >= {(step - 1) * totp.interval * 1000}")
    _spent_steps[(base, username)] = step
    return totp.generate_otp(step)


def expect_uncovered(locator) -> None:
    """Wait until nothing (the bottom navigation) covers the middle of the element: a thumb
    reaches it once the page has settled (a slow machine lays it out later)."""
    wait_until(locator.page, lambda: _uncovered(locator), message="something covers it")


def _uncovered(locator) -> bool:
    return locator.evaluate(
        """(element) => {
            const box = element.getBoundingClientRect();
            const middle = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return element.contains(middle);
        }"""
    )


def wait_until_saved(page):
    """The service worker controls the page and the caseload is in the offline store."""
    wait_for_control(page)
    expect(page.locator("body")).to_have_attribute("data-offline-state", "saved")


def first_person(db, username):
    """An officer and the first person of her caseload she may record a visit for."""
    officer = db.exec(select(User).where(User.username == username)).one()
    person = db.exec(
        select(Person)
        .where(
            Person.assigned_officer_id == officer.id,
            Person.status != PersonStatus.closed,
            Person.consent_withdrawn_at.is_(None),
        )
        .order_by(Person.name)
    ).first()
    return officer, person


def outbox(page, user_id):
    return page.evaluate("id => CloverStore.outbox.list(id)", str(user_id))


def visits_with(db, visit_id):
    # end the read transaction and forget what it read: see what the server committed since
    # (a commit in the test leaves no transaction to roll back, and keeps what it loaded)
    db.rollback()
    db.expire_all()
    return db.exec(select(Visit).where(Visit.id == uuid.UUID(visit_id))).all()


def chip(page, name: str, value: str):
    """The tappable chip of a radio or checkbox option of a form."""
    return page.locator(f'label.chip:has(input[name="{name}"][value="{value}"])')


def record_offline(page, context, base, person, note):
    """Offline, from the ledger kept on the phone: record a phone consultation."""
    context.set_offline(True)
    page.goto(f"{base}/people/{person.id}")
    expect(page.get_by_role("heading", name=person.name, level=1)).to_be_visible()
    page.get_by_role("link", name="记录回访").first.click()
    expect(page.get_by_role("heading", name="记录回访")).to_be_visible()
    chip(page, "kind", "phone_consultation").click()
    page.get_by_label("备注").fill(note)
    page.get_by_role("button", name="保存回访").click()
    expect(page).to_have_url(f"{base}/people/{person.id}")
    entry = page.locator(".outbox-entry").first
    expect(entry).to_contain_text("电话咨询")
    expect(entry).to_have_attribute("data-state", "waiting")
    return entry.get_attribute("data-outbox-id")


def wait_for_outbox(page, user_id, expected: int) -> None:
    """Poll the phone's outbox until it holds this many items of the user."""
    wait_until(
        page,
        lambda: len(outbox(page, user_id)) == expected,
        message=f"the outbox does not hold {expected} items: {outbox(page, user_id)}",
    )
