"""Failed sign-ins per account: a growing wait after five, a lockout after ten, an unlock."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.models import AuditEvent, User
from tests.conftest import PASSWORD, csrf_from

WRONG = "a-wrong-password"
WRONG_ANSWER = "用户名或密码错误"
WAIT_ANSWER = "请稍等几秒再试"
LOCKED_ANSWER = "已锁定 15 分钟"


class Clock:
    """The sign-in view's clock, moved by hand: waits pass without sleeping."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def roomy_limits(app):
    """The lockout is under test here, not the address and username limits."""
    app.config["CLOVER_LOGIN_LIMITS"] = "1000 per minute"


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("app.auth.utcnow", clock)
    return clock


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was compared with a hash (a real one or the dummy)."""
    import app.accounts

    calls = []
    real = app.accounts.check_password_hash

    def counting(pwhash, password):
        calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr("app.accounts.check_password_hash", counting)
    return calls


def answer(response) -> str:
    """Which of the sign-in answers this page gives."""
    if response.status_code == 302:
        return "signed in"
    for name, text in (("wrong", WRONG_ANSWER), ("wait", WAIT_ANSWER), ("locked", LOCKED_ANSWER)):
        if text in response.text:
            return name
    raise AssertionError(f"no sign-in answer on a {response.status_code} page")


def her(db, username="officer1") -> User:
    """Her row as committed now (a fresh transaction, not the test's last snapshot)."""
    db.commit()
    user = db.exec(select(User).where(User.username == username)).one()
    db.refresh(user)
    return user


def fail(auth, clock, times: int, username: str = "officer1") -> list[str]:
    """Wrong passwords, each after the wait the one before it asked for (the last one's
    wait is still on)."""
    answers = []
    for number in range(times):
        if number:
            clock.advance(minutes=16)
        answers.append(answer(auth.login(username, WRONG)))
    return answers


def test_after_five_failures_each_further_try_waits_twice_as_long(auth, make_user, db, clock):
    make_user("officer1")
    waits = []
    for failures in range(1, 11):
        auth.login("officer1", WRONG)
        user = her(db)
        assert user.failed_logins == failures
        waits.append(user.locked_until - clock.now if user.locked_until else None)
        clock.advance(seconds=2 ** max(failures - 5, 0))
    seconds = [timedelta(seconds=s) for s in (1, 2, 4, 8, 16)]
    assert waits == [None] * 4 + seconds + [timedelta(minutes=15)]


def test_a_try_inside_the_wait_is_refused_without_checking_the_password(
    auth, make_user, db, clock, password_checks
):
    make_user("officer1")
    answers = [answer(auth.login("officer1", WRONG)) for _ in range(5)]
    assert answers == ["wrong"] * 4 + ["wait"]
    checked = len(password_checks)
    clock.advance(milliseconds=500)
    # even the right password: it is not looked at
    assert answer(auth.login("officer1", PASSWORD)) == "wait"
    assert len(password_checks) == checked
    assert her(db).failed_logins == 5
    clock.advance(milliseconds=600)
    assert answer(auth.login("officer1", PASSWORD)) == "signed in"


def test_ten_failures_lock_the_account_for_fifteen_minutes(client, auth, make_user, db, clock):
    make_user("officer1")
    answers = []
    for failures in range(10):
        answers.append(answer(auth.login("officer1", WRONG)))
        clock.advance(seconds=2 ** max(failures - 4, 0))
    assert answers == ["wrong"] * 4 + ["wait"] * 5 + ["locked"]
    locked_until = her(db).locked_until
    assert locked_until - (clock.now - timedelta(seconds=32)) == timedelta(minutes=15)
    clock.now = locked_until - timedelta(seconds=1)
    assert answer(auth.login("officer1", PASSWORD)) == "locked"
    assert client.get("/").status_code == 302


def test_the_lock_expires_and_a_right_password_then_clears_the_count(auth, make_user, db, clock):
    make_user("officer1")
    fail(auth, clock, 10)
    user = her(db)
    assert user.failed_logins == 10
    # fifteen minutes pass (the lock moved into the past rather than waited for)
    user.locked_until = clock.now - timedelta(seconds=1)
    db.add(user)
    db.commit()
    assert answer(auth.login("officer1", PASSWORD)) == "signed in"
    user = her(db)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_failure_after_the_lock_expired_locks_again(auth, make_user, db, clock):
    make_user("officer1")
    fail(auth, clock, 10)
    clock.advance(minutes=15)
    assert answer(auth.login("officer1", WRONG)) == "locked"
    user = her(db)
    assert user.failed_logins == 11
    assert user.locked_until == clock.now + timedelta(minutes=15)


def test_a_right_password_before_the_fifth_failure_starts_the_count_again(
    auth, make_user, db, clock
):
    make_user("officer1")
    fail(auth, clock, 4)
    assert answer(auth.login("officer1", PASSWORD)) == "signed in"
    assert her(db).failed_logins == 0
    auth.logout()
    assert fail(auth, clock, 4) == ["wrong"] * 4


def test_an_unknown_username_gets_the_same_answers_and_password_checks(
    client, auth, make_user, clock, password_checks
):
    """Tried the same way, a username nobody has answers as one that exists, step by step."""
    make_user("officer1")

    def sequence(username):
        start = len(password_checks)
        answers = []
        for step in range(12):
            answers.append(answer(auth.login(username, WRONG)))
            # another try at once (inside the wait, once there is one), then past the wait
            answers.append(answer(auth.login(username, WRONG)))
            clock.advance(seconds=2 ** max(step - 3, 0) + 1)
        return answers, len(password_checks) - start

    known, unknown = sequence("officer1"), sequence("nobody")
    assert known == unknown
    assert set(known[0]) == {"wrong", "wait", "locked"}


def test_every_failure_and_the_lockout_are_audited(auth, make_user, db, clock):
    officer = make_user("officer1")
    fail(auth, clock, 10)
    auth.login("officer1", PASSWORD)  # inside the lock: refused, and recorded too
    auth.login("nobody", WRONG)
    events = db.exec(select(AuditEvent).order_by(AuditEvent.at)).all()
    failed = [e for e in events if e.action == "login_failed"]
    assert [e.details["reason"] for e in failed] == ["password"] * 10 + ["locked", "password"]
    assert [e.user_id for e in failed] == [officer.id] * 11 + [None]
    assert failed[-1].details["username"] == "nobody"
    assert [e.details["failures"] for e in failed[:10]] == list(range(1, 11))
    (locked,) = [e for e in events if e.action == "login_locked"]
    assert locked.user_id == officer.id and locked.details["username"] == "officer1"
    assert not [e for e in events if e.action == "login"]


def test_unlock_from_the_command_line_lets_her_in_at_once(runner, auth, make_user, db, clock):
    officer = make_user("officer1")
    fail(auth, clock, 10)
    assert answer(auth.login("officer1", PASSWORD)) == "locked"
    result = runner.invoke(args=["users", "unlock", "Officer1"])
    assert result.exit_code == 0, result.output
    assert "unlocked" in result.output
    assert (her(db).failed_logins, her(db).locked_until) == (0, None)
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "login_unlocked")).all()
    assert event.user_id is None and event.target_id == str(officer.id)
    assert event.details == {"username": "officer1", "failures": 10, "was_locked": True}
    assert answer(auth.login("officer1", PASSWORD)) == "signed in"


@pytest.mark.parametrize(
    ("username", "exit_code", "output"),
    [("officer1", 0, "was not locked"), ("nobody", 2, "no user named 'nobody'")],
)
def test_unlock_command_says_when_there_is_nothing_to_unlock(
    runner, make_user, db, username, exit_code, output
):
    make_user("officer1")
    result = runner.invoke(args=["users", "unlock", username])
    assert result.exit_code == exit_code
    assert output in result.output
    assert not db.exec(select(AuditEvent).where(AuditEvent.action == "login_unlocked")).all()


def test_an_administrator_unlocks_through_her_page(client, auth, make_user, db, clock):
    make_user("admin", role="admin")
    officer = make_user("officer1")
    fail(auth, clock, 10)
    auth.login("admin")
    response = auth.post_form(f"/admin/users/{officer.id}/unlock", {}, page="/admin/users")
    assert response.status_code == 302
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "login_unlocked")).all()
    admin = her(db, "admin")
    assert event.user_id == admin.id and event.target_id == str(officer.id)
    assert her(db).failed_logins == 0


def test_a_right_password_alone_does_not_clear_failures_when_a_code_follows(
    client, auth, make_user, db, clock
):
    """Otherwise her password would buy an attacker fresh tries at her codes."""
    make_user("supervisor", role="supervisor")
    fail(auth, clock, 4, "supervisor")
    clock.advance(minutes=16)
    response = auth.login("supervisor", PASSWORD)  # the harness answers with her code
    assert response.headers["Location"] == "/"
    assert her(db, "supervisor").failed_logins == 0
    auth.logout()
    fail(auth, clock, 4, "supervisor")
    clock.advance(minutes=16)
    token = csrf_from(client.get("/auth/login").text)
    client.post(
        "/auth/login", data={"username": "supervisor", "password": PASSWORD, "csrf_token": token}
    )
    assert her(db, "supervisor").failed_logins == 4
    assert client.get("/").status_code == 302
