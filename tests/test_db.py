"""The database layer under concurrent requests."""

import threading

import pytest
from sqlalchemy import make_url, text

from app.db import get_session, make_engine
from app.models import AuditEvent
from tests.conftest import PG_URL


def test_concurrent_read_then_write_requests_all_succeed(app, db, unit, make_user):
    """Requests that read, then write (like a ledger view with its audit event), in parallel."""
    officer = make_user("officer1")

    @app.get("/_read_then_write")
    def read_then_write():
        session = get_session()
        session.get(type(officer), officer.id)
        session.add(AuditEvent(user_id=officer.id, action="concurrency_probe"))
        session.commit()
        return "ok"

    results = []

    def call():
        results.append(app.test_client().get("/_read_then_write").status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 8
    probes = [e for e in db.exec(AuditEvent.__table__.select()) if e.action == "concurrency_probe"]
    assert len(probes) == 8


def test_a_postgresql_url_gets_jit_off_beside_its_own_options():
    """What the engine asks the server for, read without a server (the SQLite pass too)."""
    base = "postgresql://clover@db.example.test:5432/clover"
    plain = make_engine(base)
    given = make_engine(base + "?options=-c%20application_name%3Dclover-web")
    try:
        assert plain.url.drivername == "postgresql+psycopg"
        assert plain.url.query["options"] == "-c jit=off"
        assert given.url.query["options"] == "-c application_name=clover-web -c jit=off"
    finally:
        plain.dispose()
        given.dispose()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's JIT: PostgreSQL only (TEST_DATABASE_URL)")
def test_postgresql_sessions_compile_no_query_and_keep_the_urls_options():
    """A compiled query costs over a second before it runs: Clover's sessions never JIT."""
    url = make_url(PG_URL).update_query_dict({"options": "-c application_name=clover-test"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW jit")).scalar() == "off"
            assert connection.execute(text("SHOW application_name")).scalar() == "clover-test"
    finally:
        engine.dispose()
