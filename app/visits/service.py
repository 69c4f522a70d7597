"""The one write path for visits: the form, and the offline sync after it, call only these.

`record_visit(*, session, user, data)` and `edit_visit(*, session, user, visit_id,
base_version, data)` validate (`app.visits.fields.clean_visit`), check permission
(`app.policy`), keep the schedule current, write the audit event, commit, then send
`app.signals.visit_recorded` (sender=visit, session=..., user=...) for every created or
edited visit (an edit has `visit.version > 1`). They never raise for a client's mistake;
they return a `RecordResult` whose `outcome` is one of:

- `created`: a new visit was saved; `visit` is it, `due` where she now stands.
- `edited`: a correction was saved as the next version; the one it replaced is kept
  as a `VisitVersion`; `visit` and `due` as for created.
- `duplicate`: nothing changed. The UUID was already saved with this content (a double
  submit or a resent sync item, also when it was corrected since), or the edit asks for
  what is already there. `visit` is the stored visit. Treat as success.
- `conflict`: nothing changed. The UUID exists with other content, or the edit's
  `base_version` is not the current version. `visit` is the server's current version,
  so the client can keep both and let the officer choose. Never an overwrite.
- `invalid`: nothing changed; `errors` is {field: [message]}.
- `refused`: nothing changed; the user may not do this (person unknown or out of
  scope, a kind her role may not record, consent withdrawn, edit window passed);
  `errors["_form"]` says why. Retrying will not help.

Messages are English source strings marked with `N_`; translate them where shown. A
visit is the first version when recorded; the edit window is counted from then.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.due import due_for_person, refresh_next_due
from app.models import Person, PersonStatus, Unit, User, Visit, VisitVersion
from app.policy import may_edit_visit, may_record_visit, sees_person
from app.schedule import Due, local_date
from app.signals import visit_recorded
from app.types import utcnow
from app.visits.fields import CONTENT_FIELDS, changed_fields, clean_visit, restore, snapshot


class Outcome(StrEnum):
    created = "created"
    edited = "edited"
    duplicate = "duplicate"
    conflict = "conflict"
    invalid = "invalid"
    refused = "refused"


SAVED = {Outcome.created, Outcome.edited, Outcome.duplicate}


@dataclass(frozen=True)
class RecordResult:
    outcome: Outcome
    visit: Visit | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    due: Due | None = None

    @property
    def saved(self) -> bool:
        """True when the visit as sent is stored (created, edited or already there)."""
        return self.outcome in SAVED


def _refused(message: str) -> RecordResult:
    return RecordResult(Outcome.refused, errors={"_form": [message]})


NOT_YOURS = N_("You may not record this visit for this person.")


def _first_content(session: Session, visit: Visit) -> dict:
    """The content the visit was first recorded with."""
    if visit.version == 1:
        return snapshot(visit)
    first = session.exec(
        select(VisitVersion.content).where(
            VisitVersion.visit_id == visit.id, VisitVersion.version == 1
        )
    ).first()
    return first or {}


def _replayed(session: Session, user: User, visit: Visit, clean: dict) -> RecordResult:
    """A create whose UUID is already stored: the same visit again, or a conflict."""
    sent = snapshot(clean)
    if sent in (snapshot(visit), _first_content(session, visit)):
        return RecordResult(Outcome.duplicate, visit)
    person = session.get(Person, visit.person_id)
    if visit.author_id != user.id and not sees_person(user, person):
        return _refused(NOT_YOURS)  # never show someone else's visit
    return RecordResult(Outcome.conflict, visit)


def _keep_schedule_current(person: Person, visit: Visit, now: datetime) -> dict:
    """A contact that reached her ends 'lost contact'; the due list follows the visits."""
    if visit.failure_reason is None and person.status == PersonStatus.lost_contact:
        person.status = PersonStatus.active
        person.version += 1
        person.updated_at = now
        return {"status": [PersonStatus.lost_contact.value, PersonStatus.active.value]}
    return {}


def _due(session: Session, user: User, person: Person, now: datetime) -> Due:
    today = local_date(now, user.timezone)
    return due_for_person(session, person, today=today, timezone=user.timezone)


def _done(session: Session, user: User, outcome: Outcome, visit: Visit, now: datetime):
    visit_recorded.send(visit, session=session, user=user)
    person = session.get(Person, visit.person_id)
    return RecordResult(outcome, visit, due=_due(session, user, person, now))


def record_visit(
    *, session: Session, user: User, data: dict, now: datetime | None = None
) -> RecordResult:
    """Record a new visit whose UUID (`data["id"]`) the device or the form chose."""
    now = now or utcnow()
    clean, errors = clean_visit(data, timezone=user.timezone, now=now)
    if errors:
        return RecordResult(Outcome.invalid, errors=errors)
    person = session.get(Person, clean["person_id"])
    if person is None or not may_record_visit(
        session, user, person, kind=clean["kind"], occurred_at=clean["occurred_at"]
    ):
        return _refused(NOT_YOURS)
    existing = session.get(Visit, clean["id"])
    if existing is not None:
        return _replayed(session, user, existing, clean)
    if person.consent_withdrawn_at is not None:
        return _refused(N_("She has withdrawn her consent: no new visits can be recorded."))
    if person.status == PersonStatus.closed:
        return _refused(N_("Her ledger is closed: no new visits can be recorded."))
    values = {name: clean[name] for name in CONTENT_FIELDS}
    visit = Visit(id=clean["id"], author_id=user.id, created_at=now, updated_at=now, **values)
    session.add(visit)
    details = {"kind": visit.kind, "version": 1, **_keep_schedule_current(person, visit, now)}
    audit.record(
        session, user=user, action="visit_create", person=person, target=visit, details=details
    )
    try:
        session.flush()
        refresh_next_due(session, person, zone=ZoneInfo(user.timezone))
        session.commit()
    except IntegrityError:
        # the same UUID saved by a request running alongside: judge it as a replay
        session.rollback()
        existing = session.get(Visit, clean["id"])
        if existing is None:
            raise
        return _replayed(session, user, existing, clean)
    return _done(session, user, Outcome.created, visit, now)


def edit_visit(
    *,
    session: Session,
    user: User,
    visit_id: uuid.UUID,
    base_version: int,
    data: dict,
    now: datetime | None = None,
) -> RecordResult:
    """Correct a visit: the version it replaces is kept, the visit gets the next version.

    `base_version` is the version the correction was made on; the person cannot change.
    """
    now = now or utcnow()
    visit = session.get(Visit, visit_id)
    person = session.get(Person, visit.person_id) if visit is not None else None
    if person is None or not (visit.author_id == user.id or sees_person(user, person)):
        return _refused(N_("You may not correct this visit."))
    data = {**data, "id": visit.id, "person_id": visit.person_id}
    clean, errors = clean_visit(data, timezone=user.timezone, now=now)
    if errors:
        return RecordResult(Outcome.invalid, errors=errors)
    before = snapshot(visit)
    if snapshot(clean) == before:
        return RecordResult(Outcome.duplicate, visit)
    unit = session.get(Unit, person.unit_id)
    if not may_edit_visit(user, visit, person, unit, now=now) or not may_record_visit(
        session, user, person, kind=clean["kind"], occurred_at=clean["occurred_at"]
    ):
        return _refused(N_("The time to correct this visit has passed, or it is not yours."))
    if base_version != visit.version:
        return RecordResult(Outcome.conflict, visit)
    session.add(
        VisitVersion(
            visit_id=visit.id,
            version=visit.version,
            content=before,
            author_id=visit.edited_by_id or visit.author_id,
            saved_at=visit.updated_at,
            replaced_at=now,
        )
    )
    for name in CONTENT_FIELDS:
        setattr(visit, name, clean[name])
    visit.version += 1
    visit.edited_by_id = user.id
    visit.updated_at = now
    details = {
        "version": visit.version,
        "changed": changed_fields(before, snapshot(visit)),
        **_keep_schedule_current(person, visit, now),
    }
    audit.record(
        session, user=user, action="visit_edit", person=person, target=visit, details=details
    )
    try:
        session.flush()
        refresh_next_due(session, person, zone=ZoneInfo(user.timezone))
        session.commit()
    except IntegrityError:
        # another correction of the same version won the race
        session.rollback()
        return RecordResult(Outcome.conflict, session.get(Visit, visit_id))
    return _done(session, user, Outcome.edited, visit, now)


@dataclass(frozen=True)
class VersionView:
    """One version of a visit as the history page shows it."""

    version: int
    content: dict
    author_id: uuid.UUID
    saved_at: datetime
    changed: list[str]


def visit_history(session: Session, visit: Visit) -> list[VersionView]:
    """Every version of a visit, newest first, each with the fields it changed."""
    older = session.exec(
        select(VisitVersion).where(VisitVersion.visit_id == visit.id).order_by(VisitVersion.version)
    ).all()
    rows = [(v.version, v.content, v.author_id, v.saved_at) for v in older]
    rows.append(
        (visit.version, snapshot(visit), visit.edited_by_id or visit.author_id, visit.updated_at)
    )
    views, previous = [], None
    for version, content, author_id, saved_at in rows:
        changed = changed_fields(previous, content) if previous is not None else []
        views.append(VersionView(version, restore(content), author_id, saved_at, changed))
        previous = content
    return views[::-1]
