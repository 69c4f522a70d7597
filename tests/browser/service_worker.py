"""Waiting for the service worker the way a user's next page load would meet it."""

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
