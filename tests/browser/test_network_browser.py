"""The offline copy in real headless Chromium, light on the network: opening the app again
with nothing changed downloads no page again, and a change to one person fetches hers only."""

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from app.models import Assignment, Consent, Person, StatusChange, SupportPlan, Visit
from app.people.contact import correct_contact
from app.types import utcnow
from tests.browser.offline import (
    first_person,
    settle_lock,
    sign_in,
    wait_for_value,
    wait_until_saved,
)

pytestmark = pytest.mark.browser
PERSON_PAGE = re.compile(r"/people/([0-9a-f-]{36})(/visits/new)?")
# what the sync pull reads to tell who changed since its cursor
TOUCHED = (
    (Person, "updated_at"),
    (Visit, "updated_at"),
    (Consent, "created_at"),
    (SupportPlan, "created_at"),
    (StatusChange, "created_at"),
    (Assignment, "created_at"),
)


def settle_the_caseload(db, minutes=10):
    """As if the demo was loaded a while ago: the pull's two-minute overlap finds nobody."""
    then = utcnow() - timedelta(minutes=minutes)
    for model, name in TOUCHED:
        table = model.__table__
        db.exec(table.update().where(table.c[name] > then).values({name: then}))
    db.commit()


def open_again(page, base, user_id):
    """Open Clover again after her copy went stale, and wait for the download to end."""
    stale = "2000-01-01T00:00:00.000Z"
    page.evaluate("([id, at]) => CloverStore.setDownloadedAt(id, at)", [user_id, stale])
    page.goto(f"{base}/")
    settle_lock(page)
    wait_for_value(
        page,
        "([id, at]) => CloverStore.downloadedAt(id).then(saved => saved && saved !== at)",
        [user_id, stale],
        message="the offline copy was not saved again",
    )
    page.evaluate("id => CloverSync.settled(id)", user_id)


def test_an_unchanged_caseload_is_not_downloaded_again_and_a_change_fetches_one_person(
    page, live_server, demo
):
    officer, person = first_person(demo, "officer1")
    user_id = str(officer.id)
    settle_the_caseload(demo)
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)
    kept = page.evaluate("id => CloverStore.pageVersions(id)", user_id)
    assert f"/people/{person.id}" in kept and "/" in kept
    assert len(kept) == len(page.evaluate("id => CloverStore.pageUrls(id)", user_id))

    fetched = []
    page.on(
        "request",
        lambda request: (
            fetched.append(urlsplit(request.url).path) if request.resource_type == "fetch" else None
        ),
    )
    open_again(page, live_server, user_id)
    assert fetched.count("/api/v1/offline/pages") == 1
    assert not [path for path in fetched if path in kept], "pages downloaded again"
    assert page.evaluate("id => CloverStore.pageVersions(id)", user_id) == kept

    result = correct_contact(
        session=demo,
        user=officer,
        person_id=person.id,
        base_version=person.version,
        data={"phone": "13800000002", "address": "重庆市渝中区解放碑街道 8 号"},
        item_id=uuid.uuid4(),
    )
    assert result.outcome == "edited"
    demo.commit()
    fetched.clear()
    open_again(page, live_server, user_id)
    people_pages = {PERSON_PAGE.fullmatch(path) for path in fetched} - {None}
    assert {match[1] for match in people_pages} == {str(person.id)}
    assert f"/people/{person.id}" in fetched
    ledger = page.evaluate(
        "([id, url]) => CloverStore.readPage(id, url)", [user_id, f"/people/{person.id}"]
    )
    assert "重庆市渝中区解放碑街道 8 号" in ledger["html"]
    again = page.evaluate("id => CloverStore.pageVersions(id)", user_id)
    moved = {url for url in kept if again.get(url) != kept[url]}
    assert f"/people/{person.id}" in moved
    assert not {url for url in moved if PERSON_PAGE.fullmatch(url)} - {
        f"/people/{person.id}",
        f"/people/{person.id}/visits/new",
    }
