"""The attributable trail: every read and write of a person is recorded here.

Audit rows form a hash chain. Each new row gets the next `seq`, `prev_hash` (the row
before it) and `row_hash` = SHA-256(prev_hash + canonical JSON of its own content), set
at flush time, so every `record()` call and every row added in one transaction chains in
order. The details enter the content by their own SHA-256: retention may scrub a row's
details (keeping that digest in a redaction marker) without breaking the chain, while
every other field stays proven. `verify()` walks the chain; the database refuses UPDATE
and DELETE on the table (`install_guard`) except inside `retention_window()`.
"""

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC

from flask import has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from app.models import AuditEvent, Person, User

# the key of the PostgreSQL advisory lock that serialises appends to the chain
CHAIN_LOCK = 0x436C6F766572  # "Clover"
# the action a retention run records for each person it anonymises
RETENTION_ACTION = "retention_anonymise"
# the details of a row retention scrubbed: the marker, the digest of what was there, and
# the id of the retention row that did it
REDACTED = "_redacted"


def record(
    session: Session,
    *,
    user: User | None,
    action: str,
    person: Person | None = None,
    target: object = None,
    details: dict | None = None,
) -> AuditEvent:
    """Add an audit event to the session; it commits with the change it describes."""
    event = AuditEvent(
        user_id=user.id if user is not None else None,
        action=action,
        person_id=person.id if person is not None else None,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=str(target.id) if target is not None else None,
        details=details or {},
    )
    if has_request_context():
        event.ip = request.remote_addr
        event.user_agent = (request.user_agent.string or "")[:300]
    session.add(event)
    return event


def record_read(session: Session, *, user: User, page: str, people: list) -> AuditEvent:
    """One row for a page of people shown to her: the ids of everyone on it."""
    ids = [str(p.id) for p in people]
    return record(session, user=user, action="people_read", details={"page": page, "people": ids})


# --- the hash chain ---------------------------------------------------------------------


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def details_digest(details: dict | None) -> str:
    """The SHA-256 of the details as first written (a redacted row keeps it in its marker)."""
    details = details or {}
    if isinstance(details.get(REDACTED), dict):
        return details[REDACTED]["digest"]
    return hashlib.sha256(_canonical(details).encode()).hexdigest()


def _str(value) -> str | None:
    return None if value is None else str(value)


def row_hash(row, prev_hash: str | None) -> str:
    """SHA-256 over the previous hash and this row's canonical content."""
    content = {
        "id": _str(row.id),
        "seq": row.seq,
        "at": row.at.astimezone(UTC).isoformat(),
        "user_id": _str(row.user_id),
        "action": row.action,
        "person_id": _str(row.person_id),
        "target_type": row.target_type,
        "target_id": row.target_id,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "details": details_digest(row.details),
    }
    return hashlib.sha256(((prev_hash or "") + _canonical(content)).encode()).hexdigest()


def chain_head(session: OrmSession) -> tuple[int, str | None]:
    """The last chained row's seq and hash, read once per transaction under the lock."""
    transaction = session.get_transaction()
    cached = session.info.get("audit_head")
    # the last row chained in this transaction still stands unless a savepoint rolled it back
    if cached and cached[0] is transaction and cached[1] in session:
        return cached[1].seq, cached[1].row_hash
    bind = session.connection()
    if bind.dialect.name == "postgresql":
        # held to the end of the transaction: concurrent appenders queue here, not fork.
        # A transaction that takes it and then waits for a row another appender locked
        # earlier deadlocks; PostgreSQL then fails one statement, which its savepoint or
        # request answers as an error (a sync item is sent again)
        bind.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    head = bind.execute(
        select(AuditEvent.seq, AuditEvent.row_hash)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return (head.seq, head.row_hash) if head else (0, None)


@event.listens_for(OrmSession, "before_flush")
def _chain_new_rows(session: OrmSession, _context, _instances) -> None:
    # every pending row, even one that carries chain values from a rolled-back attempt
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    chain(new, chain_head(session))
    session.info["audit_head"] = (session.get_transaction(), new[-1])


def chain(rows, head: tuple[int, str | None]) -> None:
    """Give each row, in order, the next `seq` after `head` (seq, hash), the hash before it
    and its own `row_hash`."""
    seq, prev = head
    for row in rows:
        seq += 1
        row.seq, row.prev_hash = seq, prev
        row.row_hash = prev = row_hash(row, prev)


@dataclass(frozen=True)
class Finding:
    """Where the chain breaks first, and how."""

    seq: int | None
    row_id: str | None
    problem: str  # altered, missing, inserted

    def __str__(self) -> str:
        if self.problem == "missing":
            return f"row seq {self.seq} is missing (the next row present is {self.row_id})"
        where = f"seq {self.seq}" if self.seq is not None else "outside the chain"
        return f"row {self.row_id} ({where}) was {self.problem}"


@dataclass
class Report:
    checked: int = 0
    before_chain: int = 0
    redacted: int = 0
    finding: Finding | None = None


def verify(session: Session, *, batch: int = 1000) -> Report:
    """Walk the chain in seq order; stop at the first altered, missing or inserted row.

    Rows without a seq from before the chain began are counted and skipped; one without a
    seq written after the chain began was put there by hand.
    """
    report = Report()
    first = session.exec(select(AuditEvent.at).where(AuditEvent.seq == 1)).first()
    unchained = select(AuditEvent.id, AuditEvent.at).where(AuditEvent.seq.is_(None))
    for row_id, at in session.exec(unchained.order_by(AuditEvent.at)):
        if first is not None and at > first:
            report.finding = Finding(None, str(row_id), "inserted")
            return report
        report.before_chain += 1
    retention = {
        str(row.id): (row.person_id, row.seq)
        for row in session.exec(select(AuditEvent).where(AuditEvent.action == RETENTION_ACTION))
    }
    expected_seq, prev = 1, None
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return report
        for row in rows:
            if row.seq > expected_seq:
                report.finding = Finding(expected_seq, str(row.id), "missing")
                return report
            problem = _check(row, prev, retention)
            if problem:
                report.finding = Finding(row.seq, str(row.id), problem)
                return report
            report.checked += 1
            report.redacted += REDACTED in (row.details or {})
            expected_seq, prev = row.seq + 1, row.row_hash
        session.expunge_all()


def _check(row: AuditEvent, prev: str | None, retention: dict) -> str:
    """'' when the row follows its predecessor and says what it said; else what is wrong."""
    if row.prev_hash != prev:
        # it does not follow the row before it: put in between, or its link rewritten
        return "inserted"
    if row.row_hash != row_hash(row, prev):
        return "altered"
    marker = (row.details or {}).get(REDACTED)
    if marker is not None:
        # scrubbed details are vouched for by a later retention row of the same person
        person_id, seq = retention.get(
            str(marker.get("by")) if isinstance(marker, dict) else "", (None, None)
        )
        if seq is None or person_id != row.person_id or seq <= row.seq:
            return "altered"
    return ""


# --- the database refuses UPDATE and DELETE ------------------------------------------------

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION clover_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('clover.retention', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'auditevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = (
    "CREATE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON auditevent"
    " FOR EACH ROW EXECUTE FUNCTION clover_audit_append_only()"
)
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER auditevent_no_{op.lower()} BEFORE {op} ON auditevent"
    f" BEGIN SELECT RAISE(ABORT, 'auditevent is append-only: {op} refused'); END"
    for op in ("UPDATE", "DELETE")
]


def install_guard(connection) -> None:
    """Make the audit table append-only in the database itself (idempotent)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_PG_FUNCTION)
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS auditevent_append_only ON auditevent")
        connection.exec_driver_sql(_PG_TRIGGER)
    elif connection.dialect.name == "sqlite":
        _drop_sqlite_triggers(connection)
        for statement in _SQLITE_TRIGGERS:
            connection.exec_driver_sql(statement)


def remove_guard(connection) -> None:
    """Undo `install_guard` (a migration going down)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS auditevent_append_only ON auditevent")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS clover_audit_append_only()")
    elif connection.dialect.name == "sqlite":
        _drop_sqlite_triggers(connection)


def _drop_sqlite_triggers(connection) -> None:
    for op in ("update", "delete"):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS auditevent_no_{op}")


@contextmanager
def retention_window(session: Session) -> Iterator[None]:
    """Within this transaction only, let retention scrub audit rows.

    PostgreSQL: a transaction-local setting the trigger reads. SQLite: the triggers are
    dropped and made again inside the same transaction (its DDL is transactional), so a
    failed run leaves them as they were and no other connection ever sees them gone.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config('clover.retention', 'on', true)"))
        yield
        session.flush()
        connection.execute(text("SELECT set_config('clover.retention', 'off', true)"))
    else:
        _drop_sqlite_triggers(connection)
        yield
        session.flush()
        install_guard(connection)


# create_all (the tests' schema) makes the guard too; migrations call install_guard
event.listen(
    AuditEvent.__table__,
    "after_create",
    lambda _table, connection, **_kw: install_guard(connection),
)
