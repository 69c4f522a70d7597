"""The group session pages: the form, the session, its correction, history, and ledgers."""

import re
import uuid

import pytest
from sqlmodel import select

from app.groups.attendance import attendee_visit_id
from app.models import AuditEvent, GroupSession, Visit
from app.types import utcnow
from tests.conftest import csrf_from
from tests.factories import make_person
from tests.group_world import caseload, group_data, save_group
from tests.sync_world import count


@pytest.fixture
def officer(make_user):
    return make_user("officer1", display_name="李警官")


@pytest.fixture
def eight(db, unit, officer):
    return caseload(db, unit, officer, 8)


def form_id(html: str) -> str:
    return re.search(r'name="id" value="([0-9a-f-]{36})"', html).group(1)


def post_new(client, data: dict):
    page = client.get("/groups/new").text
    return client.post("/groups/new", data={**data, "csrf_token": csrf_from(page)})


def test_the_form_lists_her_caseload_with_a_fresh_uuid(client, auth, officer, eight):
    auth.login("officer1")
    page = client.get("/groups/new")
    assert page.status_code == 200
    uuid.UUID(form_id(page.text))
    for person in eight:
        assert f'value="{person.id}"' in page.text and person.name in page.text
    assert 'value="group_counselling"' in page.text and 'value="home_visit"' not in page.text


def test_recording_a_session_for_eight_women_shows_it_and_each_ledger(
    client, auth, db, officer, eight
):
    auth.login("officer1")
    data = group_data(eight, id=form_id(client.get("/groups/new").text))
    answer = post_new(client, data)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/groups/{data['id']}"
    session_page = client.get(answer.headers["Location"]).text
    assert "情绪管理" in session_page and all(p.name in session_page for p in eight)
    assert count(db, Visit, Visit.group_session_id == uuid.UUID(data["id"])) == 8
    # her ledger shows the session, not the others' names nor the group's notes
    ledger = client.get(f"/people/{eight[0].id}").text
    assert "情绪管理" in ledger and "团体" in ledger and f"/groups/{data['id']}" in ledger
    assert "8 人参加" in ledger
    assert eight[1].name not in ledger and "小组讨论" not in ledger
    assert "/groups" in client.get("/groups").text


def test_a_double_submit_saves_one_session(client, auth, db, officer, eight):
    auth.login("officer1")
    data = group_data(eight[:2], id=form_id(client.get("/groups/new").text))
    assert post_new(client, data).status_code == 302
    assert post_new(client, data).status_code == 302
    assert count(db, GroupSession) == 1 and count(db, Visit) == 2


def test_a_refused_form_keeps_what_was_typed_with_translated_errors(
    client, auth, db, officer, eight
):
    auth.login("officer1")
    answer = post_new(client, group_data(eight, topic="", attendees=[]))
    assert answer.status_code == 422
    assert "请填写主题。" in answer.text and "至少勾选一位参加的人。" in answer.text
    assert "社区康复站活动室" in answer.text
    assert count(db, GroupSession) == 0


def test_a_form_without_its_token_is_refused(client, auth, officer, eight):
    auth.login("officer1")
    answer = client.post("/groups/new", data=group_data(eight))
    assert answer.status_code == 400


def test_someone_elses_person_refuses_the_save(client, auth, db, unit, officer, make_user, eight):
    other = make_person(db, unit, make_user("officer2"), name="外人")
    auth.login("officer1")
    answer = post_new(client, group_data([*eight[:2], other]))
    assert answer.status_code == 403 and "外人" not in answer.text
    assert count(db, GroupSession) == 0


def test_a_correction_removes_an_attendee_and_keeps_the_history(client, auth, db, officer, eight):
    data = group_data(eight[:3])
    save_group(db, officer, data, now=utcnow())  # within her window to correct it
    auth.login("officer1")
    url = f"/groups/{data['id']}/edit"
    page = client.get(url).text
    assert 'name="base_version" value="1"' in page
    kept = [str(p.id) for p in eight[1:3]]
    form = {**data, "attendees": kept, "base_version": "1", "csrf_token": csrf_from(page)}
    answer = client.post(url, data=form)
    assert answer.status_code == 302
    assert count(db, Visit, Visit.group_session_id == uuid.UUID(data["id"])) == 2
    history = client.get(f"/groups/{data['id']}/versions").text
    assert "第 2 版" in history and eight[0].name in history
    # the same form again, on the old version: a conflict, shown beside the saved one
    again = client.post(url, data={**form, "topic": "别的主题"})
    assert again.status_code == 409
    assert db.get(GroupSession, uuid.UUID(data["id"])).topic == "情绪管理"


def test_her_visit_of_a_session_opens_the_session_to_correct(client, auth, db, officer, eight):
    data = group_data(eight[:2])
    save_group(db, officer, data)
    auth.login("officer1")
    visit_id = attendee_visit_id(uuid.UUID(data["id"]), eight[0].id)
    answer = client.get(f"/visits/{visit_id}/edit")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/groups/{data['id']}/edit"


def test_a_colleague_sees_the_session_in_her_ledger_but_not_the_others(
    client, auth, db, unit, officer, make_user
):
    colleague = make_user("officer2", display_name="王警官")
    mine = caseload(db, unit, officer, 2)
    hers = make_person(db, unit, colleague, name="刘敏")
    # her person was reassigned to officer1 for the session, then back
    hers.assigned_officer_id = officer.id
    db.add(hers)
    db.commit()
    data = group_data([*mine, hers])
    assert save_group(db, officer, data).outcome == "created"
    hers.assigned_officer_id = colleague.id
    db.add(hers)
    db.commit()
    auth.login("officer2")
    ledger = client.get(f"/people/{hers.id}").text
    assert "情绪管理" in ledger and "3 人参加" in ledger
    assert mine[0].name not in ledger and mine[1].name not in ledger
    # the session itself is its author's, leader's and the supervisors'
    assert f"/groups/{data['id']}" not in ledger
    assert client.get(f"/groups/{data['id']}").status_code == 404


def test_a_supervisor_reads_the_session_and_every_name_of_her_unit(
    client, auth, db, officer, eight, make_user
):
    make_user("supervisor", role="supervisor")
    data = group_data(eight[:3])
    save_group(db, officer, data)
    auth.login("supervisor")
    page = client.get(f"/groups/{data['id']}").text
    assert all(p.name in page for p in eight[:3]) and "李警官" in page
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "group_view")).one()
    assert sorted(event.details["people"]) == sorted(str(p.id) for p in eight[:3])


def test_the_form_is_kept_offline_and_moves_only_with_her_caseload(
    client, auth, db, unit, officer, eight
):
    auth.login("officer1")

    def version() -> str:
        pages = client.get("/api/v1/offline/pages").json["pages"]
        [page] = [p for p in pages if p["kind"] == "group_form"]
        assert page["url"] == "/groups/new"
        return page["version"]

    first = version()
    eight[0].phone = "13900000000"
    db.add(eight[0])
    db.commit()
    assert version() == first
    make_person(db, unit, officer, name="新来的")
    assert version() != first
    # fetched to keep, the page is told the version the listing gives it
    kept = client.get("/groups/new", headers={"X-Clover-Offline": "1"})
    assert kept.headers["X-Clover-Page-Version"] == version()


def test_a_peer_helper_who_led_it_sees_it_with_her_pairs_names_only(
    client, auth, db, unit, officer, make_user
):
    helper = make_user("helper1", role="peer_helper", display_name="周小燕")
    pairs = caseload(db, unit, officer, 2, peer_helper_id=helper.id)
    others = caseload(db, unit, officer, 2)
    others[0].name, others[1].name = "孙丽", "钱芳"
    db.add_all(others)
    db.commit()
    data = group_data([*pairs, *others], kind="talk", leader_id=str(helper.id))
    assert save_group(db, officer, data).outcome == "created"
    auth.login("helper1")
    assert f"/groups/{data['id']}" in client.get("/groups").text
    page = client.get(f"/groups/{data['id']}").text
    assert all(p.name in page for p in pairs)
    assert "孙丽" not in page and "钱芳" not in page and "另有 2 人不由您帮扶" in page
    # she led it, she did not write it: correcting it is its author's
    assert client.get(f"/groups/{data['id']}/edit").status_code == 403


def test_the_edit_window_closes_for_its_author_but_not_for_a_supervisor(
    client, auth, db, officer, eight, make_user
):
    make_user("supervisor", role="supervisor")
    data = group_data(eight[:2])
    save_group(db, officer, data)  # recorded on 15 June 2026: long past the 72 hours
    auth.login("officer1")
    assert client.get(f"/groups/{data['id']}/edit").status_code == 403
    auth.logout()
    auth.login("supervisor")
    assert client.get(f"/groups/{data['id']}/edit").status_code == 200
