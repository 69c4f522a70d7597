"""The complete record of one person, for her subject-access request (PIPL art. 45).

Her details, status history, assignments, consent history, support plans, every visit
with the versions it replaced, and every audit row that names her (who accessed it).
Plain data, no Flask: the page and the JSON file are made from the same dictionary.
"""

import uuid

from sqlalchemy import String, cast, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.models import (
    Assignment,
    AuditEvent,
    Consent,
    Person,
    ReleasePreparation,
    ScaleResult,
    StatusChange,
    SupportPlan,
    Unit,
    User,
    Visit,
    VisitVersion,
)

# kept out of the file: a search index and the number's hash are not her data but ours
PERSON_HIDDEN = {"id_number_encrypted", "id_number_hash", "search_keys"}
# the fields of her records that name a user
USER_KEYS = (
    "author_id",
    "user_id",
    "taken_by_id",
    "assigned_by_id",
    "edited_by_id",
    "assigned_officer_id",
    "peer_helper_id",
)


def mentions(person_id) -> object:
    """A WHERE clause on audit events: rows about her, and pages that listed her."""
    return or_(
        AuditEvent.person_id == person_id,
        cast(AuditEvent.details, String).like(f'%"{person_id}"%'),
    )


def _dump(row, exclude=frozenset()) -> dict:
    return row.model_dump(mode="json", exclude=set(exclude))


def _names(session: Session, ids: set[str]) -> dict:
    """The display names of the users these ids name, to read the record by."""
    ids = {uuid.UUID(i) for i in ids}
    if not ids:
        return {}
    users = session.exec(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {str(user_id): name for user_id, name in users}


def complete_record(session: Session, person: Person, *, cipher) -> dict:
    """Everything the service holds about her, as JSON-ready data."""
    details = _dump(person, PERSON_HIDDEN)
    details["id_number"] = (
        cipher.decrypt(person.id_number_encrypted) if person.id_number_encrypted else None
    )
    unit = session.get(Unit, person.unit_id)
    by_person = {
        "status_changes": (StatusChange, StatusChange.created_at),
        "assignments": (Assignment, Assignment.started_at),
        "consents": (Consent, Consent.version),
        "support_plans": (SupportPlan, SupportPlan.version),
        "scale_results": (ScaleResult, ScaleResult.taken_at),
        "release_preparation": (ReleasePreparation, ReleasePreparation.item),
    }
    record = {"person": details, "unit": unit.name if unit else None}
    for key, (model, order) in by_person.items():
        rows = session.exec(select(model).where(model.person_id == person.id).order_by(order))
        record[key] = [_dump(row) for row in rows]
    visits = session.exec(
        select(Visit).where(Visit.person_id == person.id).order_by(Visit.occurred_at)
    ).all()
    versions: dict = {}
    for version in session.exec(
        select(VisitVersion)
        .join(Visit, Visit.id == VisitVersion.visit_id)
        .where(Visit.person_id == person.id)
        .order_by(VisitVersion.version)
    ):
        versions.setdefault(version.visit_id, []).append(_dump(version))
    record["visits"] = [{**_dump(v), "versions": versions.get(v.id, [])} for v in visits]
    reader = aliased(User)
    accesses = session.exec(
        select(AuditEvent, reader.display_name)
        .outerjoin(reader, reader.id == AuditEvent.user_id)
        .where(mentions(person.id))
        .order_by(AuditEvent.at)
    ).all()
    record["accesses"] = [_access(event, name, str(person.id)) for event, name in accesses]
    rows_named = [details] + [
        row for rows in record.values() if isinstance(rows, list) for row in rows
    ]
    record["users"] = _names(
        session, {row.get(key) for row in rows_named for key in USER_KEYS if row.get(key)}
    )
    return record


def _access(event: AuditEvent, user_name: str | None, person_id: str) -> dict:
    """An audit row as she may read it: a page that listed others names only her."""
    row = {**_dump(event, {"prev_hash", "row_hash"}), "user_name": user_name}
    if isinstance(row["details"].get("people"), list):
        row["details"] = {**row["details"], "people": [person_id]}
    return row
