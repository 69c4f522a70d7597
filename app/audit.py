"""The attributable trail: every read and write of a person is recorded here."""

from flask import has_request_context, request
from sqlmodel import Session

from app.models import AuditEvent, Person, User


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
