"""Admins create units and users, on a page and from the command line."""

import pytest
from sqlmodel import select

from app.models import Unit, User


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
