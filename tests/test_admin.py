"""Admins create units and users, on a page and from the command line."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.accounts import create_unit
from app.due import check_due, schedule_today
from app.models import AuditEvent, Person, Unit, User
from tests.factories import make_person, save_visit, visit_data
from tests.sync_world import fresh


def test_admin_creates_a_unit_and_a_user(client, auth, make_user, db):
    make_user("admin", role="admin")
    auth.login("admin")
    response = auth.post_form("/admin/units", {"name": "江北分所工作室"})
    assert response.status_code == 302
    unit = db.exec(select(Unit).where(Unit.name == "江北分所工作室")).one()
    response = auth.post_form(
        "/admin/users",
        {
            "username": "officer9",
            "display_name": "赵敏",
            "role": "officer",
            "unit_id": str(unit.id),
            "locale": "zh_Hans",
            "timezone": "Asia/Shanghai",
            "password": "a-long-password",
        },
    )
    assert response.status_code == 302
    assert "赵敏" in client.get("/admin/users").text
    auth.logout()
    assert auth.login("officer9", "a-long-password").headers["Location"] == "/"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "officer1", "该用户名已被使用"),
        ("password", "short", "密码至少需要 12 个字符"),
        ("unit_id", "", "除管理员和局领导外"),
        ("username", "bad name!", "只能使用字母"),
    ],
)
def test_bad_user_is_refused_with_a_translated_message(
    client, auth, make_user, db, unit, field, value, message
):
    make_user("admin", role="admin")
    make_user("officer1")
    auth.login("admin")
    form = {
        "username": "newone",
        "display_name": "新人",
        "role": "officer",
        "unit_id": str(unit.id),
        "locale": "zh_Hans",
        "timezone": "Asia/Shanghai",
        "password": "a-long-password",
        field: value,
    }
    response = auth.post_form("/admin/users", form)
    assert response.status_code == 200
    assert message in response.text
    assert len(db.exec(select(User)).all()) == 2


@pytest.mark.parametrize("who", ["officer", "peer_helper"])
def test_only_admins_and_supervisors_see_users(client, auth, make_user, who):
    make_user("someone", role=who)
    auth.login("someone")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/units").status_code == 403
    assert "系统管理" not in client.get("/settings/").text


def test_a_supervisor_sees_users_but_neither_creates_them_nor_manages_units(
    client, auth, make_user, db
):
    make_user("super1", role="supervisor")
    auth.login("super1")
    settings = client.get("/settings/").text
    assert "/admin/users" in settings and "/admin/units" not in settings
    assert client.get("/admin/units").status_code == 403
    assert 'name="username"' not in client.get("/admin/users").text
    form = {
        "username": "newone",
        "display_name": "新人",
        "role": "officer",
        "locale": "zh_Hans",
        "timezone": "Asia/Shanghai",
        "password": "a-long-password",
    }
    assert auth.post_form("/admin/users", form).status_code == 403
    assert db.exec(select(User).where(User.username == "newone")).first() is None


def test_cli_creates_units_and_users(runner, db):
    result = runner.invoke(args=["units", "create", "渝北工作室"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "officer7",
            "--role",
            "officer",
            "--unit",
            "渝北工作室",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.exec(select(User).where(User.username == "officer7")).one()
    assert user.role == "officer"


def test_cli_refuses_an_unknown_unit(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "x1",
            "--role",
            "officer",
            "--unit",
            "nowhere",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code != 0
    assert "no unit named" in result.output


def _unit_form(unit, **changes) -> dict:
    values = {
        "name": unit.name,
        "grace_days": unit.grace_days,
        "risk_follow_up_hours": unit.risk_follow_up_hours,
        "lost_contact_after_days": unit.lost_contact_after_days,
        "visit_edit_window_hours": unit.visit_edit_window_hours,
        "lock_after_minutes": unit.lock_after_minutes,
    }
    return {key: str(value) for key, value in {**values, **changes}.items()}


def test_admin_sets_a_units_rules_and_its_people_are_dated_by_them_at_once(
    client, auth, make_user, db, unit
):
    make_user("admin", role="admin")
    officer = make_user("officer1")
    # her lost-contact day follows her last contact by the unit's rule
    person = make_person(db, unit, officer)
    save_visit(db, officer, visit_data(person, occurred_at="2026-06-15T10:30"))
    assert fresh(db, Person, person.id).lost_contact_from == date(2026, 6, 15) + timedelta(days=60)
    auth.login("admin")
    page = client.get(f"/admin/units/{unit.id}").text
    assert "宽限天数" in page and 'value="3"' in page
    response = auth.post_form(
        f"/admin/units/{unit.id}",
        _unit_form(unit, grace_days="5", lost_contact_after_days="45", name="测试工作室（北）"),
    )
    assert response.status_code == 302
    saved = fresh(db, Unit, unit.id)
    assert (saved.name, saved.grace_days, saved.lost_contact_after_days) == (
        "测试工作室（北）",
        5,
        45,
    )
    assert fresh(db, Person, person.id).lost_contact_from == date(2026, 6, 15) + timedelta(days=45)
    assert check_due(db, today=schedule_today()).differences == []
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "unit_update")).all()
    assert event.details["grace_days"] == [3, 5] and event.target_id == str(unit.id)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("grace_days", "31", "请输入 0 到 30 之间的整数"),
        ("lost_contact_after_days", "三十", "请输入 14 到 365 之间的整数"),
        ("lock_after_minutes", "", "请输入 1 到 60 之间的整数"),
        ("name", "另一个工作室", "已有同名单位"),
    ],
)
def test_bad_unit_rules_are_refused_in_chinese_and_change_nothing(
    client, auth, make_user, db, unit, field, value, message
):
    create_unit(db, name="另一个工作室")
    db.commit()
    make_user("admin", role="admin")
    auth.login("admin")
    response = auth.post_form(f"/admin/units/{unit.id}", _unit_form(unit, **{field: value}))
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    saved = fresh(db, Unit, unit.id)
    assert (saved.name, saved.grace_days, saved.lock_after_minutes) == ("测试工作室", 3, 5)
    assert not db.exec(select(AuditEvent).where(AuditEvent.action == "unit_update")).all()
