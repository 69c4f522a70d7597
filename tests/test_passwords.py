"""Password rules, changing her own password, and the one-time password after a reset."""

import re

import pytest
from sqlmodel import select

from app.demo import DEMO_PASSWORD
from app.models import AuditEvent, User, UserSession
from app.passwords import MIN_LENGTH, common_passwords, reset_password
from tests.conftest import PASSWORD, AuthActions, csrf_from

NEW = "lantern-orchard-river"

# (new password, what the page says in Chinese); officer1 signs in, under CLOVER_ENV testing
REFUSED = [
    ("eleven-char", "密码至少需要 12 个字符"),
    ("aaaaaaaaaaaa", "至少要用 5 个不同的字符"),
    ("121212121212", "至少要用 5 个不同的字符"),
    ("password1234", "最常见的密码之一"),
    ("Password1234", "最常见的密码之一"),
    ("QWERTYUIOP12", "最常见的密码之一"),
    ("my-officer1-secret", "不能包含用户名"),
    ("OFFICER1-is-who-i-am", "不能包含用户名"),
]


def change(auth, current: str, new: str, repeat: str | None = None):
    return auth.post_form(
        "/settings/password",
        {"current": current, "password": new, "repeat": new if repeat is None else repeat},
    )


def her(db, username="officer1") -> User:
    """Her row as committed now (a fresh transaction; nothing kept from before)."""
    db.commit()
    db.expire_all()
    return db.exec(select(User).where(User.username == username)).one()


def test_the_vendored_list_holds_ten_thousand_common_passwords_or_more():
    common = common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "qwerty", "iloveyou", "password1234"} <= common


@pytest.mark.parametrize(("new", "message"), REFUSED)
def test_a_weak_new_password_is_refused_with_the_reason(client, auth, make_user, db, new, message):
    make_user("officer1")
    auth.login("officer1")
    response = change(auth, PASSWORD, new)
    assert response.status_code == 200
    assert message in response.text
    assert her(db).password_changed_at is None


@pytest.mark.parametrize(
    ("environment", "accepted"), [("production", False), ("development", True), ("testing", True)]
)
def test_the_demo_password_is_refused_under_the_production_config(
    app, client, auth, make_user, db, environment, accepted
):
    make_user("officer1")
    auth.login("officer1")
    app.config["CLOVER_ENV"] = environment
    response = change(auth, PASSWORD, DEMO_PASSWORD)
    assert (response.status_code == 302) is accepted
    if not accepted:
        assert "公开的演示密码" in response.text


@pytest.mark.parametrize(
    ("current", "new", "repeat", "field", "message"),
    [
        ("not-her-password", NEW, NEW, "current", "当前密码不正确"),
        (PASSWORD, NEW, NEW + "x", "repeat", "两次输入的新密码不一致"),
        (PASSWORD, PASSWORD, PASSWORD, "password", "新密码不能与当前密码相同"),
    ],
)
def test_changing_asks_for_the_current_password_and_the_new_one_twice(
    client, auth, make_user, db, current, new, repeat, field, message
):
    make_user("officer1")
    auth.login("officer1")
    response = change(auth, current, new, repeat)
    assert response.status_code == 200
    assert re.search(rf'<p class="error" id="{field}-error">{message}', response.text)
    assert her(db).password_changed_at is None


def test_changing_her_password_ends_her_other_sessions_but_not_this_one(app, make_user, db):
    make_user("officer1")
    phone, desk = app.test_client(), app.test_client()
    AuthActions(phone).login("officer1")
    AuthActions(desk).login("officer1")
    response = change(AuthActions(desk), PASSWORD, NEW)
    assert response.headers["Location"] == "/settings/"
    assert "已在其他 1 台设备上退出登录" in desk.get("/settings/").text
    assert desk.get("/").status_code == 200
    answer = phone.get("/people/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/auth/login")
    rows = db.exec(select(UserSession).order_by(UserSession.created_at)).all()
    assert [(row.ended_at is not None, row.end_reason) for row in rows] == [
        (True, "password_change"),
        (False, ""),
    ]
    user = her(db)
    assert user.password_changed_at is not None and not user.must_change_password
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "password_change")).all()
    assert event.user_id == user.id and event.details == {"sessions_ended": 1}
    # the old password no longer signs in; the new one does
    assert AuthActions(phone).login("officer1", PASSWORD).status_code == 200
    assert AuthActions(phone).login("officer1", NEW).headers["Location"] == "/"


def test_wrong_current_passwords_are_throttled(app, client, auth, make_user):
    make_user("officer1")
    auth.login("officer1")
    app.config["CLOVER_LOGIN_LIMITS"] = "2 per hour"
    answers = [change(auth, "not-her-password", NEW).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


@pytest.fixture
def reset(db, make_user):
    """officer1, signed out everywhere by an administrator's reset: her one-time password."""
    admin = make_user("admin", role="admin")
    officer = make_user("officer1")

    def do_reset() -> str:
        password = reset_password(db, actor=admin, user=her(db))
        db.commit()
        return password

    do_reset.officer, do_reset.admin = officer, admin
    return do_reset


def test_a_reset_gives_a_readable_one_time_password_and_ends_her_sessions(client, auth, db, reset):
    auth.login("officer1")
    password = reset()
    assert len(password) >= MIN_LENGTH and re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
    assert password != reset()  # each reset a new one
    assert client.get("/").headers["Location"].startswith("/auth/login")
    user = her(db)
    assert user.must_change_password
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "password_reset")).all()
    assert [(e.user_id, e.target_id) for e in events] == [(reset.admin.id, str(user.id))] * 2
    assert password not in str([e.details for e in events])


@pytest.mark.parametrize(
    "path", ["/", "/people/", "/settings/", "/settings/second-factor", "/sync/conflicts"]
)
def test_after_a_reset_every_page_asks_for_a_new_password_first(client, auth, reset, path):
    password = reset()
    response = auth.login("officer1", password)
    assert response.headers["Location"] == "/settings/password"
    answer = client.get(path)
    assert answer.status_code == 302 and answer.headers["Location"] == "/settings/password"
    page = client.get("/settings/password")
    assert "管理员已重置你的密码" in page.text


@pytest.mark.parametrize(
    ("path", "status"),
    [("/sw.js", 200), ("/offline", 200), ("/api/v1/sync/pull", 403), ("/settings/password", 200)],
)
def test_after_a_reset_what_is_the_same_for_everyone_still_opens(client, auth, reset, path, status):
    auth.login("officer1", reset())
    assert client.get(path).status_code == status


def test_after_a_reset_she_may_sign_out(client, auth, reset):
    auth.login("officer1", reset())
    token = csrf_from(client.get("/settings/password").text)
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/").headers["Location"].startswith("/auth/login")


def test_she_chooses_her_own_password_after_a_reset_and_goes_on(client, auth, db, reset):
    password = reset()
    auth.login("officer1", password)
    # the one-time password is her current password
    assert "当前密码不正确" in change(auth, "not-it", NEW).text
    assert change(auth, password, NEW).headers["Location"] == "/settings/"
    assert client.get("/people/").status_code == 200
    user = her(db)
    assert not user.must_change_password and user.password_changed_at is not None
    auth.logout()
    assert auth.login("officer1", NEW).headers["Location"] == "/"


def test_a_reset_lifts_a_lockout(client, auth, db, reset):
    for _ in range(5):
        auth.login("officer1", "a-wrong-password")
    assert her(db).locked_until is not None
    password = reset()
    assert auth.login("officer1", password).headers["Location"] == "/settings/password"
    actions = db.exec(select(AuditEvent.action).order_by(AuditEvent.at)).all()
    assert actions[-3:] == ["login_unlocked", "password_reset", "login"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1234", "最常见的密码之一"),
        ("newone-is-me-123", "不能包含用户名"),
        ("short", "密码至少需要 12 个字符"),
    ],
)
def test_an_administrator_creating_a_user_follows_the_same_rules(
    client, auth, make_user, unit, db, password, message
):
    make_user("admin", role="admin")
    auth.login("admin")
    form = {
        "username": "newone",
        "display_name": "新人",
        "role": "officer",
        "unit_id": str(unit.id),
        "locale": "zh_Hans",
        "timezone": "Asia/Shanghai",
        "password": password,
    }
    response = auth.post_form("/admin/users", form)
    assert response.status_code == 200 and message in response.text
    assert db.exec(select(User).where(User.username == "newone")).first() is None


@pytest.mark.parametrize(
    ("password", "created"), [("password1234", False), (DEMO_PASSWORD, True), (NEW, True)]
)
def test_the_command_line_follows_the_same_rules(runner, unit, db, password, created):
    result = runner.invoke(
        args=["users", "create", "--username", "officer9", "--role", "officer"]
        + ["--unit", unit.name, "--password", password]
    )
    assert (result.exit_code == 0) is created, result.output
    assert (db.exec(select(User).where(User.username == "officer9")).first() is not None) is created
