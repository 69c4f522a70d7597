"""Chinese first, English complete, a language per user."""

import html
import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from app.models import Person, Unit, Visit
from tests.conftest import csrf_from
from tests.factories import make_person, save_visit, visit_data

TRANSLATIONS = Path(__file__).resolve().parent.parent / "app" / "translations"


def test_chinese_is_the_default(client):
    page = client.get("/auth/login")
    assert '<html lang="zh-Hans">' in page.text
    assert "登录" in page.text


def test_language_can_be_chosen_before_signing_in(client):
    token = csrf_from(client.get("/auth/login").text)
    client.post("/auth/language", data={"locale": "en", "csrf_token": token})
    page = client.get("/auth/login")
    assert '<html lang="en">' in page.text
    assert "Sign in" in page.text


def test_unknown_language_is_ignored(client):
    token = csrf_from(client.get("/auth/login").text)
    client.post("/auth/language", data={"locale": "xx", "csrf_token": token})
    assert '<html lang="zh-Hans">' in client.get("/auth/login").text


def test_each_user_picks_a_language_and_time_zone(client, auth, make_user):
    make_user("officer1")
    auth.login("officer1")
    assert "今日" in client.get("/").text
    response = auth.post_form("/settings/", {"locale": "en", "timezone": "Asia/Urumqi"})
    assert response.status_code == 302
    settings = client.get("/settings/")
    assert "Settings saved." in settings.text
    assert "Today" in client.get("/").text
    assert '<option selected value="Asia/Urumqi">' in settings.text


def test_dates_show_in_the_users_time_zone(client, auth, make_user, db):
    officer = make_user("officer1")
    person = Person(
        unit_id=officer.unit_id, name="张晓梅", assigned_officer_id=officer.id, status="active"
    )
    db.add(person)
    db.flush()
    # 15:30 UTC is 23:30 in Chongqing, the same evening
    db.add(
        Visit(
            id=uuid.uuid4(),
            person_id=person.id,
            author_id=officer.id,
            kind="home_visit",
            occurred_at=datetime(2026, 3, 1, 15, 30, tzinfo=UTC),
        )
    )
    db.commit()
    auth.login("officer1")
    assert "2026/3/1 23:30" in client.get(f"/people/{person.id}").text


def test_labels_and_the_outbox_words_follow_her_language_in_one_process(
    client, auth, make_user, db
):
    """The label tables and the outbox's words are kept once per language: a change of
    language shows the other language's at once, and the first comes back unchanged."""
    officer = make_user("officer1")
    person = make_person(db, db.get(Unit, officer.unit_id), officer)
    save_visit(db, officer, visit_data(person))  # a home visit in her home
    auth.login("officer1")
    ledger = f"/people/{person.id}"
    chinese = client.get(ledger).text
    assert "家访面谈" in chinese and "本人家中" in chinese and "Home visit" not in chinese
    assert outbox_words(chinese)["badge"]["synced"] == "已同步"
    auth.post_form("/settings/", {"locale": "en", "timezone": "Asia/Shanghai"})
    english = client.get(ledger).text
    assert "Home visit" in english and "Her home" in english and "家访面谈" not in english
    assert outbox_words(english)["badge"]["synced"] == "Synced"
    auth.post_form("/settings/", {"locale": "zh_Hans", "timezone": "Asia/Shanghai"})
    again = client.get(ledger).text
    assert "家访面谈" in again and "本人家中" in again and "Home visit" not in again
    assert outbox_words(again) == outbox_words(chinese)


def outbox_words(page: str) -> dict:
    """The words a page hands the outbox scripts (base.html's #outbox-labels)."""
    found = re.search(r"id=\"outbox-labels\" hidden data-labels='([^']*)'", page)
    return json.loads(html.unescape(found.group(1)))


def test_chinese_catalog_translates_every_message():
    with open(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    untranslated = [
        m.id
        for m in catalog
        if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_catalogs_hold_every_string_in_the_code(tmp_path):
    """The committed template matches what extraction finds now (run `make catalogs`)."""
    fresh = tmp_path / "messages.pot"
    root = TRANSLATIONS.parent.parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "--sort-output",
            "--no-location",
            "--project",
            "Clover",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )

    def ids(path):
        with open(path, "rb") as f:
            return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}

    expected = ids(fresh)
    for locale in ("zh_Hans", "en"):
        assert ids(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po") >= expected, locale
