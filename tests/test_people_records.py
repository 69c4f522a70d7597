"""Registering, editing, revealing, consent, plans, assignment and status: through the routes."""

from datetime import timedelta

import pytest
from sqlmodel import func, select

from app.models import AuditEvent, Person, SupportPlan
from tests.conftest import csrf_from
from tests.people_world import TODAY, reload, valid_id

NEW = {
    "name": "吴小丽",
    "id_number": valid_id(seq="902"),
    "date_of_birth": "",
    "phone": "13700001234",
    "contact_name": "吴母",
    "contact_relation": "母亲",
    "contact_phone": "13700005678",
    "admission_date": (TODAY - timedelta(days=700)).isoformat(),
    "release_date": (TODAY + timedelta(days=60)).isoformat(),
    "support_path": "return_to_society",
    "risk_level": "medium",
}


def register(client, data, person_id=None):
    page = client.get("/people/new").text
    token = csrf_from(page)
    if person_id is None:
        person_id = page.split('name="person_id" type="hidden" value="')[1].split('"')[0]
    return client.post(
        "/people/new", data={**data, "person_id": person_id, "csrf_token": token}
    ), person_id


def audits(db, action):
    return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def count(db, model):
    return db.exec(select(func.count()).select_from(model)).one()


def test_a_supervisor_registers_a_person(client, auth, world, db):
    auth.login("supervisor")
    response, person_id = register(client, NEW)
    assert response.status_code == 302
    person = db.exec(select(Person).where(Person.name == "吴小丽")).one()
    assert response.headers["Location"] == f"/people/{person.id}"
    assert str(person.id) == person_id
    assert person.status == "pre_release" and person.unit_id == world.unit.id
    assert NEW["id_number"] not in person.id_number_encrypted
    assert world.cipher.decrypt(person.id_number_encrypted) == NEW["id_number"]
    assert person.id_number_hash == world.cipher.digest(NEW["id_number"])
    assert person.id_number_tail == NEW["id_number"][-4:]
    assert person.date_of_birth.isoformat() == "1985-03-14"  # read from the ID number
    assert "wxl" in person.search_keys.split()
    plan = db.exec(select(SupportPlan).where(SupportPlan.person_id == person.id)).one()
    assert plan.version == 1 and plan.cadence == world.unit.default_cadence
    assert person.next_due_on == TODAY + timedelta(days=60 - 180)
    assert [e.person_id for e in audits(db, "person_create")] == [person.id]
    ledger = client.get(response.headers["Location"]).text
    assert "吴小丽 已登记。" in ledger and "500***********" in ledger


def test_registering_twice_from_the_same_form_saves_once(client, auth, world, db):
    auth.login("supervisor")
    first, person_id = register(client, NEW)
    again, _ = register(client, NEW, person_id=person_id)
    assert again.headers["Location"] == first.headers["Location"]
    assert db.exec(select(func.count()).where(Person.name == "吴小丽")).one() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id_number": NEW["id_number"][:-1] + "0"}, "身份证号校验不通过，请逐位核对。"),
        ({"id_number": "12345"}, "身份证号为 17 位数字加 1 位数字或 X。"),
        ({"phone": "12345678901"}, "请填写以 1 开头的 11 位手机号。"),
        (
            {"release_date": (TODAY - timedelta(days=800)).isoformat()},
            "解除强制隔离日期须晚于入所日期。",
        ),
        ({"date_of_birth": "1990-01-01"}, "出生日期与身份证号中的不一致。"),
        ({"id_number": valid_id(born=TODAY.replace(year=TODAY.year - 5))}, "出生日期不合理。"),
    ],
)
def test_bad_input_is_refused_with_a_translated_message(client, auth, world, db, changes, message):
    auth.login("supervisor")
    before = count(db, Person)
    response, _ = register(client, {**NEW, **changes})
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert count(db, Person) == before
    assert audits(db, "person_create") == []


def test_the_same_id_number_is_refused_with_a_link_to_her_ledger(client, auth, world, db):
    existing = world.people["colleague"]
    number = world.cipher.decrypt(existing.id_number_encrypted)
    auth.login("supervisor")
    response, _ = register(client, {**NEW, "id_number": number})
    assert "该身份证号已登记。" in response.text
    assert f'href="/people/{existing.id}"' in response.text
    assert count(db, Person) == 3


def test_a_duplicate_in_another_unit_shows_no_link(client, auth, world, db):
    elsewhere = world.people["elsewhere"]
    auth.login("supervisor")
    number = world.cipher.decrypt(elsewhere.id_number_encrypted)
    response, _ = register(client, {**NEW, "id_number": number})
    assert "该身份证号已登记。" in response.text and "其他单位" in response.text
    assert str(elsewhere.id) not in response.text and "王芳" not in response.text


@pytest.mark.parametrize("login", ["officer1", "helper1"])
def test_officers_and_peer_helpers_cannot_register(client, auth, world, login):
    auth.login(login)
    assert client.get("/people/new").status_code == 403


def test_an_administrator_registers_into_a_unit_she_names(client, auth, world, db):
    auth.login("admin")
    page = client.get("/people/new").text
    assert "另一个工作室" in page
    response, _ = register(client, {**NEW, "unit_id": str(world.other_unit.id)})
    assert response.status_code == 302
    assert (
        db.exec(select(Person).where(Person.name == "吴小丽")).one().unit_id == world.other_unit.id
    )


def edit_form(client, person):
    page = client.get(f"/people/{person.id}/edit").text
    fields = {}
    for name in ("name", "phone", "date_of_birth", "release_date", "admission_date", "version"):
        marker = f'name="{name}"'
        chunk = page.split(marker, 1)[1][:200] if marker in page else ""
        fields[name] = chunk.split('value="')[1].split('"')[0] if 'value="' in chunk else ""
    fields["support_path"] = person.support_path
    fields["risk_level"] = person.risk_level
    fields["csrf_token"] = csrf_from(page)
    return fields


def test_an_edit_saves_a_new_version_and_is_audited(client, auth, world, db):
    person = world.people["colleague"]
    auth.login("supervisor")
    form = edit_form(client, person)
    assert form["version"] == "1" and form["name"] == "李红"
    response = client.post(
        f"/people/{person.id}/edit", data={**form, "name": "李红梅", "phone": "13911112222"}
    )
    assert response.status_code == 302
    reload(db, person)
    assert (person.name, person.phone, person.version) == ("李红梅", "13911112222", 2)
    assert "lhm" in person.search_keys.split()
    assert world.cipher.decrypt(person.id_number_encrypted)  # a blank ID number kept hers
    (event,) = audits(db, "person_update")
    assert event.details["fields"] == ["name", "phone"]
    assert "13911112222" not in str(event.details)


def test_an_edit_from_a_stale_form_keeps_both_and_saves_nothing(client, auth, world, db):
    person = world.people["colleague"]
    auth.login("supervisor")
    stale = edit_form(client, person)
    client.post(f"/people/{person.id}/edit", data={**stale, "phone": "13922223333"})
    response = client.post(f"/people/{person.id}/edit", data={**stale, "phone": "13944445555"})
    assert response.status_code == 409
    assert "您编辑期间他人已保存修改" in response.text
    assert 'value="13944445555"' in response.text and "13922223333" in response.text
    reload(db, person)
    assert person.phone == "13922223333" and person.version == 2


def test_reveal_is_for_supervisors_and_audited(client, auth, world, db):
    person = world.people["mine"]
    number = world.cipher.decrypt(person.id_number_encrypted)
    auth.login("supervisor")
    ledger = client.get(f"/people/{person.id}").text
    assert number not in ledger and number[:3] + "*" * 11 + number[-4:] in ledger
    response = client.post(
        f"/people/{person.id}/id-number",
        headers={"HX-Request": "true", "X-CSRFToken": csrf_from(ledger)},
    )
    assert response.status_code == 200 and number in response.text and "<html" not in response.text
    (event,) = audits(db, "person_reveal_id")
    assert event.person_id == person.id and event.user_id == world.users["supervisor"].id


@pytest.mark.parametrize(
    ("login", "status"), [("officer1", 403), ("admin", 403), ("helper1", 403), ("sup2", 404)]
)
def test_reveal_is_refused_to_other_roles(client, auth, world, db, login, status):
    person = world.people["mine"]
    auth.login(login)
    token = csrf_from(client.get("/settings/").text)
    response = client.post(f"/people/{person.id}/id-number", headers={"X-CSRFToken": token})
    assert response.status_code == status
    assert world.cipher.decrypt(person.id_number_encrypted) not in response.text
    assert audits(db, "person_reveal_id") == []
    if status == 403:
        assert "显示完整号码" not in client.get(f"/people/{person.id}").text
