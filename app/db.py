"""The engine, and one database session per request, closed on teardown."""

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlmodel import Session

from app.config import database_pool


def make_engine(url: str, *, sqlite_write_lock: bool = True, pool: dict | None = None) -> Engine:
    """An engine for SQLite (embedded) or PostgreSQL (psycopg 3).

    On SQLite every transaction takes the write lock when it begins (BEGIN IMMEDIATE):
    a request that reads and then writes (a ledger view writes its audit event) would
    otherwise fail with "database is locked" when another request wrote in between,
    because SQLite cannot upgrade a stale read snapshot; waiting at BEGIN serialises
    writers instead. `sqlite_write_lock=False` is for tests that hold a session open.

    On PostgreSQL the pool is sized by `pool` (the CLOVER_DB_POOL_* settings of
    `app.config.database_pool`; its defaults when not given). Connections are checked
    before use, so a database restart costs no request an error. Its JIT compiler is off
    for Clover's sessions (any `options` of the URL kept): it compiles a query whose
    estimated cost passes `jit_above_cost`, anew at each run, and Clover's queries are
    short ones. The due standing of a sync batch's people spent 1.2 s compiling and 7 ms
    running; its estimate is high on tables not yet analysed, and on a city's tables.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # pysqlite's own transaction handling commits before DDL, which would leave
            # a failed batch migration half done; SQLAlchemy emits BEGIN itself instead
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_write_lock else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    url = make_url(url)
    options = " ".join(filter(None, (url.query.get("options"), "-c jit=off")))
    pool = pool or database_pool({})
    return create_engine(
        url.update_query_dict({"options": options}),
        pool_pre_ping=True,
        pool_size=pool["CLOVER_DB_POOL_SIZE"],
        max_overflow=pool["CLOVER_DB_MAX_OVERFLOW"],
        pool_timeout=pool["CLOVER_DB_POOL_TIMEOUT"],
        pool_recycle=pool["CLOVER_DB_POOL_RECYCLE"],
    )


def init_app(app: Flask) -> None:
    pool = {key: app.config[key] for key in database_pool({})}
    app.extensions["clover_engine"] = make_engine(app.config["DATABASE_URL"], pool=pool)
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return current_app.extensions["clover_engine"]


def get_session() -> Session:
    """The session for this request or CLI command, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def database_reachable() -> bool:
    """True when a trivial query succeeds.

    It runs on this request's own session: on SQLite a signed-in request already holds
    the write lock, and a second connection would wait for it until its timeout.
    """
    try:
        get_session().exec(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unreachable
        return False
    return True
