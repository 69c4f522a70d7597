"""The offline copy's pull cursor, in real headless Chromium: one the server refuses is
replaced by a fresh one from a pull of her whole caseload, never retried for ever."""

import pytest

from tests.browser.offline import first_person, sign_in, wait_until_saved

pytestmark = pytest.mark.browser


def test_a_cursor_the_server_refuses_is_replaced_by_a_full_pull(page, live_server, demo):
    officer, _person = first_person(demo, "officer1")
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    key = f"cursor:{officer.id}"
    good = page.evaluate("key => CloverStore.getMeta(key)", key)
    assert good
    page.evaluate("key => CloverStore.setMeta(key, '0001-01-01T00:00:00+00:00')", key)
    page.evaluate("id => CloverSync.run(id)", str(officer.id))
    fresh = page.evaluate("key => CloverStore.getMeta(key)", key)
    assert fresh and fresh != "0001-01-01T00:00:00+00:00"
    assert page.request.get(f"{live_server}/api/v1/sync/pull?cursor={fresh}").status == 200
