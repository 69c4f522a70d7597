"""Support applications, plans, assignment and status: versions, withdrawal, closing."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.models import Assignment, AuditEvent, Consent, StatusChange, SupportPlan, Visit
from app.policy import Action, can, sees_record
from tests.conftest import csrf_from
from tests.people_world import TODAY, reload


def hidden(page: str, name: str) -> str:
    return page.split(f'name="{name}" type="hidden" value="')[1].split('"')[0]


def open_form(client, url):
    page = client.get(url).text
    values = {"csrf_token": csrf_from(page)}
    for name in ("record_id", "base_version", "version"):
        if f'name="{name}"' in page:
            values[name] = hidden(page, name)
    return values


CONSENT = {
    "signed_on": TODAY.isoformat(),
    "consents": ["follow_up_visits", "phone_contact"],
    "help_requested": ["work", "housing"],
    "preferred_contact_times": "周末上午",
}


def test_a_new_support_application_is_a_new_version(client, auth, world, db):
    person = world.people["mine"]
    auth.login("officer1")
    form = open_form(client, f"/people/{person.id}/consent")
    assert form["base_version"] == "1"
    response = client.post(f"/people/{person.id}/consent", data={**form, **CONSENT})
    assert response.status_code == 302
    versions = db.exec(
        select(Consent).where(Consent.person_id == person.id).order_by(Consent.version)
    ).all()
    assert [c.version for c in versions] == [1, 2]
    assert versions[1].help_requested == ["work", "housing"]
    assert versions[1].taken_by_id == world.users["officer"].id
    assert versions[0].consents == {
        "follow_up_visits": True,
        "phone_contact": True,
        "peer_contact": True,  # she is paired with a peer helper
    }
    # the same form sent again (a double tap, a retry) saves nothing more
    client.post(f"/people/{person.id}/consent", data={**form, **CONSENT})
    assert len(db.exec(select(Consent).where(Consent.person_id == person.id)).all()) == 2
    history = client.get(f"/people/{person.id}/consent/history").text
    assert "第 2 版" in history and "第 1 版" in history and "周末上午" in history


def test_a_plan_saved_on_a_version_that_moved_on_is_shown_beside_the_one_in_force(
    client, auth, world, db
):
    person = world.people["mine"]
    auth.login("officer1")
    first, second = (open_form(client, f"/people/{person.id}/plan") for _ in range(2))
    plan = {"contact_kinds": ["home_visit"], "every_days_0": "7"}
    client.post(f"/people/{person.id}/plan", data={**first, **plan, "goals": "甲"})
    response = client.post(f"/people/{person.id}/plan", data={**second, **plan, "goals": "乙"})
    assert response.status_code == 409
    assert "目标：甲" in response.text and "乙</textarea>" in response.text
    goals = lambda: db.exec(  # noqa: E731
        select(SupportPlan.goals)
        .where(SupportPlan.person_id == person.id)
        .order_by(SupportPlan.version)
    ).all()
    assert goals() == ["", "甲"]
    # saved again from the answer, hers becomes the next version
    again = {**second, "base_version": hidden(response.text, "base_version")}
    client.post(f"/people/{person.id}/plan", data={**again, **plan, "goals": "乙"})
    db.rollback()
    assert goals() == ["", "甲", "乙"]


def test_withdrawing_consent_stops_visits_and_leaves_the_due_list(client, auth, world, db):
    person = world.people["mine"]
    auth.login("officer1")
    assert "张晓梅" in client.get("/").text
    assert person.next_due_on is not None
    token = csrf_from(client.get(f"/people/{person.id}/consent/withdraw").text)
    response = client.post(
        f"/people/{person.id}/consent/withdraw", data={"reason": "", "csrf_token": token}
    )
    assert "请填写变更原因。" in response.text
    client.post(
        f"/people/{person.id}/consent/withdraw",
        data={"reason": "本人不再需要帮扶", "csrf_token": token},
    )
    reload(db, person)
    assert person.consent_withdrawn_at is not None and person.next_due_on is None
    assert not can(world.users["officer"], Action.visit_create, person)
    assert "张晓梅" not in client.get("/").text  # off the due list
    ledger = client.get(f"/people/{person.id}").text
    assert "她已撤回同意" in ledger and "本人不再需要帮扶" in ledger
    assert [
        e.action
        for e in db.exec(select(AuditEvent).where(AuditEvent.person_id == person.id))
        if e.action.startswith("consent")
    ] == ["consent_withdraw"]
    # a new application signed later restores consent
    form = open_form(client, f"/people/{person.id}/consent")
    response = client.post(f"/people/{person.id}/consent", data={**form, **CONSENT})
    assert response.status_code == 302
    reload(db, person)
    assert person.consent_withdrawn_at is None and person.next_due_on is not None
    assert can(world.users["officer"], Action.visit_create, person)
    assert "张晓梅" in client.get("/").text


def test_a_plan_version_moves_the_due_date(client, auth, world, db):
    person = world.people["mine"]
    db.add(
        Visit(
            id=uuid.uuid4(),
            person_id=person.id,
            author_id=world.users["officer"].id,
            kind="home_visit",
            occurred_at=datetime.now(UTC) - timedelta(days=2),
        )
    )
    db.commit()
    auth.login("officer1")
    form = open_form(client, f"/people/{person.id}/plan")
    bad = client.post(
        f"/people/{person.id}/plan",
        data={**form, "contact_kinds": ["home_visit"], "every_days_0": "0"},
    )
    assert "每个阶段的间隔须为 1 至 365 天。" in bad.text
    assert (
        db.exec(select(SupportPlan).where(SupportPlan.person_id == person.id)).all()[-1].version
        == 1
    )
    client.post(
        f"/people/{person.id}/plan",
        data={
            **form,
            "contact_kinds": ["home_visit", "family_therapy"],
            "focus_areas": ["drug_free_will"],
            "every_days_0": "5",
            "until_day_0": "60",
            "every_days_1": "30",
            "review_on": (TODAY + timedelta(days=30)).isoformat(),
            "goals": "稳定情绪",
        },
    )
    reload(db, person)
    assert person.next_due_on == TODAY - timedelta(days=2) + timedelta(days=5)
    ledger = client.get(f"/people/{person.id}").text
    assert (
        "稳定情绪" in ledger
        and "戒毒内驱力" in ledger
        and "至解除后第 60 天，每 5 天一次" in ledger
    )
    assert "历史版本" in ledger


def test_reassignment_is_kept_with_its_reason_and_moves_access(client, auth, world, db):
    person = world.people["mine"]
    officer, other = world.users["officer"], world.users["other_officer"]
    visit = Visit(
        id=uuid.uuid4(),
        person_id=person.id,
        author_id=officer.id,
        kind="phone_consultation",
        occurred_at=datetime.now(UTC),
    )
    db.add(visit)
    db.commit()
    auth.login("supervisor")
    opened = open_form(client, f"/people/{person.id}/assign")
    data = {**opened, "officer": str(other.id), "peer_helper": ""}
    assert "请填写变更原因。" in client.post(f"/people/{person.id}/assign", data=data).text
    client.post(f"/people/{person.id}/assign", data={**data, "reason": "转由辖区民警负责"})
    reload(db, person)
    assert person.assigned_officer_id == other.id and person.peer_helper_id is None
    rows = db.exec(select(Assignment).where(Assignment.person_id == person.id)).all()
    assert [(r.user_id, r.role, r.reason, r.ended_at is None) for r in rows] == [
        (other.id, "officer", "转由辖区民警负责", True)
    ]
    actions = db.exec(select(AuditEvent.details).where(AuditEvent.action == "person_assign")).all()
    assert {d["role"] for d in actions} == {"officer", "peer_helper"}
    ledger = client.get(f"/people/{person.id}").text
    assert "分配给民警 刘芳" in ledger and "转由辖区民警负责" in ledger
    assert "与心理互助员 周小燕 的结对结束" not in ledger  # she had no pairing row to end
    # access follows the assignment; her own past record stays hers
    assert not can(officer, Action.person_view, person) and can(other, Action.person_view, person)
    assert sees_record(officer, person, visit.author_id)
    assert not sees_record(world.users["helper"], person, visit.author_id)
    auth.logout()
    auth.login("officer1")
    assert client.get(f"/people/{person.id}").status_code == 404


def test_reassigning_twice_ends_the_first_assignment(client, auth, world, db):
    person = world.people["colleague"]
    auth.login("supervisor")
    for who in ("officer", "other_officer"):
        opened = open_form(client, f"/people/{person.id}/assign")
        client.post(
            f"/people/{person.id}/assign",
            data={
                **opened,
                "officer": str(world.users[who].id),
                "peer_helper": str(world.users["helper"].id),
                "reason": f"调整给{who}",
            },
        )
    rows = db.exec(
        select(Assignment).where(Assignment.role == "officer").order_by(Assignment.started_at)
    ).all()
    assert [r.user_id for r in rows] == [world.users["officer"].id, world.users["other_officer"].id]
    assert rows[0].ended_at is not None and rows[1].ended_at is None
    helper_rows = db.exec(select(Assignment).where(Assignment.role == "peer_helper")).all()
    assert len(helper_rows) == 1  # the pairing did not change the second time


STATUS = {
    "to_status": "lost_contact",
    "note": "连续三次电话未接通",
    "effective_on": TODAY.isoformat(),
}


def test_an_officer_records_lost_contact_but_cannot_close(client, auth, world, db):
    person = world.people["mine"]
    auth.login("officer1")
    page = client.get(f"/people/{person.id}/status").text
    assert 'value="closed"' not in page
    opened = open_form(client, f"/people/{person.id}/status")
    client.post(f"/people/{person.id}/status", data={**STATUS, **opened})
    reload(db, person)
    assert person.status == "lost_contact"
    (change,) = db.exec(select(StatusChange)).all()
    assert (change.from_status, change.author_id) == ("active", world.users["officer"].id)
    closing = {"to_status": "closed", "reason": "completed", "effective_on": TODAY.isoformat()}
    opened = open_form(client, f"/people/{person.id}/status")
    response = client.post(f"/people/{person.id}/status", data={**closing, **opened})
    assert response.status_code == 403
    reload(db, person)
    assert person.status == "lost_contact"
    assert "失联" in client.get(f"/people/{person.id}").text


def test_closing_makes_the_ledger_read_only(client, auth, world, db):
    person = world.people["mine"]
    auth.login("supervisor")
    opened = open_form(client, f"/people/{person.id}/status")
    missing = {"to_status": "closed", "effective_on": TODAY.isoformat(), **opened}
    assert "请选择结案原因。" in client.post(f"/people/{person.id}/status", data=missing).text
    client.post(f"/people/{person.id}/status", data={**missing, "reason": "moved_away"})
    reload(db, person)
    assert person.status == "closed" and person.next_due_on is None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "person_status")).one()
    assert event.details == {"from": "active", "to": "closed", "reason": "moved_away"}
    ledger = client.get(f"/people/{person.id}").text
    assert "该台账已结案，不能再修改。" in ledger and "迁出本地" in ledger
    for page in ("/edit", "/assign", "/status", "/consent", "/plan", "/consent/withdraw"):
        assert client.get(f"/people/{person.id}{page}").status_code == 403, page
        assert f'href="/people/{person.id}{page}"' not in ledger, page
    assert client.get(f"/people/{person.id}/plan/history").status_code == 200
    assert not can(world.users["officer"], Action.visit_create, person)


def test_keys_rotate_and_due_dates_refresh_from_the_command_line(app, runner, world, db):
    from cryptography.fernet import Fernet

    from app.crypto import IdCipher

    person = world.people["mine"]
    number = world.cipher.decrypt(person.id_number_encrypted)
    new_key = Fernet.generate_key().decode()
    app.extensions["clover_cipher"] = IdCipher(
        data_keys=f"{new_key},{app.config['CLOVER_DATA_KEY']}",
        hash_key=app.config["CLOVER_HASH_KEY"],
    )
    result = runner.invoke(args=["people", "rotate-keys"])
    assert "3 ID-card numbers re-encrypted" in result.output
    rotated = IdCipher(data_keys=new_key, hash_key=app.config["CLOVER_HASH_KEY"])
    assert rotated.decrypt(reload(db, person).id_number_encrypted) == number
    person.next_due_on = None
    db.add(person)
    db.commit()
    result = runner.invoke(args=["people", "check-due"])
    assert result.exit_code == 1
    assert f"{person.id}: stored" in result.output
    assert "checked 3 people: 1 differ, 0 await the daily refresh" in result.output
    # the daily run stores only those whose recheck day came; --all stores everyone
    assert "recomputed for 0 people" in runner.invoke(args=["people", "refresh-due"]).output
    result = runner.invoke(args=["people", "refresh-due", "--all"])
    assert "recomputed for 3 people" in result.output
    assert reload(db, person).next_due_on is not None
    result = runner.invoke(args=["people", "check-due", "--sample", "2"])
    assert (result.exit_code, result.output) == (
        0,
        "checked 2 people: 0 differ, 0 await the daily refresh\n",
    )
