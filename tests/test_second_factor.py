"""The second factor through the routes: enrolment, codes once each, recovery codes, reset."""

import re
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlmodel import select
from werkzeug.security import check_password_hash

from app.auth import totp
from app.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from app.models import AuditEvent, RecoveryCode, User, UserSession
from tests.conftest import PASSWORD, TOTP_SECRET, csrf_from

# a fixed moment (the middle of a 30-second step) for the tests that name steps
NOW = datetime(2026, 5, 4, 9, 30, 15, tzinfo=UTC)
STEP = totp.current_step(NOW)
# sign-ins racing one code: fewer than the per-username limit of tries a minute
RACERS = 6


@pytest.fixture
def frozen(monkeypatch):
    """The second-factor views see NOW as the time; returns a setter to move it."""
    moment = {"now": NOW}
    monkeypatch.setattr("app.auth.factor_views.utcnow", lambda: moment["now"])

    def move(to: datetime) -> None:
        moment["now"] = to

    return move


def password_step(client, username, password=PASSWORD):
    """The first sign-in step; the answer (a redirect to the second step, or in)."""
    token = csrf_from(client.get("/auth/login").text)
    return client.post(
        "/auth/login", data={"username": username, "password": password, "csrf_token": token}
    )


def give_code(client, code, url="/auth/second-factor"):
    token = csrf_from(client.get(url).text)
    return client.post(url, data={"code": code, "csrf_token": token})


def signed_in(client) -> bool:
    return client.get("/settings/").status_code == 200


def what_was_committed(db) -> None:
    """End the test session's read snapshot: see what the requests committed since."""
    db.rollback()
    db.expire_all()


def fresh(db, user) -> User:
    what_was_committed(db)
    return db.get(User, user.id)


def actions(db, action):
    what_was_committed(db)
    return db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def shown_secret(html: str) -> str:
    match = re.search(r"<code class=\"secret\" data-totp-secret>([A-Z2-7 ]+)</code>", html)
    assert match, "no secret on the page"
    return match.group(1).replace(" ", "")


def shown_recovery_codes(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", html)


def sign_out(client):
    token = csrf_from(client.get("/settings/").text)
    client.post("/auth/logout", data={"csrf_token": token})


# enrolment


def test_a_supervisor_enrols_at_her_first_sign_in_and_gets_ten_recovery_codes(
    client, db, make_user
):
    head = make_user("head", role="supervisor", enrolled=False)
    answer = password_step(client, "head")
    assert answer.headers["Location"] == "/auth/enrol"
    assert not signed_in(client)

    page = client.get("/auth/enrol").text
    secret = shown_secret(page)
    assert len(secret) == 32
    # the same secret until she confirms it: reloading the page does not change it
    assert shown_secret(client.get("/auth/enrol").text) == secret
    answer = give_code(client, totp.current_code(secret, datetime.now(UTC)), "/auth/enrol")
    assert answer.status_code == 200
    codes = shown_recovery_codes(answer.text)
    assert len(set(codes)) == 10
    assert 'href="/"' in answer.text
    # a page no script keeps offline or navigates away from: it names nobody to them
    assert "data-offline-copy" not in answer.text and "data-user-id" not in answer.text
    assert signed_in(client)

    head = fresh(db, head)
    assert head.totp_enrolled_at is not None
    # the secret is stored encrypted, and it is the one she was shown
    assert secret not in head.totp_secret_encrypted
    assert totp.secret_of(head, cipher=client.application.extensions["clover_cipher"]) == secret
    rows = db.exec(select(RecoveryCode).where(RecoveryCode.user_id == head.id)).all()
    assert len(rows) == 10 and all(row.used_at is None for row in rows)
    # stored hashed: no code in clear, each hash matching one shown code
    assert not {row.code_hash for row in rows} & set(codes)
    assert all(
        any(check_password_hash(row.code_hash, code.replace("-", "")) for row in rows)
        for code in codes
    )
    [enrolled] = actions(db, "second_factor_enrol")
    assert enrolled.user_id == head.id
    assert actions(db, "login")[0].details == {"method": "totp_enrol"}


def test_a_wrong_code_at_enrolment_enrols_nobody(client, db, make_user):
    head = make_user("head", role="supervisor", enrolled=False)
    password_step(client, "head")
    secret = shown_secret(client.get("/auth/enrol").text)
    wrong = f"{(int(totp.current_code(secret, datetime.now(UTC))) + 1) % 1_000_000:06d}"
    answer = give_code(client, wrong, "/auth/enrol")
    assert "验证码不正确。请检查手机时间后重试。" in answer.text
    assert shown_secret(answer.text) == secret
    assert not signed_in(client)
    head = fresh(db, head)
    assert head.totp_enrolled_at is None and head.totp_secret_encrypted is None
    assert db.exec(select(RecoveryCode)).all() == []


def test_the_qr_code_is_inline_svg_under_the_strict_csp(client, make_user):
    make_user("head", role="supervisor", enrolled=False)
    password_step(client, "head")
    page = client.get("/auth/enrol")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp
    svg = re.search(r"<svg.*?</svg>", page.text, re.S).group(0)
    tree = ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))  # noqa: S314 - our page
    assert any(path.get("d") for path in tree.iter("{http://www.w3.org/2000/svg}path"))
    assert tree.find("{http://www.w3.org/2000/svg}title").text == "身份验证器应用的二维码"
    # nothing the CSP would block: no inline style, script or handler anywhere on the page
    assert not re.search(r"\sstyle\s*=", page.text)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    assert not re.search(r"\son[a-z]+\s*=", page.text)
    assert "https://" not in svg and "<?xml" not in page.text


def test_enrolment_and_second_step_need_a_right_password_first(client, make_user):
    make_user("head", role="supervisor", enrolled=False)
    for url in ("/auth/enrol", "/auth/second-factor"):
        answer = client.get(url)
        assert answer.headers["Location"] == "/auth/login"
    assert not signed_in(client)


# the second step


def test_an_enrolled_supervisor_signs_in_with_her_current_code(client, db, make_user):
    head = make_user("head", role="supervisor")
    answer = password_step(client, "head")
    assert answer.headers["Location"] == "/auth/second-factor"
    # the password alone signs nobody in
    assert not signed_in(client)
    code = totp.current_code(TOTP_SECRET, datetime.now(UTC))
    answer = give_code(client, code)
    assert answer.headers["Location"] == "/"
    assert signed_in(client)
    assert actions(db, "login")[0].details == {"method": "totp"}
    assert len(db.exec(select(UserSession).where(UserSession.user_id == head.id)).all()) == 1


def test_a_wrong_code_is_a_failed_sign_in(client, db, make_user):
    head = make_user("head", role="supervisor")
    password_step(client, "head")
    right = totp.current_code(TOTP_SECRET, datetime.now(UTC))
    answer = give_code(client, "000000" if right != "000000" else "111111")
    assert answer.status_code == 200
    assert "验证码不正确，或已使用过。" in answer.text
    assert not signed_in(client)
    assert fresh(db, head).failed_logins == 1
    [failed] = actions(db, "login_failed")
    assert failed.user_id == head.id and failed.details["reason"] == "second_factor"
    assert db.exec(select(UserSession)).all() == []


def test_a_replayed_code_is_refused(client, db, make_user, frozen):
    make_user("head", role="supervisor")
    code = totp.code_at(TOTP_SECRET, STEP)
    password_step(client, "head")
    assert give_code(client, code).headers["Location"] == "/"
    sign_out(client)
    password_step(client, "head")
    answer = give_code(client, code)
    assert "验证码不正确，或已使用过。" in answer.text
    assert not signed_in(client)
    # still refused in the next step, while the code is inside the window
    frozen(NOW + timedelta(seconds=30))
    assert "验证码不正确，或已使用过。" in give_code(client, code).text
    # the next step's own code is good
    assert give_code(client, totp.code_at(TOTP_SECRET, STEP + 1)).headers["Location"] == "/"


def test_after_a_later_steps_code_an_earlier_one_is_refused(client, make_user, frozen):
    make_user("head", role="supervisor")
    password_step(client, "head")
    assert give_code(client, totp.code_at(TOTP_SECRET, STEP + 1)).headers["Location"] == "/"
    sign_out(client)
    password_step(client, "head")
    assert "验证码不正确，或已使用过。" in give_code(client, totp.code_at(TOTP_SECRET, STEP)).text
    assert not signed_in(client)


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
def test_a_code_one_step_either_side_of_now_is_accepted(
    client, make_user, frozen, offset, accepted
):
    make_user("head", role="supervisor")
    password_step(client, "head")
    answer = give_code(client, totp.code_at(TOTP_SECRET, STEP + offset))
    assert signed_in(client) is accepted
    assert (answer.status_code == 302) is accepted


def test_wrong_codes_lock_her_out_like_wrong_passwords(client, db, make_user, frozen):
    head = make_user("head", role="supervisor")
    password_step(client, "head")
    right = {totp.code_at(TOTP_SECRET, STEP + d) for d in (-1, 0, 1)}
    wrong = [f"{n}" * 6 for n in range(9) if f"{n}" * 6 not in right]
    for code in wrong[:5]:
        give_code(client, code)
    # five in a row: she waits before the next try
    head = fresh(db, head)
    assert head.failed_logins == 5 and head.locked_until > NOW
    # waiting after the failures: even the right code is not checked
    answer = give_code(client, totp.code_at(TOTP_SECRET, STEP))
    assert "错误次数过多" in answer.text
    assert not signed_in(client)
    assert fresh(db, head).totp_last_step is None and head.failed_logins == 5
    # once the wait is over the right code lets her in and clears the count
    frozen(head.locked_until + timedelta(seconds=1))
    assert give_code(client, totp.code_at(TOTP_SECRET, STEP + 1)).headers["Location"] == "/"
    assert fresh(db, head).failed_logins == 0


# recovery codes


def test_a_recovery_code_signs_her_in_once(client, db, make_user):
    head = make_user("head", role="supervisor")
    codes = totp.new_recovery_codes(db, head, now=datetime.now(UTC))
    db.commit()
    password_step(client, "head")
    # typed as it reads on paper, in capitals with a space
    answer = give_code(client, codes[3].upper().replace("-", " "))
    assert answer.headers["Location"] == "/"
    assert actions(db, "login")[0].details == {"method": "recovery_code"}
    [used] = actions(db, "second_factor_recovery_code")
    assert used.user_id == head.id and used.details == {"left": 9}
    rows = db.exec(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()
    assert len(rows) == 1
    sign_out(client)

    password_step(client, "head")
    assert "验证码不正确，或已使用过。" in give_code(client, codes[3]).text
    assert not signed_in(client)
    assert give_code(client, codes[4]).headers["Location"] == "/"


# who needs one


@pytest.mark.parametrize(
    ("role", "enrolled", "first_step_leads_to"),
    [
        ("admin", False, "/auth/enrol"),
        ("supervisor", False, "/auth/enrol"),
        ("admin", True, "/auth/second-factor"),
        ("supervisor", True, "/auth/second-factor"),
        ("officer", False, "/"),
        ("peer_helper", False, "/"),
        ("officer", True, "/auth/second-factor"),
        ("peer_helper", True, "/auth/second-factor"),
    ],
)
def test_required_for_supervisors_and_admins_optional_for_the_others(
    client, make_user, role, enrolled, first_step_leads_to
):
    make_user("someone", role=role, enrolled=enrolled)
    answer = password_step(client, "someone")
    assert answer.headers["Location"] == first_step_leads_to
    assert signed_in(client) is (first_step_leads_to == "/")


# settings


def test_an_officer_turns_a_second_factor_on_and_off_in_settings(client, db, auth, make_user):
    officer = make_user("officer1")
    auth.login("officer1")
    page = client.get("/settings/").text
    assert 'href="/settings/second-factor"' in page and "未开启" in page
    page = client.get("/settings/second-factor").text
    assert "<svg" in page
    secret = shown_secret(page)
    answer = give_code(
        client, totp.current_code(secret, datetime.now(UTC)), "/settings/second-factor"
    )
    assert len(shown_recovery_codes(answer.text)) == 10
    assert fresh(db, officer).totp_enrolled_at is not None
    assert "还剩 10 个恢复码。" in client.get("/settings/second-factor").text
    sign_out(client)

    # her next sign-in asks for a code
    assert password_step(client, "officer1").headers["Location"] == "/auth/second-factor"
    code = totp.current_code(secret, datetime.now(UTC) + timedelta(seconds=30))
    assert give_code(client, code).headers["Location"] == "/"

    # turning it off needs her current password
    token = csrf_from(client.get("/settings/second-factor").text)
    answer = client.post(
        "/settings/second-factor/off", data={"off-password": "wrong-password", "csrf_token": token}
    )
    assert "这不是您的当前密码。" in answer.text
    assert fresh(db, officer).totp_enrolled_at is not None
    client.post("/settings/second-factor/off", data={"off-password": PASSWORD, "csrf_token": token})
    officer = fresh(db, officer)
    assert officer.totp_enrolled_at is None and officer.totp_secret_encrypted is None
    assert db.exec(select(RecoveryCode)).all() == []
    assert len(actions(db, "second_factor_off")) == 1
    sign_out(client)
    assert password_step(client, "officer1").headers["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(client, db, auth, make_user):
    head = make_user("head", role="supervisor")
    old = totp.new_recovery_codes(db, head, now=datetime.now(UTC))
    db.commit()
    auth.login("head")
    token = csrf_from(client.get("/settings/second-factor").text)
    answer = client.post(
        "/settings/second-factor/recovery-codes",
        data={"codes-password": PASSWORD, "csrf_token": token},
    )
    new = shown_recovery_codes(answer.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert len(db.exec(select(RecoveryCode)).all()) == 10
    sign_out(client)
    password_step(client, "head")
    assert "验证码不正确，或已使用过。" in give_code(client, old[0]).text
    assert give_code(client, new[0]).headers["Location"] == "/"


def test_a_supervisor_cannot_turn_her_second_factor_off(client, db, auth, make_user):
    head = make_user("head", role="supervisor")
    auth.login("head")
    page = client.get("/settings/second-factor").text
    assert "关闭两步验证" not in page
    token = csrf_from(page)
    answer = client.post(
        "/settings/second-factor/off", data={"off-password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 403
    assert fresh(db, head).totp_enrolled_at is not None
    assert actions(db, "second_factor_off") == []


# an administrator's reset


def test_an_admin_resets_a_second_factor_and_she_enrols_again(client, db, auth, make_user):
    admin = make_user("admin", role="admin")
    head = make_user("head", role="supervisor")
    totp.new_recovery_codes(db, head, now=datetime.now(UTC))
    db.commit()
    auth.login("head")
    assert signed_in(client)

    head = fresh(db, head)
    ended = totp.reset_second_factor(db, actor=admin, user=head, now=datetime.now(UTC))
    db.commit()
    assert ended == 1
    head = fresh(db, head)
    assert head.totp_enrolled_at is None and head.totp_secret_encrypted is None
    assert head.totp_last_step is None
    assert db.exec(select(RecoveryCode)).all() == []
    [reset] = actions(db, "second_factor_reset")
    assert reset.user_id == admin.id and reset.target_id == str(head.id)
    assert reset.details == {"username": "head", "sessions_ended": 1}
    # her session ended with it, and her next sign-in sets a new factor up
    assert not signed_in(client)
    assert password_step(client, "head").headers["Location"] == "/auth/enrol"


# the demo


def test_the_demo_supervisor_and_admin_sign_in_with_the_printed_code(client, runner, db):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    for username in ("supervisor", "admin"):
        user = db.exec(select(User).where(User.username == username)).one()
        cipher = client.application.extensions["clover_cipher"]
        assert totp.secret_of(user, cipher=cipher) == DEMO_TOTP_SECRET == "CLOVERDEMOTOTP22"
        answer = password_step(client, username, password=DEMO_PASSWORD)
        assert answer.headers["Location"] == "/auth/second-factor"
        code = runner.invoke(args=["demo", "code"]).output.strip()
        assert re.fullmatch(r"\d{6}", code)
        assert give_code(client, code).headers["Location"] == "/"
        sign_out(client)
    officer = db.exec(select(User).where(User.username == "officer1")).one()
    assert officer.totp_enrolled_at is None


def test_one_code_sent_from_several_sign_ins_at_once_lets_one_in(live_server, make_user):
    """A stolen code raced against hers: her row is locked while a code is checked."""
    make_user("head", role="supervisor")
    sessions = []
    for _ in range(RACERS):
        http = requests.Session()
        page = http.get(f"{live_server}/auth/login", timeout=30).text
        answer = http.post(
            f"{live_server}/auth/login",
            data={"username": "head", "password": PASSWORD, "csrf_token": csrf_from(page)},
            timeout=30,
        )
        sessions.append((http, csrf_from(answer.text)))
    code = totp.current_code(TOTP_SECRET, datetime.now(UTC) + timedelta(seconds=30))
    start, answers = threading.Barrier(RACERS, timeout=30), [None] * RACERS

    def send(n: int) -> None:
        http, token = sessions[n]
        start.wait()
        answers[n] = http.post(
            f"{live_server}/auth/second-factor",
            data={"code": code, "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )

    threads = [threading.Thread(target=send, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200] * (RACERS - 1) + [302]
