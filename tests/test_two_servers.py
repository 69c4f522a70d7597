"""Two real servers (`make serve`: gunicorn, two workers each) on one PostgreSQL database.

Nothing is lost, doubled or sent twice when a phone's outbox reaches both servers at once,
two reminder timers run at the same moment, or a sign-in is tried on one server after
another. The deployment is made once for the module: a database of its own, both servers
started together (so their migrations race for the lock), and everything removed after.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session, func, select

from app import create_app
from app.accounts import create_unit, create_user
from app.auth.totp import set_secret
from app.migrate import MIGRATION_LOCK
from app.models import AuditEvent, Reminder, SyncReceipt, User, Visit, VisitVersion
from app.reminders.keys import generate_keys
from tests.conftest import PASSWORD, PG_URL, TOTP_SECRET, answer_second_factor, csrf_from
from tests.factories import make_person
from tests.people_world import valid_id
from tests.reminders.standins import PushServiceStandIn
from tests.sync_world import create_item, edit_item, page_token

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="two servers share one database server: PostgreSQL only (TEST_DATABASE_URL), "
    "run in the PostgreSQL pass of .ci/run",
)

ROOT = Path(__file__).resolve().parent.parent
SUBJECT = "mailto:ops@clover.test"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# failed sign-ins allowed per address and per username on these servers: few, so the
# shared count shows; keys are unique to each run (see `Browser`), never a colleague's
SIGN_IN_LIMIT = 3
# generous: a busy 2-core machine may take a while to start Python four times
START_TIMEOUT = 120
TIMEOUT = 60
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _poll(check, *, timeout: float, what: str, every: float = 0.1):
    """Wait until `check()` answers something truthy; it, or fail saying what never came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answer := check():
            return answer
        time.sleep(every)
    pytest.fail(f"waited {timeout} s for {what}")


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    log: Path
    pidfile: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Ask gunicorn's master to stop, as a deploy would (SIGTERM: a graceful stop)."""
        if self.process.poll() is None and self.pidfile.exists():
            os.kill(int(self.pidfile.read_text()), signal.SIGTERM)

    def wait(self) -> None:
        """Wait for make to end with gunicorn; kill the whole process group if it hangs."""
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Deployment:
    url: str
    env: dict
    servers: list[Server]
    app: object
    vapid_public_key: str

    @property
    def engine(self):
        return self.app.extensions["clover_engine"]

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def flask(self, *args: str) -> subprocess.Popen:
        """A `flask` command of this deployment (as a timer would run it), started."""
        return subprocess.Popen(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def _healthy(server: Server) -> bool:
    if server.process.poll() is not None:
        pytest.fail(f"server {server.name} exited:\n{server.output()}")
    try:
        return requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or its workers still booting
        return False


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A database made for this module and two servers started at once on it."""
    name = f"clover_two_servers_{secrets.token_hex(4)}"
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    private_key, public_key = generate_keys()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "TEST_DATABASE_URL"}
    }
    env.update(
        FLASK_APP="app",
        CLOVER_ENV="testing",  # plain-HTTP cookies; production wants HTTPS
        DATABASE_URL=url,
        WEB_CONCURRENCY="2",
        CLOVER_THREADS="2",
        REDIS_URL=REDIS_URL,
        CLOVER_PROXY_HOPS="1",
        CLOVER_LOGIN_LIMITS=f"{SIGN_IN_LIMIT} per hour",
        CLOVER_VAPID_PRIVATE_KEY=private_key,
        CLOVER_VAPID_PUBLIC_KEY=public_key,
        CLOVER_VAPID_SUBJECT=SUBJECT,
        CLOVER_REMINDER_LOOP="0",
    )
    make = shutil.which("make")
    assert make, "make is needed to start the servers as a deploy does"
    # bring the venv and the catalogs up to date once, before two makes run side by side
    subprocess.run([make, "-s", "translations"], cwd=ROOT, env=env, check=True, timeout=300)
    logs = tmp_path_factory.mktemp("servers")
    servers = []
    for label in ("a", "b"):
        port = _free_port()
        log, pidfile = logs / f"server-{label}.log", logs / f"server-{label}.pid"
        with log.open("w") as out:
            process = subprocess.Popen(
                [make, "-s", "serve"],
                cwd=ROOT,
                env={**env, "PORT": str(port), "GUNICORN_CMD_ARGS": f"--pid {pidfile}"},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        servers.append(Server(label, f"http://127.0.0.1:{port}", process, log, pidfile))
    app = None
    try:
        for server in servers:
            _poll(lambda s=server: _healthy(s), timeout=START_TIMEOUT, what=f"{server.url}/healthz")
        app = create_app({"TESTING": True, "DATABASE_URL": url})
        yield Deployment(url, env, servers, app, public_key)
    finally:
        for browser in BROWSERS:
            browser.close()  # no kept-alive connection holds up a graceful stop
        for server in servers:
            server.stop()
        for server in servers:
            server.wait()
        if app is not None:
            app.extensions["clover_engine"].dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        _forget_sign_in_counts()


RUN = secrets.token_hex(3)  # in every username and client address this module makes
ADDRESSES: list[str] = []
BROWSERS: list[requests.Session] = []


def _forget_sign_in_counts() -> None:
    """Remove this run's sign-in counts from Redis (they would linger for an hour)."""
    import redis

    try:
        store = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
        for pattern in (f"*{RUN}*", *(f"*{address}/*" for address in ADDRESSES)):
            for key in store.scan_iter(match=pattern, count=500):
                store.delete(key)
    except redis.RedisError:
        pass  # nothing was stored where no Redis answers


class Browser(requests.Session):
    """One browser on one server, from a client address of its own behind the proxy."""

    def __init__(self, server: Server):
        super().__init__()
        self.base = server.url
        address = (
            f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        )
        ADDRESSES.append(address)
        BROWSERS.append(self)
        self.headers["X-Forwarded-For"] = address
        self.token: str | None = None

    def page(self, path: str) -> requests.Response:
        answer = self.get(f"{self.base}{path}", timeout=TIMEOUT)
        assert answer.status_code == 200, (path, answer.status_code)
        return answer

    def try_sign_in(self, username: str, password: str = PASSWORD) -> requests.Response:
        form = self.page("/auth/login").text
        return self.post(
            f"{self.base}/auth/login",
            data={"username": username, "password": password, "csrf_token": csrf_from(form)},
            timeout=TIMEOUT,
        )

    def sign_in(self, username: str, *, code_on: "Browser | None" = None) -> "Browser":
        """Sign in; a second factor is answered here, or on another server's `code_on`."""
        answer = self.try_sign_in(username)
        if code_on is not None:
            code_on.cookies = self.cookies  # the same browser, reaching the other server
            answer = answer_second_factor(code_on, code_on.base, answer)
        else:
            answer = answer_second_factor(self, self.base, answer)
        assert answer.status_code == 200 and "/auth/" not in answer.url, answer.url
        self.token = page_token(self.page("/").text)
        return self

    def push(self, items: list) -> list[dict]:
        answer = self.post(
            f"{self.base}/api/v1/sync/push",
            json={"items": items},
            headers={"X-CSRFToken": self.token},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["results"]

    def pull(self) -> dict:
        answer = self.get(f"{self.base}/api/v1/sync/pull", timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post_form(self, path: str, data: dict) -> requests.Response:
        form = self.page(path).text
        return self.post(
            f"{self.base}{path}",
            data={**data, "csrf_token": csrf_from(form)},
            allow_redirects=False,
            timeout=TIMEOUT,
        )


def _at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    start, results, failures = threading.Barrier(len(calls), timeout=TIMEOUT), {}, []

    def run(n, call):
        try:
            start.wait()
            results[n] = call()
        except BaseException as failure:  # noqa: BLE001 - reported below
            failures.append(failure)

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert not failures, failures
    return [results[n] for n in range(len(calls))]


@pytest.fixture(scope="module")
def unit(deployment):
    with deployment.app.app_context(), deployment.session() as db:
        unit = create_unit(db, name=f"两台服务器 {RUN}")
        db.commit()
        return unit


@pytest.fixture
def make_user(deployment, unit):
    """A user of this run (her username carries RUN); supervisors get TOTP_SECRET."""

    def make(name: str, role: str = "officer") -> User:
        with deployment.app.app_context(), deployment.session() as db:
            user = create_user(
                db,
                username=f"{name}-{RUN}",
                display_name=name,
                password=PASSWORD,
                role=role,
                unit_id=unit.id,
                environment="testing",
            )
            # reminders by the real clock: no quiet hours, whenever the suite runs
            user.quiet_start = user.quiet_end = ""
            if role == "supervisor":
                set_secret(db, user, TOTP_SECRET, now=datetime.now(UTC))
            db.add(user)
            db.commit()
            return user

    return make


def test_both_servers_migrated_one_database_to_one_head(deployment):
    with deployment.engine.connect() as connection:
        heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        heads = list(heads)
    versions = sorted((ROOT / "migrations" / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert heads == [versions[-1].name[:4]]


def _waiting_for_the_migration_lock(engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid = :high AND objid = :low AND objsubid = 1"
            ),
            {"high": MIGRATION_LOCK >> 32, "low": MIGRATION_LOCK & 0xFFFFFFFF},
        ).scalar()


def test_a_deploy_migrates_only_once_another_has_finished(deployment):
    """A deploy holding the migration lock keeps a second one's `flask db upgrade` waiting."""
    lock = {"key": MIGRATION_LOCK}
    with deployment.engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), lock)
        holder.commit()
        second = deployment.flask("db", "upgrade")
        try:
            _poll(
                lambda: _waiting_for_the_migration_lock(deployment.engine),
                timeout=START_TIMEOUT,
                what="the second deploy to wait for the migration lock",
            )
            assert second.poll() is None, second.communicate()[0]
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), lock)
            holder.commit()
        output, _ = second.communicate(timeout=START_TIMEOUT)
    assert second.returncode == 0, output
    assert "another deploy is migrating" in output and "database at head" in output


def test_one_outbox_through_both_servers_stores_every_visit_once(deployment, unit, make_user):
    officer = make_user("officer")
    with deployment.app.app_context(), deployment.session() as db:
        person = make_person(db, unit, officer, name="两台服务器")
    server_a, server_b = deployment.servers
    # her phone reaches one server, then the other (a load balancer), each signed in
    phone_a = Browser(server_a).sign_in(officer.username)
    phone_b = Browser(server_b).sign_in(officer.username)

    def item(label: str) -> dict:
        return create_item(person, notes=f"{label}-{RUN}")

    shared = [item(f"shared{n}") for n in range(4)]
    only_a, only_b = [item(f"a{n}") for n in range(3)], [item(f"b{n}") for n in range(3)]
    answers = _at_once(
        lambda: phone_a.push(shared + only_a),
        lambda: phone_b.push(shared + only_b),
        lambda: phone_a.push(shared),
        lambda: phone_b.push(shared),
    )
    shared_statuses = Counter(r["status"] for answer in answers for r in answer[:4])
    assert shared_statuses == {"created": 4, "duplicate": 12}
    assert [r["status"] for r in answers[0][4:] + answers[1][4:]] == ["created"] * 6

    # a correction sent through both servers at once: applied once, answered alike
    correction = edit_item(shared[0], 1, notes=f"更正-{RUN}")
    edits = _at_once(lambda: phone_a.push([correction]), lambda: phone_b.push([correction]))
    assert edits[0] == edits[1] and edits[0][0]["status"] == "edited", edits

    # whatever server a resend reaches, every item's answer is the same
    everything = shared + only_a + only_b + [correction]
    again_a, again_b = phone_a.push(everything), phone_b.push(everything)
    assert again_a == again_b
    assert [r["status"] for r in again_a] == ["duplicate"] * 10 + ["edited"]
    assert {r["record_id"] for r in again_a[:10]} == {i["id"] for i in everything[:10]}

    ids = [uuid.UUID(i["id"]) for i in everything[:10]]
    with deployment.session() as db:
        stored = db.exec(select(Visit.id, Visit.notes).where(Visit.person_id == person.id)).all()
        assert sorted(v for v, _ in stored) == sorted(ids)
        # one audit event per visit, from the address each phone has behind the proxy
        creates = db.exec(
            select(AuditEvent.ip).where(
                AuditEvent.action == "visit_create",
                AuditEvent.target_id.in_([str(i) for i in ids]),
            )
        ).all()
        addresses = {phone_a.headers["X-Forwarded-For"], phone_b.headers["X-Forwarded-For"]}
        assert len(creates) == 10 and set(creates) <= addresses
        versions = select(func.count()).select_from(VisitVersion)
        assert db.exec(versions.where(VisitVersion.visit_id == ids[0])).one() == 1
        receipts = select(func.count()).select_from(SyncReceipt)
        assert (
            db.exec(receipts.where(SyncReceipt.item_id == uuid.UUID(correction["id"]))).one() == 1
        )

    # each server's pull names her person, and her ledger there holds every visit
    for phone in (phone_a, phone_b):
        assert str(person.id) in phone.pull()["people"]
        ledger = phone.page(f"/people/{person.id}").text
        notes = {i["data"]["notes"] for i in everything[1:10]} | {f"更正-{RUN}"}
        assert all(note in ledger for note in notes), phone.base


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def _register(browser: Browser, name: str, officer: User, released_on, seq: str) -> str:
    """Register a person through the form and assign her, as a supervisor does; her id."""
    page = browser.page("/people/new").text
    person_id = _hidden(page, "person_id")
    answer = browser.post(
        f"{browser.base}/people/new",
        data={
            "person_id": person_id,
            "csrf_token": csrf_from(page),
            "name": name,
            "id_number": valid_id(seq=seq),
            "phone": "13700001234",
            "release_date": released_on.isoformat(),
            "support_path": "return_to_society",
            "risk_level": "medium",
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 302, answer.text[-2000:]
    assign_page = browser.page(f"/people/{person_id}/assign").text
    answer = browser.post(
        f"{browser.base}/people/{person_id}/assign",
        data={
            "csrf_token": csrf_from(assign_page),
            "version": _hidden(assign_page, "version"),
            "officer": str(officer.id),
            "peer_helper": "",
            "reason": "两台服务器测试",
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 302, answer.text[-2000:]
    return person_id


def _subscribe(browser: Browser, push_service: PushServiceStandIn):
    subscription = push_service.subscribe()
    answer = browser.post(
        f"{browser.base}/api/v1/push/subscriptions",
        json=subscription.as_json(),
        headers={"X-CSRFToken": browser.token},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 201, answer.text
    return subscription


@pytest.fixture
def push_service(deployment):
    service = PushServiceStandIn(vapid_public_key=deployment.vapid_public_key, subject=SUBJECT)
    yield service
    service.close()
    assert service.errors == [], "the push service refused what was sent"


def test_reminders_reach_each_user_once_with_two_servers_and_two_timers(
    deployment, make_user, push_service
):
    first, second = make_user("first"), make_user("second")
    head = make_user("head", role="supervisor")
    server_a, server_b = deployment.servers
    # her password on one server, her code on the other: the sign-in is the database's
    desk_a = Browser(server_a)
    desk_b = Browser(server_b)
    desk_a.sign_in(head.username, code_on=desk_b)
    desk_b.token = page_token(desk_b.page("/").text)
    today = datetime.now(SHANGHAI).date()
    month_ago = today - timedelta(days=30)  # never contacted since: overdue
    _register(desk_a, "第一位", first, month_ago, "901")
    at_risk = _register(desk_b, "第二位", first, month_ago, "902")
    _register(desk_b, "第三位", second, month_ago, "903")

    phone_first = Browser(server_a).sign_in(first.username)
    phone_second = Browser(server_b).sign_in(second.username)
    browsers = {
        first.id: _subscribe(phone_first, push_service),
        second.id: _subscribe(phone_second, push_service),
        head.id: _subscribe(desk_b, push_service),
    }

    # a visit recording a self-harm risk, sent through both servers at once: one alert
    risky = create_item(
        SimpleNamespace(id=at_risk),
        occurred_at=f"{today - timedelta(days=1)}T10:30",
        risk_flags=["self_harm"],
    )
    first_b = Browser(server_b).sign_in(first.username)
    pushed = _at_once(lambda: phone_first.push([risky]), lambda: first_b.push([risky]))
    assert sorted(answer[0]["status"] for answer in pushed) == ["created", "duplicate"]
    _poll(
        lambda: push_service.payloads(browsers[head.id]),
        timeout=TIMEOUT,
        what="the risk alert from the server that saved the visit",
    )

    # two timers fire at the same moment, each `flask reminders send` in its own process
    noon = datetime.combine(today, datetime.min.time().replace(hour=12), SHANGHAI)
    moment = noon.strftime("%Y-%m-%dT%H:%M%z")
    senders = [deployment.flask("reminders", "send", "--at", moment) for _ in range(2)]
    outputs = [sender.communicate(timeout=START_TIMEOUT)[0] for sender in senders]
    assert [sender.returncode for sender in senders] == [0, 0], outputs

    delivered = Counter(
        (user_id, payload["tag"])
        for user_id, browser in browsers.items()
        for payload in push_service.payloads(browser)
    )
    assert delivered == {
        (first.id, "digest"): 1,
        (second.id, "digest"): 1,
        (head.id, "digest"): 1,
        (head.id, f"alert-{risky['id']}"): 1,
    }
    with deployment.session() as db:
        ledger = db.exec(
            select(Reminder.user_id, Reminder.kind, Reminder.status).where(
                Reminder.user_id.in_(list(browsers))
            )
        ).all()
    assert Counter((user_id, kind, status) for user_id, kind, status in ledger) == {
        (first.id, "digest", "sent"): 1,
        (second.id, "digest", "sent"): 1,
        (head.id, "digest", "sent"): 1,
        (head.id, "alert", "sent"): 1,
    }


def test_failed_sign_ins_count_on_both_servers_together(deployment):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"the shared sign-in count lives in Redis, out of reach here: {error}")
    server_a, server_b = deployment.servers
    browser_a = Browser(server_a)
    browser_b = Browser(server_b)
    browser_b.headers["X-Forwarded-For"] = browser_a.headers["X-Forwarded-For"]
    stranger = f"nobody-{RUN}"
    tries = [browser_a, browser_b, browser_a]
    answers = [b.try_sign_in(stranger, "wrong-password-123") for b in tries]
    assert [a.status_code for a in answers] == [200] * SIGN_IN_LIMIT
    # a fourth try, on either server and whichever worker takes it, is one too many
    assert browser_b.try_sign_in(stranger, "wrong-password-123").status_code == 429
    assert browser_a.try_sign_in(stranger, "wrong-password-123").status_code == 429
