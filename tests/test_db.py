"""The database layer under concurrent requests."""

import threading

from app.db import get_session
from app.models import AuditEvent


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
