"""Offline use over HTTP: the manifest and icons, the service worker, the offline page,
and the policy-scoped list of pages a phone keeps."""

import json
import re
import struct
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from app.models import AuditEvent, Consent, Person, PersonStatus
from app.offline import pages as offline_pages_module
from app.offline.shell import SHELL_FILES, shell_version

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def css_colour(name: str) -> str:
    """A colour from the light theme in app.css."""
    match = re.search(rf"--{name}:\s*(#[0-9a-f]{{6}})", (STATIC / "css" / "app.css").read_text())
    return match.group(1)


@pytest.fixture
def caseloads(db, unit, make_user):
    """Two officers, a supervisor, a peer helper and an admin, with people in one unit."""
    users = {
        "officer": make_user("officer1"),
        "colleague": make_user("officer2"),
        "supervisor": make_user("supervisor", role="supervisor"),
        "helper": make_user("helper1", role="peer_helper"),
        "admin": make_user("admin", role="admin"),
    }

    def person(name, officer, status=PersonStatus.active, helper=None):
        row = Person(
            unit_id=unit.id,
            name=name,
            status=status,
            assigned_officer_id=users[officer].id,
            peer_helper_id=users[helper].id if helper else None,
        )
        db.add(row)
        return row

    people = {
        "mine": person("张晓梅", "officer", helper="helper"),
        "mine_too": person("李丽", "officer"),
        "closed": person("王芳", "officer", status=PersonStatus.closed),
        "colleague": person("赵静", "colleague"),
    }
    db.flush()
    # she agreed to a peer's contact, so her helper may keep her on the phone too
    agreed = {"follow_up_visits": True, "peer_contact": True}
    db.add(
        Consent(
            person_id=people["mine"].id,
            signed_on=date(2026, 1, 5),
            consents=agreed,
            taken_by_id=users["officer"].id,
        )
    )
    db.commit()
    return users, people


def listed(client):
    response = client.get("/api/v1/offline/pages")
    assert response.status_code == 200, response.text
    return response


def test_manifest_makes_clover_installable(client):
    with client.get("/static/manifest.webmanifest") as response:
        assert response.mimetype == "application/manifest+json"
        manifest = json.loads(response.data)
    assert "三叶草" in manifest["name"] and "Clover" in manifest["name"]
    assert manifest["short_name"] == "三叶草"
    assert manifest["lang"] == "zh-Hans"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] == css_colour("accent")
    assert manifest["background_color"] == css_colour("bg")
    pngs = [icon for icon in manifest["icons"] if icon["type"] == "image/png"]
    assert {(icon["sizes"], icon["purpose"]) for icon in pngs} == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    }
    for icon in pngs:
        with client.get(icon["src"]) as response:
            assert response.status_code == 200 and response.mimetype == "image/png"
            width, height = png_size(response.data)
        assert f"{width}x{height}" == icon["sizes"]


def test_every_page_links_the_manifest_and_the_offline_scripts(client):
    page = client.get("/auth/login").text
    assert re.search(r'<link rel="manifest" href="/static/manifest\.webmanifest\?v=\w+">', page)
    for script in ("offline-store.js", "sw-register.js", "offline-pages.js"):
        assert re.search(rf'src="/static/js/{re.escape(script)}\?v=\w+"', page)


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Set-Cookie" not in response.headers
    shell = json.loads(
        re.match(r'"use strict";\nself\.CLOVER_SHELL = (\{.*\});\n', response.text).group(1)
    )
    assert re.fullmatch(r"[0-9a-f]{16}", shell["version"])
    assert shell["offline"] == "/offline"
    assert shell["contract"] == "/offline/contract.json"
    # the Outbox in each language: the worker opens hers
    shell_pages = [
        "/offline",
        "/outbox?lang=zh_Hans",
        "/outbox?lang=en",
        "/offline/lock",
        "/offline/contract.json",
    ]
    # each static file by its hashed URL, as the pages ask for it
    static = [re.fullmatch(r"/static/(.+)\?v=[0-9a-f]{12}", url) for url in shell["precache"][:-5]]
    assert [match[1] for match in static] == list(SHELL_FILES)
    assert shell["precache"][-5:] == shell_pages
    imports = [url.partition("?")[0] for url in shell["imports"]]
    assert imports[2:4] == ["/static/js/offline-store.js", "/static/js/outbox.js"]
    assert set(shell["imports"]) <= set(shell["precache"])


@pytest.mark.parametrize(
    ("asked", "heading"),
    [("zh_Hans", "待发送"), ("en", "Outbox"), ("xx", "待发送"), (None, "待发送")],
)
def test_the_outbox_shell_is_kept_in_each_language(client, asked, heading):
    response = client.get("/outbox", query_string={"lang": asked} if asked else None)
    assert response.status_code == 200
    assert f'<h1 id="outbox-title">{heading}</h1>' in response.text
    assert "Set-Cookie" not in response.headers or asked is None


def test_the_outbox_opens_in_her_language_online(client, auth, make_user, db):
    make_user("officer9", locale="en")
    auth.login("officer9")
    assert '<h1 id="outbox-title">Outbox</h1>' in client.get("/outbox").text


def test_the_shell_holds_everything_a_page_loads(client, auth, caseloads):
    """Every script, style and icon a signed-in page asks for is precached."""
    auth.login("officer1")
    page = client.get("/").text
    precache = set(
        json.loads(re.search(r"(\{.*\})", client.get("/sw.js").text).group(1))["precache"]
    )
    loaded = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page))
    assert loaded and loaded <= precache
    for url in precache:
        with client.get(url) as response:
            assert response.status_code == 200, url


def test_the_shell_version_follows_its_content(tmp_path):
    for name in ("js/sw.js", *SHELL_FILES):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    first = shell_version(static_folder=tmp_path, offline_page="<p>offline</p>")
    assert first == shell_version(static_folder=tmp_path, offline_page="<p>offline</p>")
    (tmp_path / "css" / "app.css").write_text("body { color: red }")
    changed_file = shell_version(static_folder=tmp_path, offline_page="<p>offline</p>")
    changed_page = shell_version(static_folder=tmp_path, offline_page="<p>离线</p>")
    changed_build = shell_version(static_folder=tmp_path, offline_page="<p>offline</p>", build="2")
    assert len({first, changed_file, changed_page, changed_build}) == 4


def test_the_offline_page_is_in_both_languages_and_holds_no_personal_data(client, auth, caseloads):
    anonymous = client.get("/offline").text
    auth.login("officer1")
    signed_in = client.get("/offline").text
    # the same page for everyone: it is precached once for every user of the phone
    assert signed_in == anonymous
    assert '<div lang="zh-Hans" data-notice-lang="zh-Hans">' in anonymous
    assert '<div lang="en" data-notice-lang="en">' in anonymous
    assert "当前处于离线状态" in anonymous and "You are offline" in anonymous
    assert "X-CSRFToken" not in anonymous and "data-user-id" not in anonymous
    assert "officer1" not in anonymous and "张晓梅" not in anonymous


def test_the_offline_page_does_not_change_with_the_users_language(client, auth, caseloads):
    before = client.get("/sw.js").text
    auth.login("officer1")
    auth.post_form("/settings/", {"locale": "en", "timezone": "Asia/Shanghai"})
    # an English officer gets the same worker: no update prompt for a language change
    assert client.get("/sw.js").text == before


def test_an_officer_keeps_only_her_open_caseload(client, auth, caseloads, db):
    users, people = caseloads
    auth.login("officer1")
    body = listed(client).json
    assert body["user_id"] == str(users["officer"].id)
    assert body["truncated"] is False
    urls = [page["url"] for page in body["pages"]]
    mine = [people[key].id for key in ("mine", "mine_too")]
    ledgers = {f"/people/{person_id}" for person_id in mine}
    forms = {f"/people/{person_id}/visits/new" for person_id in mine}
    assert urls[:2] == ["/", "/people/"]
    assert set(urls[2:]) == ledgers | forms | {"/groups/new", "/settings/"}
    kinds = {page["kind"] for page in body["pages"]}
    assert kinds == {"today", "people", "ledger", "visit_form", "group_form", "settings"}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "offline_pages")).one()
    assert event.user_id == users["officer"].id
    assert event.details == {"pages": 8, "people": sorted(str(person_id) for person_id in mine)}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("helper1", {"mine"}),
        ("supervisor", {"mine", "mine_too", "colleague"}),
        ("officer2", {"colleague"}),
    ],
)
def test_the_list_follows_the_policy(client, auth, caseloads, who, expected):
    _users, people = caseloads
    auth.login(who)
    ledgers = {page["url"] for page in listed(client).json["pages"] if page["kind"] == "ledger"}
    assert ledgers == {f"/people/{people[key].id}" for key in expected}


def test_an_admin_keeps_no_caseload_on_a_phone(client, auth, caseloads):
    auth.login("admin")
    response = client.get("/api/v1/offline/pages")
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    assert "data-offline-copy" not in client.get("/").text


def test_the_api_answers_401_without_a_session(client):
    response = client.get("/api/v1/offline/pages")
    assert response.status_code == 401
    assert response.json == {
        "error": "unauthenticated",
        "title": "请先登录",
        "message": "请先登录。",
    }


def test_every_people_list_page_is_kept(client, auth, caseloads, db, unit):
    users, _people = caseloads
    for number in range(30):
        db.add(
            Person(unit_id=unit.id, name=f"测试{number}", assigned_officer_id=users["officer"].id)
        )
    db.commit()
    auth.login("officer1")
    urls = [page["url"] for page in listed(client).json["pages"]]
    # 33 people at 30 a page: two pages, both kept (query strings are part of the key)
    assert urls[1:3] == ["/people/", "/people/?page=2"]
    both = client.get("/people/").text + client.get("/people/?page=2").text
    assert all(f"测试{number}<" in both for number in range(30))


def test_a_large_caseload_is_capped(client, auth, caseloads, monkeypatch):
    monkeypatch.setattr(offline_pages_module, "LEDGER_LIMIT", 1)
    auth.login("supervisor")
    body = listed(client).json
    assert body["truncated"] is True
    assert sum(page["kind"] == "ledger" for page in body["pages"]) == 1


def test_the_list_costs_the_same_queries_for_any_caseload(
    client, auth, caseloads, db, unit, count_queries
):
    users, _people = caseloads
    auth.login("officer1")
    with count_queries() as small:
        listed(client)
    for number in range(20):
        db.add(
            Person(unit_id=unit.id, name=f"测试{number}", assigned_officer_id=users["officer"].id)
        )
    db.commit()
    with count_queries() as large:
        # Today and the list, a ledger and a visit form per person, the group form, Settings
        assert len(listed(client).json["pages"]) == 2 + 22 * 2 + 1 + 1
    assert len(large) == len(small)


def test_every_kept_page_is_never_stored_in_an_http_cache(client, auth, caseloads):
    auth.login("officer1")
    response = listed(client)
    assert response.headers["Cache-Control"] == "no-store"
    for page in response.json["pages"]:
        kept = client.get(page["url"])
        assert kept.status_code == 200, page["url"]
        assert kept.headers["Cache-Control"] == "no-store", page["url"]
        assert "Cookie" in kept.headers["Vary"]
    # the shell, by contrast, is the same for everyone and may be cached
    with client.get("/static/js/offline-store.js") as static:
        assert static.headers.get("Cache-Control") != "no-store"


def test_checking_for_a_new_worker_leaves_the_page_alone(client, auth, caseloads):
    """The browser fetches /sw.js at any moment: it must not eat a message meant for a page."""
    auth.login("officer1")
    auth.post_form("/settings/", {"locale": "zh_Hans", "timezone": "Asia/Shanghai"})
    client.get("/sw.js")
    assert "设置已保存。" in client.get("/settings/").text
