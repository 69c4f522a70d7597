"""Admins manage accounts; a supervisor sees and unlocks her unit's; nobody else does either."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.accounts import create_unit
from app.models import (
    Assignment,
    AuditEvent,
    Person,
    PushSubscription,
    User,
    UserSession,
)
from tests.conftest import PASSWORD, TOTP_SECRET, AuthActions, csrf_from
from tests.factories import make_person


def sign_in(client, db, user: User, password: str = PASSWORD):
    """Sign in through the forms, second factor included, on this client."""
    response = AuthActions(client).login(user.username, password)
    assert response.status_code == 302, response.text
    return response


def post(client, url: str, data: dict | None = None, page: str = "/settings/"):
    """POST a form with a CSRF token taken from a page she can open."""
    token = csrf_from(client.get(page).text)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def fresh(db) -> None:
    """End the test's read transaction, so it sees what the requests committed since."""
    db.commit()
    db.expire_all()


def events(db, action: str) -> list[AuditEvent]:
    fresh(db)
    return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.fixture
def office(db, unit, make_user):
    """An admin; a unit with a supervisor, two officers and a helper; another unit's officer."""
    other = create_unit(db, name="江北工作室")
    db.commit()
    users = {
        "admin": make_user("admin1", role="admin", display_name="管理员"),
        "supervisor": make_user("super1", role="supervisor", display_name="周主任"),
        "officer": make_user("officer1", display_name="李梅"),
        "colleague": make_user("officer2", display_name="王芳"),
        "helper": make_user("helper1", role="peer_helper", display_name="陈姐"),
        "outsider": make_user("officer9", unit_id=other.id, display_name="江北民警"),
    }
    return users


def test_admin_sees_every_account_as_a_card_with_its_state(client, db, office):
    officer = office["officer"]
    officer.locked_until = datetime.now(UTC) + timedelta(minutes=15)
    officer.last_login_at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    office["helper"].active = False
    db.add_all([officer, office["helper"]])
    db.commit()
    sign_in(client, db, office["admin"])
    page = client.get("/admin/users").text
    assert "<table" not in page
    assert len(re.findall(r'<li class="person-row">', page)) == 6
    row = _card(page, officer)
    assert "李梅" in row and "officer1" in row and "测试工作室" in row
    assert "已锁定" in row and "未启用第二验证" in row
    assert "2026" in row  # her last sign-in
    assert "已停用" in _card(page, office["helper"])
    assert "已启用第二验证" in _card(page, office["admin"])  # enrolled with her account
    assert "从未登录" in _card(page, office["colleague"])


def _card(page: str, user: User) -> str:
    match = re.search(rf'href="/admin/users/{user.id}">(.*?)</a>', page, re.S)
    assert match, f"no card for {user.username}"
    return match.group(1)


def test_admin_edits_name_role_and_unit_and_it_is_audited(client, db, office):
    sign_in(client, db, office["admin"])
    helper = office["helper"]
    other_unit = office["outsider"].unit_id
    url = f"/admin/users/{helper.id}"
    response = post(
        client,
        url,
        {"display_name": " 陈  大姐 ", "role": "officer", "unit_id": str(other_unit)},
        page=url,
    )
    assert response.status_code == 302
    fresh(db)
    db.refresh(helper)
    assert (helper.display_name, helper.role, helper.unit_id) == ("陈 大姐", "officer", other_unit)
    (event,) = events(db, "user_edit")
    assert event.user_id == office["admin"].id
    assert (event.target_type, event.target_id) == ("user", str(helper.id))
    assert event.details["changes"]["role"] == ["peer_helper", "officer"]
    assert event.details["changes"]["display_name"] == ["陈姐", "陈 大姐"]


def test_a_new_role_ends_her_sessions(client, app, db, office):
    phone = app.test_client()
    sign_in(phone, db, office["colleague"])
    sign_in(client, db, office["admin"])
    url = f"/admin/users/{office['colleague'].id}"
    form = {"display_name": "王芳", "role": "supervisor", "unit_id": str(office["officer"].unit_id)}
    assert post(client, url, form, page=url).status_code == 302
    assert phone.get("/").headers["Location"].startswith("/auth/login")
    assert events(db, "user_edit")[0].details["sessions_ended"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "supervisor"}, "请先移交她负责的人员"),
        ({"unit_id": "other"}, "请先移交她负责的人员"),
        ({"display_name": "  "}, "请填写名称"),
        ({"unit_id": ""}, "除管理员和局领导外"),
    ],
)
def test_an_edit_that_would_strand_her_people_is_refused(client, db, unit, office, change, message):
    officer = office["officer"]
    make_person(db, unit, officer)
    sign_in(client, db, office["admin"])
    url = f"/admin/users/{officer.id}"
    form = {"display_name": "李梅", "role": "officer", "unit_id": str(unit.id), **change}
    if form["unit_id"] == "other":
        form["unit_id"] = str(office["outsider"].unit_id)
    response = post(client, url, form, page=url)
    assert response.status_code == 200
    assert message in response.text
    fresh(db)
    db.refresh(officer)
    assert (officer.display_name, officer.role, officer.unit_id) == ("李梅", "officer", unit.id)
    assert events(db, "user_edit") == []


def test_an_admin_cannot_change_her_own_role(client, db, office):
    admin = office["admin"]
    sign_in(client, db, admin)
    url = f"/admin/users/{admin.id}"
    form = {"display_name": "管理员", "role": "officer", "unit_id": str(office["officer"].unit_id)}
    response = post(client, url, form, page=url)
    assert "不能更改自己的角色" in response.text
    fresh(db)
    db.refresh(admin)
    assert admin.role == "admin"


def _handover_page(client, officer):
    page = client.get(f"/admin/users/{officer.id}/handover").text
    versions = dict(re.findall(r'name="(v-[0-9a-f-]+)" value="(\d+)"', page))
    return page, versions


def test_hand_over_moves_every_person_with_a_history_row_and_a_reason(client, db, unit, office):
    officer, colleague, admin = office["officer"], office["colleague"], office["admin"]
    people = [make_person(db, unit, officer, name=name) for name in ("张晓梅", "刘红", "赵丽")]
    closed = make_person(db, unit, officer, name="孙燕", status="closed")
    sign_in(client, db, admin)
    page, versions = _handover_page(client, officer)
    assert len(versions) == 3 and "孙燕" not in page
    assert "江北民警" not in page  # only her unit's officers can take them
    response = post(
        client,
        f"/admin/users/{officer.id}/handover",
        {**versions, "to_user": str(colleague.id), "reason": "调离本所"},
        page=f"/admin/users/{officer.id}/handover",
    )
    assert response.status_code == 302
    fresh(db)
    for person in people:
        person = db.get(Person, person.id)
        assert person.assigned_officer_id == colleague.id
        assert person.version == 2
        history = db.exec(
            select(Assignment)
            .where(Assignment.person_id == person.id)
            .order_by(Assignment.started_at)
        ).all()
        assert [(row.user_id, row.ended_at is None) for row in history] == [
            (officer.id, False),
            (colleague.id, True),
        ]
        assert (history[1].reason, history[1].assigned_by_id) == ("调离本所", admin.id)
    assert db.get(Person, closed.id).assigned_officer_id == officer.id
    assert len(events(db, "person_assign")) == 3
    (summary,) = events(db, "user_handover")
    assert summary.details == {"to": str(colleague.id), "moved": 3, "stale": 0, "refused": 0}


def test_hand_over_reports_people_changed_meanwhile_and_leaves_them(client, db, unit, office):
    officer, colleague = office["officer"], office["colleague"]
    kept, changed = (
        make_person(db, unit, officer, name="张晓梅"),
        make_person(db, unit, officer, name="刘红"),
    )
    sign_in(client, db, office["admin"])
    url = f"/admin/users/{officer.id}/handover"
    _, versions = _handover_page(client, officer)
    # while the page is open, someone corrects one record and she takes a new person on
    changed.phone, changed.version = "13900139000", changed.version + 1
    db.add(changed)
    db.commit()
    newcomer = make_person(db, unit, officer, name="赵丽")
    response = post(
        client, url, {**versions, "to_user": str(colleague.id), "reason": "调离"}, page=url
    )
    assert response.status_code == 409
    result = re.search(r'id="handover-result">(.*?)</div>', response.text, re.S).group(1)
    assert "刘红" in result and "赵丽" in result and "张晓梅" not in result
    fresh(db)
    assert db.get(Person, kept.id).assigned_officer_id == colleague.id
    changed = db.get(Person, changed.id)
    assert (changed.assigned_officer_id, changed.phone, changed.version) == (
        officer.id,
        "13900139000",
        2,
    )
    assert db.get(Person, newcomer.id).assigned_officer_id == officer.id
    # the page now carries what stands: a second go moves the rest
    _, versions = _handover_page(client, officer)
    assert set(versions) == {f"v-{changed.id}", f"v-{newcomer.id}"}
    response = post(
        client, url, {**versions, "to_user": str(colleague.id), "reason": "调离"}, page=url
    )
    assert response.status_code == 302
    fresh(db)
    assert db.exec(select(Person).where(Person.assigned_officer_id == officer.id)).all() == []


def test_a_peer_helper_hands_over_to_another_helper(client, db, unit, office, make_user):
    helper = office["helper"]
    other_helper = make_user("helper2", role="peer_helper", display_name="何姐")
    person = make_person(db, unit, office["officer"], peer_helper_id=helper.id)
    sign_in(client, db, office["admin"])
    url = f"/admin/users/{helper.id}/handover"
    page, versions = _handover_page(client, helper)
    assert "王芳" not in page  # an officer cannot take a helper's part
    form = {**versions, "to_user": str(other_helper.id), "reason": "换人"}
    assert post(client, url, form, page=url).status_code == 302
    fresh(db)
    person = db.get(Person, person.id)
    assert (person.peer_helper_id, person.assigned_officer_id) == (
        other_helper.id,
        office["officer"].id,
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"to_user": "", "reason": "调离"}, "请从列表中选择"),
        ({"to_user": "officer9", "reason": "调离"}, "请从列表中选择"),
        ({"to_user": "officer2", "reason": "  "}, "请填写变更原因"),
    ],
)
def test_a_hand_over_without_a_colleague_or_reason_moves_nobody(
    client, db, unit, office, form, message
):
    officer = office["officer"]
    person = make_person(db, unit, officer)
    sign_in(client, db, office["admin"])
    names = {"officer9": office["outsider"], "officer2": office["colleague"]}
    if form["to_user"] in names:
        form = {**form, "to_user": str(names[form["to_user"]].id)}
    url = f"/admin/users/{officer.id}/handover"
    _, versions = _handover_page(client, officer)
    response = post(client, url, {**versions, **form}, page=url)
    assert response.status_code == 200
    assert message in response.text
    fresh(db)
    assert db.get(Person, person.id).assigned_officer_id == officer.id


def test_deactivation_signs_her_out_everywhere_and_keeps_her_records(client, app, db, unit, office):
    officer = office["officer"]
    person = make_person(db, unit, officer)
    phone = app.test_client()
    sign_in(phone, db, officer)
    assert phone.get("/").status_code == 200
    db.add(
        PushSubscription(user_id=officer.id, endpoint="https://push.test/1", p256dh="k", auth="a")
    )
    db.commit()
    sign_in(client, db, office["admin"])
    response = post(
        client, f"/admin/users/{officer.id}/deactivate", page=f"/admin/users/{officer.id}"
    )
    assert response.status_code == 302
    # her phone is signed out at its next request
    assert phone.get("/").headers["Location"].startswith("/auth/login")
    fresh(db)
    assert db.exec(select(PushSubscription)).all() == []
    rows = db.exec(select(UserSession).where(UserSession.user_id == officer.id)).all()
    assert [(row.ended_at is not None, row.end_reason) for row in rows] == [(True, "deactivated")]
    assert db.get(Person, person.id).assigned_officer_id == officer.id
    assert db.exec(select(AuditEvent).where(AuditEvent.user_id == officer.id)).all()
    (event,) = events(db, "user_deactivate")
    assert event.details == {"sessions_ended": 1, "push_subscriptions_removed": 1}
    assert "已停用" in client.get(f"/admin/users/{officer.id}").text
    # and she can no longer sign in
    again = app.test_client()
    response = AuthActions(again).login("officer1")
    assert response.status_code == 200 and "Location" not in response.headers
    assert again.get("/").headers["Location"].startswith("/auth/login")

    response = post(
        client, f"/admin/users/{officer.id}/reactivate", page=f"/admin/users/{officer.id}"
    )
    assert response.status_code == 302
    assert AuthActions(again).login("officer1").status_code == 302
    assert len(events(db, "user_reactivate")) == 1


def test_an_admin_cannot_deactivate_herself(client, db, office):
    admin = office["admin"]
    sign_in(client, db, admin)
    response = post(client, f"/admin/users/{admin.id}/deactivate", page=f"/admin/users/{admin.id}")
    assert response.status_code == 302
    assert "不能停用自己的账号" in client.get(response.headers["Location"]).text
    fresh(db)
    db.refresh(admin)
    assert admin.active
    assert events(db, "user_deactivate") == []


def test_admin_ends_one_of_her_sessions(client, app, db, office):
    officer = office["officer"]
    phone, desk = app.test_client(), app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile"
    sign_in(phone, db, officer)
    sign_in(desk, db, officer)
    sign_in(client, db, office["admin"])
    page = client.get(f"/admin/users/{officer.id}").text
    phone_row = db.exec(
        select(UserSession).where(
            UserSession.user_id == officer.id, UserSession.label.contains("Android")
        )
    ).one()
    assert "Chrome · Android" in page
    url = f"/admin/users/{officer.id}/sessions/{phone_row.id}/end"
    assert post(client, url, page=f"/admin/users/{officer.id}").status_code == 302
    assert phone.get("/").headers["Location"].startswith("/auth/login")
    assert desk.get("/").status_code == 200
    (event,) = events(db, "session_end")
    assert event.user_id == office["admin"].id
    assert event.details["reason"] == "ended_by_admin"
    # an ended session, or one that is not hers, cannot be ended again
    assert post(client, url, page=f"/admin/users/{officer.id}").status_code == 404
    wrong = f"/admin/users/{office['colleague'].id}/sessions/{uuid.uuid4()}/end"
    assert post(client, wrong).status_code == 404


def test_admin_resets_a_second_factor(client, app, db, office):
    supervisor = office["supervisor"]
    desk = app.test_client()
    sign_in(desk, db, supervisor)
    sign_in(client, db, office["admin"])
    url = f"/admin/users/{supervisor.id}/second-factor/reset"
    assert post(client, url, page=f"/admin/users/{supervisor.id}").status_code == 302
    fresh(db)
    db.refresh(supervisor)
    assert supervisor.totp_enrolled_at is None and supervisor.totp_secret_encrypted is None
    assert desk.get("/").headers["Location"].startswith("/auth/login")
    (event,) = events(db, "second_factor_reset")
    assert event.user_id == office["admin"].id
    assert (event.target_type, event.target_id) == ("user", str(supervisor.id))
    assert TOTP_SECRET not in str(event.details)


def test_admin_resets_a_password_shown_once_and_changed_at_sign_in(client, app, db, office):
    officer = office["officer"]
    sign_in(client, db, office["admin"])
    response = post(
        client, f"/admin/users/{officer.id}/password", page=f"/admin/users/{officer.id}"
    )
    assert response.status_code == 200
    password = re.search(r'id="one-time-password"><strong>([^<]+)</strong>', response.text).group(1)
    assert password not in client.get(f"/admin/users/{officer.id}").text
    fresh(db)
    db.refresh(officer)
    assert officer.must_change_password
    (event,) = events(db, "password_reset")
    assert event.user_id == office["admin"].id
    assert password not in str(event.details)
    phone = app.test_client()
    assert AuthActions(phone).login("officer1").status_code == 200  # the old one is gone
    response = AuthActions(phone).login("officer1", password)
    assert response.headers["Location"] == "/settings/password"


def test_supervisor_sees_and_unlocks_her_unit_only(client, db, office):
    officer, outsider = office["officer"], office["outsider"]
    for user in (officer, outsider):
        user.failed_logins, user.locked_until = 10, datetime.now(UTC) + timedelta(minutes=15)
        db.add(user)
    db.commit()
    sign_in(client, db, office["supervisor"])
    page = client.get("/admin/users").text
    assert "李梅" in page and "陈姐" in page
    assert "江北民警" not in page and "管理员" not in page
    assert 'name="username"' not in page  # no form to create a user
    assert client.get(f"/admin/users/{outsider.id}").status_code == 404
    assert client.get(f"/admin/users/{office['admin'].id}").status_code == 404
    her_page = client.get(f"/admin/users/{officer.id}").text
    assert "解锁" in her_page and "重置密码" not in her_page and "停用" not in her_page

    response = post(client, f"/admin/users/{officer.id}/unlock", page="/admin/users")
    assert response.status_code == 302
    assert (
        post(client, f"/admin/users/{outsider.id}/unlock", page="/admin/users").status_code == 404
    )
    fresh(db)
    assert db.get(User, officer.id).locked_until is None
    assert db.get(User, officer.id).failed_logins == 0
    assert db.get(User, outsider.id).locked_until is not None
    unlocks = [e for e in events(db, "login_unlocked") if e.target_id == str(officer.id)]
    assert [e.user_id for e in unlocks] == [office["supervisor"].id]


def _manage_routes(office, session_id) -> list[tuple[str, dict]]:
    officer = office["officer"]
    base = f"/admin/users/{officer.id}"
    unit_id = str(officer.unit_id)
    return [
        (base, {"display_name": "X", "role": "officer", "unit_id": unit_id}),
        (f"{base}/deactivate", {}),
        (f"{base}/reactivate", {}),
        (f"{base}/password", {}),
        (f"{base}/second-factor/reset", {}),
        (f"{base}/sessions/{session_id}/end", {}),
        (f"{base}/handover", {"to_user": str(office["colleague"].id), "reason": "x"}),
        (
            "/admin/users",
            {
                "username": "new1",
                "display_name": "新",
                "role": "officer",
                "unit_id": unit_id,
                "locale": "zh_Hans",
                "timezone": "Asia/Shanghai",
                "password": "a-long-password-1",
            },
        ),
    ]


@pytest.mark.parametrize("who", ["supervisor", "officer", "helper"])
def test_only_an_admin_manages_accounts(client, app, db, unit, office, who):
    officer = office["officer"]
    make_person(db, unit, officer)
    phone = app.test_client()
    sign_in(phone, db, officer)
    row = db.exec(select(UserSession).where(UserSession.user_id == officer.id)).one()
    sign_in(client, db, office[who])
    expected = 403 if who == "supervisor" else 404
    for url, form in _manage_routes(office, row.id):
        answer = post(client, url, form).status_code
        assert answer == (403 if url == "/admin/users" else expected), url
    if who != "supervisor":
        assert client.get("/admin/users").status_code == 403
        assert client.get(f"/admin/users/{officer.id}").status_code == 404
        assert post(client, f"/admin/users/{officer.id}/unlock").status_code == 404
    fresh(db)
    officer = db.get(User, officer.id)
    assert (officer.display_name, officer.active, officer.must_change_password) == (
        "李梅",
        True,
        False,
    )
    assert db.get(UserSession, row.id).ended_at is None
    assert db.exec(select(Person).where(Person.assigned_officer_id == officer.id)).one()
    assert db.exec(select(User).where(User.username == "new1")).first() is None
    assert phone.get("/").status_code == 200


def test_an_action_without_its_csrf_token_changes_nothing(client, db, office):
    officer = office["officer"]
    sign_in(client, db, office["admin"])
    response = client.post(f"/admin/users/{officer.id}/deactivate")
    assert response.status_code == 400
    fresh(db)
    db.refresh(officer)
    assert officer.active
