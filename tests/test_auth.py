"""Signing in and out, the `next` redirect, sessions and CSRF."""

from datetime import timedelta

import pytest
from sqlmodel import SQLModel, select

from app import create_app
from app.models import AuditEvent, User, UserSession
from tests.conftest import PASSWORD, AuthActions, age_sessions, csrf_from


def test_login_lands_on_today_and_records_it(client, auth, make_user, db):
    make_user("officer1", display_name="陈雪梅")
    response = auth.login("officer1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    today = client.get("/")
    assert "陈雪梅" in today.text
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "login")).all()
    assert len(events) == 1 and events[0].ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("username", "password"),
    [("officer1", "wrong-password"), ("nobody", PASSWORD), ("OFFICER1 ", "wrong")],
)
def test_bad_credentials_are_refused_with_one_message(client, auth, make_user, username, password):
    make_user("officer1")
    response = auth.login(username, password)
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    assert client.get("/").status_code == 302


def test_username_is_not_case_sensitive(client, auth, make_user):
    make_user("officer1")
    assert auth.login(" Officer1", PASSWORD).headers["Location"] == "/"


def test_inactive_user_cannot_sign_in(auth, make_user, db):
    user = make_user("officer1")
    user.active = False
    db.add(user)
    db.commit()
    assert auth.login("officer1").status_code == 200


def test_login_form_without_csrf_token_is_rejected(client, make_user):
    make_user("officer1")
    response = client.post("/auth/login", data={"username": "officer1", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.text


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/people/", "/people/"),
        ("/settings/?tab=1", "/settings/?tab=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirect_stays_on_site(auth, make_user, next_url, expected):
    make_user("officer1")
    response = auth.login("officer1", next_url=next_url)
    assert response.headers["Location"] == expected


def test_protected_page_sends_to_login_with_next(client):
    response = client.get("/people/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_login_starts_a_new_session(client, auth, make_user):
    make_user("officer1")
    client.get("/auth/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    auth.login("officer1")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_logout_ends_the_session(client, auth, make_user):
    make_user("officer1")
    auth.login("officer1")
    response = auth.logout()
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/").status_code == 302


def test_logout_needs_post_with_token(client, auth, make_user):
    make_user("officer1")
    auth.login("officer1")
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_idle_session_expires(app, client, auth, make_user, db):
    make_user("officer1")
    auth.login("officer1")
    age_sessions(db, idle=app.config["CLOVER_IDLE_FIELD"] + timedelta(minutes=1))
    response = client.get("/people/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert client.get("/").status_code == 302
    (row,) = db.exec(select(UserSession)).all()
    db.refresh(row)
    assert row.end_reason == "expired"


def test_activity_keeps_the_session_alive(app, client, auth, make_user, db):
    make_user("officer1")
    auth.login("officer1")
    almost = app.config["CLOVER_IDLE_FIELD"] - timedelta(minutes=1)
    age_sessions(db, idle=almost)
    assert client.get("/").status_code == 200
    age_sessions(db, idle=almost)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(("role", "signed_in"), [("supervisor", False), ("officer", True)])
def test_a_desk_session_idles_out_sooner_than_an_officers(
    client, auth, make_user, db, role, signed_in
):
    make_user("someone", role=role)
    auth.login("someone")
    age_sessions(db, idle=timedelta(minutes=31))
    assert (client.get("/").status_code == 200) is signed_in


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(client, auth, make_user, db):
    make_user("officer1")
    auth.login("officer1")
    age_sessions(db, since_sign_in=timedelta(hours=12, minutes=1))
    assert client.get("/").status_code == 302


@pytest.mark.real_password_hash
def test_passwords_are_stored_with_scrypt_and_sign_in_with_it(make_user, db, auth, client):
    make_user("officer1")
    user = db.exec(select(User)).one()
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert auth.login("officer1").status_code == 302
    assert client.get("/settings/").status_code == 200


def test_login_page_carries_a_csrf_token(client):
    assert csrf_from(client.get("/auth/login").text)


def test_a_session_cookie_from_before_sign_out_no_longer_signs_in(app, client, auth, make_user):
    """A copy of the cookie (a request in flight, a phone kept offline) dies with sign-out."""
    make_user("officer1")
    auth.login("officer1")
    with client.session_transaction() as session:
        stolen = dict(session)
    auth.logout()
    with client.session_transaction() as session:
        session.update(stolen)
    response = client.get("/people/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    # signing in again works, with a new session
    assert auth.login("officer1").headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/", "/people/", "/settings/", "/sw.js", "/static/css/app.css"])
def test_a_request_that_changes_no_session_sends_no_cookie(client, auth, make_user, path):
    """A page's background requests run beside its form posts: were each to send back the
    cookie it came with, a slower one would put back the session a post had just replaced
    (its flash, the sign-in step's form token)."""
    make_user("officer1")
    auth.login("officer1")
    client.get("/")  # her first page: the session's form token is made once
    assert client.get(path).status_code == 200
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/sw.js", "/static/css/app.css"])
def test_the_worker_and_static_files_never_send_a_cookie(client, path):
    """Fetched while she signs in: the pending sign-in must not be overwritten."""
    assert csrf_from(client.get("/auth/login").text)
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_flash_survives_a_background_request_sent_with_the_older_cookie(app, make_user):
    """The settings save and a background fetch cross on the wire: the fetch left with the
    cookie from before the save and comes back after it."""
    make_user("officer1")
    phone = app.test_client()
    AuthActions(phone).login("officer1")
    token = csrf_from(phone.get("/settings/").text)
    older = phone.get_cookie("session").value
    saved = phone.post(
        "/settings/", data={"locale": "en", "timezone": "Asia/Shanghai", "csrf_token": token}
    )
    assert saved.status_code == 302
    for path in ("/sw.js", "/static/css/app.css", "/"):
        in_flight = app.test_client()
        in_flight.set_cookie("session", older)
        if "Set-Cookie" in in_flight.get(path, headers={"X-Clover-Offline": "1"}).headers:
            phone.set_cookie("session", in_flight.get_cookie("session").value)
    assert "Settings saved." in phone.get("/settings/").text


# --- throttling: CLOVER_LOGIN_LIMITS per client address and per username ---

WRONG = "a-wrong-password"


@pytest.fixture
def login_limits(app):
    """Set CLOVER_LOGIN_LIMITS for this test's app (read at each request)."""

    def set_limits(value: str) -> None:
        app.config["CLOVER_LOGIN_LIMITS"] = value

    return set_limits


def sign_in_from(client, address: str, username: str, password: str = WRONG):
    """A sign-in posted from this client address."""
    token = csrf_from(client.get("/auth/login").text)
    return client.post(
        "/auth/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def throttled(response) -> bool:
    if response.status_code != 429:
        assert "用户名或密码错误" in response.text or response.status_code == 302
        return False
    assert "尝试次数过多" in response.text and "请稍后再试" in response.text
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    return True


@pytest.mark.parametrize(
    ("limits", "allowed"),
    [("30 per hour;10 per minute", 10), ("30 per hour", 30), ("3 per hour", 3)],
)
def test_failed_sign_ins_from_one_address_are_throttled_whatever_the_username(
    client, make_user, login_limits, limits, allowed
):
    make_user("officer1")
    login_limits(limits)
    answers = [
        throttled(sign_in_from(client, "10.0.0.1", f"someone{n}")) for n in range(allowed + 1)
    ]
    assert answers == [False] * allowed + [True]
    # even her right password is not looked at from there now
    assert throttled(sign_in_from(client, "10.0.0.1", "officer1", PASSWORD))
    assert client.get("/").status_code == 302
    # another address is not held back
    assert sign_in_from(client, "10.0.0.2", "officer1", PASSWORD).headers["Location"] == "/"


@pytest.mark.parametrize("username", ["officer1", "nobody"])
def test_failed_sign_ins_for_one_username_are_throttled_from_any_address(
    client, make_user, login_limits, username
):
    make_user("officer1")
    make_user("officer2")
    login_limits("3 per hour")
    answers = [throttled(sign_in_from(client, f"10.0.1.{n}", username)) for n in range(4)]
    assert answers == [False, False, False, True]
    assert throttled(sign_in_from(client, "10.0.2.1", f" {username.upper()}"))
    # the same new address may still sign in someone else
    assert sign_in_from(client, "10.0.2.1", "officer2", PASSWORD).headers["Location"] == "/"


def test_a_throttled_username_answers_alike_whether_or_not_it_exists(app, make_user, login_limits):
    make_user("officer1")
    login_limits("1 per hour")
    pages = {}
    for username in ("officer1", "nobody"):
        client = app.test_client()
        sign_in_from(client, "10.0.3.1" if username == "nobody" else "10.0.4.1", username)
        answer = sign_in_from(client, "10.0.5.1", username)
        token = csrf_from(answer.text)
        pages[username] = (answer.status_code, answer.text.replace(token, "TOKEN"))
    assert pages["officer1"] == pages["nobody"]
    assert pages["nobody"][0] == 429


def test_sign_ins_that_succeed_do_not_count(client, auth, make_user, login_limits):
    make_user("officer1")
    login_limits("2 per hour")
    for _ in range(4):
        assert auth.login("officer1").headers["Location"] == "/"
        auth.logout()
    assert throttled(sign_in_from(client, "127.0.0.1", "officer1")) is False


def test_wrong_second_factor_codes_draw_on_her_username_allowance(
    client, auth, make_user, login_limits
):
    """A password and a code tried for one account share one allowance."""
    make_user("supervisor", role="supervisor")
    login_limits("3 per hour")
    assert throttled(sign_in_from(client, "10.0.6.1", "supervisor")) is False
    sign_in_from(client, "10.0.6.2", "supervisor", PASSWORD)
    answers = [auth.second_factor("000000").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    assert "尝试次数过多" in auth.second_factor("000000").text
    assert client.get("/").status_code == 302


def test_behind_a_proxy_the_address_limit_counts_each_client_not_the_proxy(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'proxied.db'}",
            "CLOVER_PROXY_HOPS": 1,
            "CLOVER_LOGIN_LIMITS": "3 per hour",
        }
    )
    SQLModel.metadata.create_all(app.extensions["clover_engine"])
    client = app.test_client()

    def from_client(address: str):
        token = csrf_from(client.get("/auth/login").text)
        return client.post(
            "/auth/login",
            data={"username": f"x{address}", "password": WRONG, "csrf_token": token},
            headers={"X-Forwarded-For": address},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},  # the proxy
        )

    assert [from_client("203.0.113.7").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert from_client("198.51.100.4").status_code == 200


def test_sign_in_still_answers_when_the_limit_store_is_out_of_reach(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'noredis.db'}",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
        }
    )
    SQLModel.metadata.create_all(app.extensions["clover_engine"])
    client = app.test_client()
    token = csrf_from(client.get("/auth/login").text)
    response = client.post(
        "/auth/login", data={"username": "nobody", "password": WRONG, "csrf_token": token}
    )
    assert response.status_code == 200 and "用户名或密码错误" in response.text
