import pytest
from playwright.sync_api import expect

from app.demo import load_demo

# a busy machine slows Chromium and the live server down: give a state 20 s to show before
# calling it missing, not Playwright's 5 (a state that shows sooner ends the wait sooner)
expect.set_options(timeout=20_000)


@pytest.fixture
def demo(db):
    """The demo unit loaded into the test database; the session to query it with."""
    load_demo(db, environment="development")
    return db
