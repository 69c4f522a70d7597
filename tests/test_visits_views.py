"""The visit form over HTTP: record, double submit, rejected input, corrections, history."""

import re
import uuid

import pytest
from sqlmodel import func, select

from app.models import AuditEvent, Visit
from tests.conftest import csrf_from
from tests.factories import make_person, visit_data


@pytest.fixture
def officer(make_user):
    return make_user("officer1")


@pytest.fixture
def person(db, unit, officer):
    # released long ago; the form posts "now", so its time is left to the form's default
    return make_person(db, unit, officer)


def form_of(client, url: str) -> dict:
    """The hidden fields a browser would send back: token, UUID, base version."""
    page = client.get(url).text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    fields["csrf_token"] = csrf_from(page)
    return fields


def post_visit(client, person, **changes):
    url = f"/people/{person.id}/visits/new"
    hidden = form_of(client, url)
    data = visit_data(person, id=hidden["id"], **changes)
    data.pop("person_id")
    data["occurred_at"] = changes.get("occurred_at", "2026-01-05T10:30")
    return client.post(url, data={**data, "csrf_token": hidden["csrf_token"]}), data


def visits(db) -> list[Visit]:
    return db.exec(select(Visit)).all()


def test_the_form_renders_a_fresh_uuid_and_now(client, auth, officer, person):
    auth.login("officer1")
    first, second = (
        form_of(client, f"/people/{person.id}/visits/new"),
        form_of(client, f"/people/{person.id}/visits/new"),
    )
    assert uuid.UUID(first["id"]) != uuid.UUID(second["id"])
    page = client.get(f"/people/{person.id}/visits/new").text
    assert 'type="datetime-local" id="occurred_at" name="occurred_at" value="20' in page
    assert "张晓梅" in page and "记录回访" in page


def test_recording_a_visit_redirects_to_the_ledger_which_shows_it(client, auth, db, person):
    auth.login("officer1")
    response, data = post_visit(client, person)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/people/{person.id}?saved={data['id']}"
    [visit] = visits(db)
    assert str(visit.id) == data["id"] and visit.kind == "home_visit"
    ledger = client.get(response.headers["Location"]).text
    assert "回访已保存" in ledger
    assert "入户面谈，情绪平稳。" in ledger and "母亲" in ledger
    assert f'data-visit-saved="{data["id"]}"' in ledger


def test_a_double_submit_saves_one_visit(client, auth, db, person):
    auth.login("officer1")
    url = f"/people/{person.id}/visits/new"
    hidden = form_of(client, url)
    data = {**visit_data(person, id=hidden["id"]), "csrf_token": hidden["csrf_token"]}
    data["occurred_at"] = "2026-01-05T10:30"
    first = client.post(url, data=data)
    second = client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert len(visits(db)) == 1
    assert "这次回访已经保存过了" in client.get(second.headers["Location"]).text


def test_a_rejected_form_keeps_what_was_typed_with_translated_errors(client, auth, db, person):
    auth.login("officer1")
    response, data = post_visit(client, person, mood="9", notes="她说最近睡不好")
    assert response.status_code == 422
    page = response.text
    assert "情绪是 1 到 5 之间的数字。" in page
    assert "她说最近睡不好" in page
    assert f'name="id" value="{data["id"]}"' in page  # the same UUID: a retry saves once
    assert re.search(r'value="mother"[^>]*\schecked', page)
    assert visits(db) == []


def test_an_officer_cannot_open_someone_elses_form(client, auth, db, unit, make_user, person):
    colleague = make_user("officer2")
    theirs = make_person(db, unit, colleague, name="李红")
    auth.login("officer1")
    assert client.get(f"/people/{theirs.id}/visits/new").status_code == 404
    token = csrf_from(client.get(f"/people/{person.id}/visits/new").text)
    response = client.post(
        f"/people/{theirs.id}/visits/new", data={**visit_data(theirs), "csrf_token": token}
    )
    assert response.status_code == 404 and "李红" not in response.text
    assert visits(db) == []


def test_a_peer_helper_is_offered_only_talks_and_check_ins(client, auth, db, unit, make_user):
    helper = make_user("helper1", role="peer_helper")
    officer = make_user("officer9")
    person = make_person(db, unit, officer, peer_helper_id=helper.id)
    auth.login("helper1")
    page = client.get(f"/people/{person.id}/visits/new").text
    offered = re.findall(r'name="kind" value="(\w+)"', page.split('id="no-answer-form"')[0])
    assert offered == ["talk", "online_check_in"]
    response, _ = post_visit(client, person, kind="home_visit")
    assert response.status_code == 403 and "不能为她记录这次回访" in response.text
    assert visits(db) == []


def test_a_correction_is_shown_as_edited_with_its_versions(client, auth, db, person):
    auth.login("officer1")
    _, data = post_visit(client, person)
    edit_url = f"/visits/{data['id']}/edit"
    hidden = form_of(client, edit_url)
    assert hidden["base_version"] == "1"
    corrected = {**data, "notes": "更正：她母亲也在场。", "csrf_token": hidden["csrf_token"]}
    response = client.post(edit_url, data={**corrected, "base_version": "1"})
    assert response.status_code == 302
    ledger = client.get(f"/people/{person.id}").text
    assert "已修改" in ledger and f"/visits/{data['id']}/versions" in ledger
    history = client.get(f"/visits/{data['id']}/versions").text
    assert "更正：她母亲也在场。" in history and "入户面谈，情绪平稳。" in history
    assert "第 2 版" in history and "第 1 版" in history
    actions = set(db.exec(select(AuditEvent.action)).all())
    assert {"visit_create", "visit_edit", "visit_view", "visit_history_view"} <= actions
    # a second correction made on version 1 is a conflict, shown with the saved version
    stale = client.post(edit_url, data={**corrected, "notes": "另一处更正", "base_version": "1"})
    assert stale.status_code == 409
    assert "更正：她母亲也在场。" in stale.text and 'name="base_version" value="2"' in stale.text
    assert db.exec(select(func.max(Visit.version))).one() == 2


def test_a_refused_save_links_each_error_to_its_field_and_marks_the_group(
    client, auth, officer, person
):
    auth.login("officer1")
    response, _ = post_visit(client, person, mood="9", kind="home_visit")
    assert response.status_code == 422
    summary = response.text.split("data-error-summary")[1].split("</div>")[0]
    assert '<a href="#mood">' in summary
    # the chip group in error: its first choice is the link's target, every choice invalid
    assert 'id="mood" aria-invalid="true" aria-describedby="mood-error"' in response.text
    assert response.text.count('name="mood"') == response.text.count(
        'aria-describedby="mood-error"'
    )


def test_after_a_save_from_today_she_is_back_on_today(client, auth, officer, person):
    auth.login("officer1")
    url = f"/people/{person.id}/visits/new"
    hidden = form_of(client, url)
    data = visit_data(person, id=hidden["id"], occurred_at="2026-01-05T10:30")
    data.pop("person_id")
    answer = client.post(
        url, data={**data, "csrf_token": hidden["csrf_token"], "return_to": "today"}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "回访已保存到服务器" in client.get("/").text
    # anywhere else named is not a place to go back to: her ledger
    hidden = form_of(client, url)
    data = visit_data(person, id=hidden["id"], occurred_at="2026-01-06T10:30")
    data.pop("person_id")
    answer = client.post(
        url, data={**data, "csrf_token": hidden["csrf_token"], "return_to": "//evil.example"}
    )
    assert answer.headers["Location"].startswith(f"/people/{person.id}")
