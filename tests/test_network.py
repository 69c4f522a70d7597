"""Light on the network: answers compressed as the client asks, static files cached for a
year by their content hash, and a version per kept page so the phone skips unchanged ones."""

import gzip
import hashlib
import json
import re
import uuid

import brotli
import pytest

from app.models import Person, Visit, VisitKind
from app.people.contact import correct_contact
from app.security import CONTENT_SECURITY_POLICY
from app.types import utcnow
from tests.conftest import csrf_from

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}
STATIC = re.compile(r'(?:src|href)="(/static/([^"?]+)\?v=([0-9a-f]+))"')


@pytest.fixture
def officer_world(db, unit, make_user):
    """An officer with two people, a colleague with one."""
    officer = make_user("officer1")
    colleague = make_user("officer2")
    people = [
        Person(unit_id=unit.id, name=name, assigned_officer_id=owner.id)
        for name, owner in (("张晓梅", officer), ("李丽", officer), ("赵静", colleague))
    ]
    db.add_all(people)
    db.commit()
    return officer, people


def fetch(client, url, encoding):
    return client.get(url, headers={"Accept-Encoding": encoding})


def decoded(response):
    encoding = response.headers.get("Content-Encoding")
    return DECODE[encoding](response.data) if encoding else response.data


def script_url(page: str, name: str) -> str:
    return next(url for url, filename, _v in STATIC.findall(page) if filename == name)


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_page_a_script_and_an_api_answer_are_compressed_as_asked(
    client, auth, officer_world, encoding
):
    auth.login("officer1")
    script = script_url(client.get("/").text, "js/offline-store.js")
    for url in ("/offline", script, "/sw.js"):
        plain, packed = fetch(client, url, "identity"), fetch(client, url, encoding)
        assert "Content-Encoding" not in plain.headers
        assert packed.headers["Content-Encoding"] == encoding, url
        assert len(packed.data) < len(plain.data) / 2
        assert decoded(packed) == plain.data, url
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert packed.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert packed.headers["X-Content-Type-Options"] == "nosniff"

    plain = fetch(client, "/api/v1/offline/pages", "identity")
    packed = fetch(client, "/api/v1/offline/pages", f"{encoding}, identity;q=0.5")
    assert packed.headers["Content-Encoding"] == encoding
    assert packed.headers["Cache-Control"] == "no-store"
    assert {"Accept-Encoding", "Cookie"} <= {v.strip() for v in packed.headers["Vary"].split(",")}
    # the same listing, told apart only by the moment each was made
    listing, expected = json.loads(decoded(packed)), plain.json
    del listing["generated_at"], expected["generated_at"]
    assert listing == expected


def test_a_browser_asking_for_both_gets_brotli(client):
    answer = fetch(client, "/offline", "gzip, deflate, br, zstd")
    assert answer.headers["Content-Encoding"] == "br"
    assert "当前处于离线状态" in decoded(answer).decode()


def test_images_and_spreadsheets_go_as_they_are(client, auth, db, unit, make_user):
    icon = fetch(client, "/static/icons/clover-192.png", "gzip, br")
    assert icon.status_code == 200 and "Content-Encoding" not in icon.headers
    assert icon.data.startswith(b"\x89PNG")
    icon.close()
    make_user("supervisor", role="supervisor")
    auth.login("supervisor")
    sheet = fetch(client, "/reports/report.xlsx", "gzip, br")
    assert sheet.status_code == 200 and "Content-Encoding" not in sheet.headers
    assert sheet.data.startswith(b"PK")  # a zip already


def test_an_unchanged_service_worker_costs_a_304(client):
    first = fetch(client, "/sw.js", "br")
    again = client.get(
        "/sw.js", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Service-Worker-Allowed"] == "/"
    assert again.headers["Cache-Control"] == "no-cache"


def test_static_urls_carry_their_files_hash_and_are_kept_a_year(app, client):
    page = client.get("/auth/login").text
    found = STATIC.findall(page)
    assert {"css/app.css", "js/htmx-2.0.11.min.js", "manifest.webmanifest"} <= {
        filename for _url, filename, _v in found
    }
    for url, filename, version in found:
        content = (app.static_folder + "/" + filename).encode()
        with open(content, "rb") as file:
            assert version == hashlib.sha256(file.read()).hexdigest()[:12], filename
        with client.get(url) as answer:
            assert answer.status_code == 200
            assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # without the hash, or with another file's, the browser asks again every time
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        with client.get(url) as answer:
            assert answer.status_code == 200
            assert answer.headers["Cache-Control"] == "no-cache"


def listed_versions(client) -> dict[str, str]:
    response = client.get("/api/v1/offline/pages")
    assert response.status_code == 200, response.text
    return {page["url"]: page["version"] for page in response.json["pages"]}


def test_each_kept_page_has_a_version_that_moves_only_with_what_it_shows(
    app, client, auth, db, officer_world
):
    officer, (changed, unchanged, _colleagues) = officer_world
    auth.login("officer1")
    first = listed_versions(client)
    assert len(set(first.values())) == len(first) == 8
    assert listed_versions(client) == first

    result = correct_contact(
        session=db,
        user=officer,
        person_id=changed.id,
        base_version=changed.version,
        data={"phone": "13800000001", "address": "重庆市渝中区"},
        item_id=uuid.uuid4(),
    )
    assert result.outcome == "edited"
    db.commit()
    second = listed_versions(client)
    moved = {url for url in first if first[url] != second[url]}
    assert moved == {"/", "/people/", f"/people/{changed.id}", f"/people/{changed.id}/visits/new"}

    db.add(
        Visit(
            id=uuid.uuid4(),
            person_id=unchanged.id,
            author_id=officer.id,
            kind=VisitKind.phone_consultation,
            occurred_at=utcnow(),
        )
    )
    db.commit()
    third = listed_versions(client)
    moved = {url for url in first if second[url] != third[url]}
    assert f"/people/{unchanged.id}" in moved and f"/people/{changed.id}" not in moved

    # a new release is new HTML everywhere
    app.config["CLOVER_BUILD"] = "next-release"
    assert not set(listed_versions(client).values()) & set(third.values())


def test_a_page_saved_for_offline_is_told_the_version_the_listing_gives_it(
    client, auth, officer_world, count_queries
):
    officer, (person, _other, colleagues) = officer_world
    auth.login("officer1")
    listed = listed_versions(client)
    asked = {"X-Clover-Offline": "1"}
    pages = ("/", "/people/", f"/people/{person.id}", f"/people/{person.id}/visits/new")
    for url in (*pages, "/groups/new"):
        answer = client.get(url, headers=asked)
        assert answer.status_code == 200
        assert answer.headers["X-Clover-Page-Version"] == listed[url], url
    # an ordinary visit does not work it out, and is told nothing
    with count_queries() as plain:
        answer = client.get(f"/people/{person.id}")
    with count_queries() as saved:
        client.get(f"/people/{person.id}", headers=asked)
    assert "X-Clover-Page-Version" not in answer.headers
    # the version costs a few statements, one for all of the person's related tables
    # (a statement per table made it 11)
    assert len(plain) < len(saved) <= len(plain) + 4
    # nor is anyone told the version of a page she may not see
    answer = client.get(f"/people/{colleagues.id}", headers=asked)
    assert answer.status_code == 404 and "X-Clover-Page-Version" not in answer.headers


def test_a_page_fetched_to_keep_leaves_her_flash_message_to_the_page_she_sees(
    client, auth, officer_world
):
    auth.login("officer1")
    token = csrf_from(client.get("/settings/").text)
    client.post(
        "/settings/", data={"locale": "zh_Hans", "timezone": "Asia/Shanghai", "csrf_token": token}
    )
    # the phone refreshes its copy of Today in the background before she lands on it
    kept = client.get("/", headers={"X-Clover-Offline": "1"}).text
    assert "设置已保存" not in kept
    assert "设置已保存" in client.get("/settings/").text


def test_a_static_file_touches_no_database_even_for_someone_who_must_change_her_password(
    client, auth, db, make_user, count_queries
):
    """A page's scripts come with her cookie; serving them reads neither her nor her session
    (on SQLite each would have waited for the write lock), nor sends her to change her password.
    """
    officer = make_user("officer1")
    auth.login("officer1")
    officer.must_change_password = True
    db.add(officer)
    db.commit()
    assert client.get("/people/").headers["Location"] == "/settings/password"
    url = script_url(client.get("/settings/password").text, "js/app.js")
    with count_queries() as statements, client.get(url) as answer:
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert statements == []
