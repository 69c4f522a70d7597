"""Fixtures: app, client, runner, auth, db, a live server and Chromium for browser tests."""

import os
import re
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, event, text
from sqlmodel import Session, SQLModel, select
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

# set before the app reads them, so tests never write secrets under instance/
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 32)
os.environ.setdefault("CLOVER_DATA_KEY", Fernet.generate_key().decode())
os.environ.setdefault("CLOVER_HASH_KEY", "test-hash-key-" + "h" * 32)
os.environ.setdefault("CLOVER_ENV", "testing")

from app import create_app  # noqa: E402
from app.accounts import create_unit, create_user  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.models import UserSession  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct-horse-battery"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]


def _reset_postgres(engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))


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


@pytest.fixture(autouse=True)
def quick_password_hash(request, monkeypatch):
    """Test users get a cheap hash: scrypt for each would triple the suite's time.

    A test marked `real_password_hash` keeps scrypt, to check it.
    """
    if request.node.get_closest_marker("real_password_hash") is None:
        monkeypatch.setattr("app.accounts.hash_password", _quick_hash)


@pytest.fixture
def app(tmp_path, _postgres_schema):
    """An app on an empty, isolated database."""
    url = _postgres_schema or f"sqlite:///{tmp_path / 'clover.db'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    engine = app.extensions["clover_engine"]
    if not _postgres_schema:
        SQLModel.metadata.create_all(engine)
    yield app
    if _postgres_schema:
        _reset_postgres(engine)
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
    engine = make_engine(app.config["DATABASE_URL"], sqlite_write_lock=False)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def unit(db):
    unit = create_unit(db, name="测试工作室")
    db.commit()
    return unit


@pytest.fixture
def make_user(db, unit):
    """Create a user with the test password; role and unit by keyword."""

    def make(username: str, role: str = "officer", **kwargs):
        kwargs.setdefault("unit_id", None if role == "admin" else unit.id)
        user = create_user(
            db,
            username=username,
            display_name=kwargs.pop("display_name", username),
            password=PASSWORD,
            role=role,
            **kwargs,
        )
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
        url = "/auth/login" + (f"?next={next_url}" if next_url else "")
        token = csrf_from(self._client.get(url).text)
        return self._client.post(
            url, data={"username": username, "password": password, "csrf_token": token}
        )

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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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


from tests.people_world import world  # noqa: E402, F401 - the people tests' unit and people
from tests.sync_world import sync_officer, sync_person, sync_phone  # noqa: E402, F401 - sync tests
