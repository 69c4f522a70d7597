"""Fixtures: app, client, runner, auth, db, a live server and Chromium for browser tests."""

import os
import re
import shutil
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from jinja2 import BytecodeCache
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select
from werkzeug.routing import Rule
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

# set before the app reads them, so tests never write secrets under instance/
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 32)
os.environ.setdefault("CLOVER_DATA_KEY", Fernet.generate_key().decode())
os.environ.setdefault("CLOVER_HASH_KEY", "test-hash-key-" + "h" * 32)
os.environ.setdefault("CLOVER_ENV", "testing")

from app import create_app  # noqa: E402
from app import db as app_db  # noqa: E402
from app.accounts import create_unit, create_user  # noqa: E402
from app.auth.totp import REQUIRED_ROLES, Totp, set_secret  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.models import User, UserSession  # noqa: E402
from app.reminders.keys import generate_keys  # noqa: E402


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker has a database of its own: `test` gives `test_gw0`..."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


# the PostgreSQL database this process tests on; none: SQLite files under each test's tmp_path
PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL"))
PASSWORD = "correct-horse-battery"
# the second factor of every test supervisor and admin (base32)
TOTP_SECRET = "TESTSECRETOFCLOVERSTESTHARNESS22"
# the VAPID subject of the push tests' keys
SUBJECT = "mailto:ops@clover.test"
# the features Playwright turns off on Linux (playwright-core's chromiumSwitches.ts); Chromium
# keeps only the last --disable-features it is given, so they are named again beside ours
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
)
# every new context (a test's phone) would load Chromium's own address-bar popup, a web
# page of its own in a renderer of its own: almost half a core-second a context, unseen
HIDDEN_BROWSER_UI = ("WebUIOmniboxPopup", "WebUIOmniboxFullPopup", "WebUIOmniboxAimPopup")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + HIDDEN_BROWSER_UI),
]


def pytest_configure(config):
    """Make this worker's PostgreSQL database when it is not there yet."""
    if PG_URL and os.environ.get("PYTEST_XDIST_WORKER"):
        name = make_url(PG_URL).database
        server_url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
        server = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()


def _share_url_rule_builders() -> None:
    """Compile each URL rule's builders once per run rather than once per test's app.

    Each test makes its own app, and werkzeug generates and compiles two small functions
    for every URL rule it registers: two thirds of `create_app`'s time. What it compiles
    depends only on the rule's parts (it reads the converters from the rule it is bound
    to), so one compiled function serves every app; a rule with defaults is left alone.
    """
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:  # another werkzeug: no harm, only slower
        return
    compiled: dict = {}

    def shared_builder(self, append_unknown=True):
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (tuple(self._trace), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = shared_builder


_share_url_rule_builders()


class _SharedTemplateCode(BytecodeCache):
    """Templates compiled once per run: each test's app would compile them all again.

    Jinja checks each template's source against what was compiled, so an edited
    template is compiled afresh.
    """

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


_ENGINES: dict[tuple, Engine] = {}


def _kept_engine(url: str, *, sqlite_write_lock: bool = True, pool: dict | None = None) -> Engine:
    """One engine per database and settings in this process, kept from test to test.

    An engine compiles each statement once and keeps it: a new engine per test compiled
    every query of every test anew (a seventh of the suite's time) and opened new
    connections. Tests still `dispose()` it, which closes its connections and leaves the
    engine, its compiled statements and its listeners.
    """
    key = (url, sqlite_write_lock, tuple(sorted(pool.items())) if pool else None)
    if key not in _ENGINES:
        _ENGINES[key] = engine = make_engine(url, sqlite_write_lock=sqlite_write_lock, pool=pool)
        _commit_without_waiting_for_the_disk(engine)
    return _ENGINES[key]


def _commit_without_waiting_for_the_disk(engine: Engine) -> None:
    """A test's SQLite file outlives no test: a commit need not wait for the disk (a
    tenth of the SQLite tests' time). What a commit shows to the next transaction is the
    same; the app's own engines keep `synchronous` at its default. (PostgreSQL's
    synchronous_commit=off measured no faster.)"""
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_sync(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA synchronous=OFF")


app_db.make_engine = _kept_engine  # the app's engine is made through this module attribute


def _reset_postgres(engine) -> None:
    """Empty every table. All are locked together first, so a request the live server is
    still finishing cannot write between two tables' clean-up (a foreign key then failed
    the next test); then one DELETE per table, children first, with the audit table's
    append-only guard lifted for this transaction as retention lifts it. A TRUNCATE of all
    of them does the same in one statement, but costs 100 ms a test, this 10.

    Such a request may also hold a table the lock waits for while it waits for one the
    lock holds: PostgreSQL ends one of the two as a deadlock. If it ends the clean-up, the
    request has finished by then, and the clean-up goes again.
    """
    tables = [f'"{table.name}"' for table in reversed(SQLModel.metadata.sorted_tables)]
    statements = [
        f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE",
        "SELECT set_config('clover.retention', 'on', true)",
        *(f"DELETE FROM {table}" for table in tables),  # noqa: S608 - names of our tables
    ]
    for attempt in range(5):
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql("; ".join(statements))
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="session")
def _postgres_schema():
    """On PostgreSQL: the tables made once per run (each test empties them after)."""
    if not PG_URL:
        yield None
        return

    engine = make_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    yield PG_URL


def _quick_hash(password: str) -> str:
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


_QUICK_DUMMY_HASH = _quick_hash("not-a-real-password")


@pytest.fixture(autouse=True)
def quick_password_hash(request, monkeypatch):
    """Test users get a cheap hash: scrypt for each would triple the suite's time.

    So does a sign-in under an unknown name, checked against a stand-in hash as slow as
    a real one. A test marked `real_password_hash` keeps scrypt for both, to check it.
    """
    if request.node.get_closest_marker("real_password_hash") is None:
        monkeypatch.setattr("app.accounts.hash_password", _quick_hash)
        monkeypatch.setattr("app.accounts._DUMMY_HASH", _QUICK_DUMMY_HASH)


@pytest.fixture(scope="session")
def _sqlite_schema(tmp_path_factory):
    """On SQLite: an empty database with the tables, made once; each test gets a copy."""
    path = tmp_path_factory.mktemp("schema") / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()  # the last connection closed: the write-ahead log is folded in
    assert not path.with_name("empty.db-wal").exists()
    return path


@pytest.fixture(scope="session")
def _sqlite_database(tmp_path_factory, _sqlite_schema):
    """On SQLite: where this process's tests keep their database, one path for all of them
    so that they share its kept engines; each test starts from a fresh copy there."""
    return tmp_path_factory.mktemp("database") / "clover.db"


def _fresh_sqlite_copy(schema, path) -> str:
    """The empty schema copied to `path` as a new file, after every kept engine on it has
    closed its connections: none then reads the last test's file."""
    url = f"sqlite:///{path}"
    for (kept_url, *_settings), engine in _ENGINES.items():
        if kept_url == url:
            engine.dispose()
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        path.with_name(name).unlink(missing_ok=True)
    shutil.copyfile(schema, path)
    return url


@pytest.fixture
def app(request, _postgres_schema):
    """An app on an empty, isolated database."""
    if _postgres_schema:
        url = _postgres_schema
    else:
        url = _fresh_sqlite_copy(
            request.getfixturevalue("_sqlite_schema"),
            request.getfixturevalue("_sqlite_database"),
        )
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    engine = app.extensions["clover_engine"]
    yield app
    if _postgres_schema:
        _reset_postgres(engine)  # its connections stay open for the next test
    else:
        engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A session on the test database, outside any request."""
    # its own engine without the SQLite write lock at BEGIN, so a test may keep this
    # session open while it drives requests
    engine = _kept_engine(app.config["DATABASE_URL"], sqlite_write_lock=False)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    if not PG_URL:
        engine.dispose()


@pytest.fixture
def unit(db):
    unit = create_unit(db, name="测试工作室")
    db.commit()
    return unit


@pytest.fixture
def make_user(db, unit):
    """Create a user with the test password; role and unit by keyword.

    Supervisors and admins, whose role requires a second factor, are enrolled with
    TOTP_SECRET (`enrolled=False` leaves her to enrol at her first sign-in).
    """

    def make(username: str, role: str = "officer", enrolled: bool | None = None, **kwargs):
        kwargs.setdefault("unit_id", None if role in ("admin", "director") else unit.id)
        user = create_user(
            db,
            username=username,
            display_name=kwargs.pop("display_name", username),
            password=PASSWORD,
            role=role,
            **kwargs,
        )
        if enrolled if enrolled is not None else role in REQUIRED_ROLES:
            set_secret(db, user, TOTP_SECRET, now=datetime.now(UTC))
        db.commit()
        return user

    return make


def age_sessions(db, *, idle: timedelta = timedelta(0), since_sign_in: timedelta | None = None):
    """Make every signed-in session look idle for `idle` (and as old as `since_sign_in`)."""
    now = datetime.now(UTC)
    for row in db.exec(select(UserSession).where(UserSession.ended_at.is_(None))).all():
        row.last_seen_at = now - idle
        if since_sign_in is not None:
            row.created_at = now - since_sign_in
        db.add(row)
    db.commit()


def current_code(app, username: str, *, forget_last_step: bool = False) -> str:
    """The code her authenticator shows now, from her secret as stored.

    `forget_last_step` lets the harness sign her in again within one 30-second step, which
    the app refuses as a replay; a test of replays never uses it.
    """
    engine = app.extensions["clover_engine"]
    with Session(engine) as db:
        user = db.exec(select(User).where(User.username == username.strip().lower())).one()
        if forget_last_step:
            user.totp_last_step = None
            db.add(user)
            db.commit()
        secret = app.extensions["clover_cipher"].decrypt(user.totp_secret_encrypted)
    return Totp(secret).now()


def answer_second_factor(http, base_url: str, answer, *, secret: str = TOTP_SECRET):
    """After a sign-in through `requests` that landed on the second-factor step: the code.

    Without the app at hand, a code this step has spent already (a sign-in a moment ago)
    is refused as a replay: the next step's code is then still good.
    """
    for offset in (0, 30):
        if urlsplit(answer.url).path != "/auth/second-factor":
            break
        answer = http.post(
            f"{base_url}/auth/second-factor",
            data={
                "code": Totp(secret).at(time.time() + offset),
                "csrf_token": csrf_from(answer.text),
            },
            timeout=30,
        )
    return answer


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


class AuthActions:
    """Sign in and out through the real login form."""

    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = PASSWORD, next_url: str | None = None):
        """Sign in; when the answer asks for her second factor, give her current code."""
        url = "/auth/login" + (f"?next={next_url}" if next_url else "")
        token = csrf_from(self._client.get(url).text)
        answer = self._client.post(
            url, data={"username": username, "password": password, "csrf_token": token}
        )
        if answer.status_code == 302 and answer.headers["Location"] == "/auth/second-factor":
            code = current_code(self._client.application, username, forget_last_step=True)
            answer = self.second_factor(code)
        return answer

    def second_factor(self, code: str):
        """Answer the second sign-in step with this code."""
        token = csrf_from(self._client.get("/auth/second-factor").text)
        return self._client.post("/auth/second-factor", data={"code": code, "csrf_token": token})

    def logout(self):
        token = csrf_from(self._client.get("/settings/").text)
        return self._client.post("/auth/logout", data={"csrf_token": token})

    def post_form(self, url: str, data: dict, page: str | None = None):
        """POST a form the way a browser would, with the token from the page."""
        token = csrf_from(self._client.get(page or url).text)
        return self._client.post(url, data={**data, "csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def count_queries():
    """A context manager yielding a list that collects the SQL run inside it, on any engine."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(_conn, _cursor, statement, *_args):
            # transaction control (savepoints included) is not a query
            control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
            if not statement.lstrip().upper().startswith(control):
                statements.append(statement)

        event.listen(Engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(Engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def live_server(app):
    """The app served on a free port on 127.0.0.1 in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # its shutdown waits for the loop's next poll: a short one, not the default half second
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # a cheap phone's screen
    return {
        **browser_context_args,
        "viewport": {"width": 360, "height": 740},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
    }


@pytest.fixture(scope="session")
def vapid_keys():
    return generate_keys()


@pytest.fixture
def push_app(app, vapid_keys):
    """The app with Web Push keys, as `flask push keys` or the environment would give."""
    app.config.update(
        CLOVER_VAPID_PRIVATE_KEY=vapid_keys[0],
        CLOVER_VAPID_PUBLIC_KEY=vapid_keys[1],
        CLOVER_VAPID_SUBJECT=SUBJECT,
    )
    return app


from tests.people_world import studio_clock, world  # noqa: E402, F401 - the people tests
from tests.sync_world import sync_officer, sync_person, sync_phone  # noqa: E402, F401 - sync tests
