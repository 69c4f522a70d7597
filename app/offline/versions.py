"""A version for each page kept on the phone, so an unchanged page is not downloaded again.

A page's version is a digest of everything its HTML is made from: this release of the app
(its code, templates, catalogs and static files, and `CLOVER_BUILD`), who she is (her
account, settings, unit and session: the CSRF token is per session), the local date (due
dates read "overdue" against it), and for a person's pages her record, visits, consent,
plan, status changes, assignments, scales and release preparation. Today and the people
list depend on everyone's. A change to any of these is a new version; the phone fetches
the pages whose version moved.
"""

import hashlib
import json
import uuid
from datetime import date, datetime
from pathlib import Path

from flask import current_app, session
from sqlalchemy import func, literal, union_all
from sqlmodel import Session, select

from app.models import (
    Assignment,
    Consent,
    Person,
    ReleasePreparation,
    ScaleResult,
    StatusChange,
    SupportPlan,
    SyncConflict,
    Unit,
    User,
    Visit,
)
from app.people.common import today
from app.policy import people_scope

ROOT = Path(__file__).resolve().parent.parent.parent
# what a page is rendered from; read once per process
RELEASE_SOURCES = (
    ("app", "*.py"),
    ("app/translations", "*.mo"),
    ("templates", "*"),
    ("static", "*"),
)
# a person's related rows and the time each was last written
RELATED = (
    (Visit, Visit.updated_at),
    (Consent, Consent.created_at),
    (SupportPlan, SupportPlan.created_at),
    (StatusChange, StatusChange.created_at),
    (Assignment, Assignment.created_at),
    (Assignment, Assignment.ended_at),
    (ScaleResult, ScaleResult.updated_at),
    (ReleasePreparation, ReleasePreparation.updated_at),
)


def release_digest() -> str:
    """A digest of the code, templates, catalogs and static files this process serves."""
    cached = current_app.extensions.get("clover_release_digest")
    if cached:
        return cached
    digest = hashlib.sha256()
    for folder, pattern in RELEASE_SOURCES:
        for path in sorted((ROOT / folder).rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    current_app.extensions["clover_release_digest"] = digest.hexdigest()
    return current_app.extensions["clover_release_digest"]


def _digest(*parts) -> str:
    text = json.dumps(parts, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _user_stamp(db: Session, user: User) -> list:
    """Her side of every page: account, unit rules, session, conflicts, today's date."""
    unit = db.get(Unit, user.unit_id) if user.unit_id else None
    conflicts = db.exec(
        select(
            func.count(), func.max(SyncConflict.created_at), func.max(SyncConflict.resolved_at)
        ).where(SyncConflict.user_id == user.id)
    ).one()
    return [
        release_digest(),
        current_app.config["CLOVER_BUILD"],
        str(user.id),
        user.updated_at,
        user.locale,
        user.timezone,
        unit.updated_at if unit else None,
        session.get("sid"),
        list(conflicts),
        today(),
    ]


def person_stamps(db: Session, people: list[Person]) -> dict[uuid.UUID, list]:
    """Per person: her record's version and when each of her related rows last changed.

    One statement for all the related tables (a UNION ALL of their per-person latest
    change and count): a phone downloading her caseload asks it for every page.
    """
    ids = [person.id for person in people]
    stamps: dict[uuid.UUID, list] = {p.id: [p.version, p.updated_at] for p in people}
    if not ids:
        return stamps
    latest = union_all(
        *(
            select(
                literal(index).label("related"),
                model.person_id,
                func.max(column).label("latest"),
                func.count().label("rows"),
            )
            .where(model.person_id.in_(ids))
            .group_by(model.person_id)
            for index, (model, column) in enumerate(RELATED)
        )
    )
    found = {(related, person_id): [at, rows] for related, person_id, at, rows in db.exec(latest)}
    for person_id in ids:
        stamps[person_id] += [found.get((index, person_id)) for index in range(len(RELATED))]
    return stamps


def _everyone_stamp(db: Session, user: User) -> list:
    """Everyone the people list shows, closed ledgers too: how many, and the latest change."""
    count, latest, versions = db.exec(
        select(func.count(), func.max(Person.updated_at), func.sum(Person.version)).where(
            people_scope(user)
        )
    ).one()
    return [count, latest, versions]


# pages about her own account, no person on them: their version moves with it alone
OWN_PAGES = {"settings"}
# pages that list her caseload by name alone (the group form's checkboxes): their version
# moves with who is on it, not with what changes in a ledger
CASELOAD_PAGES = {"group_form"}


def page_versions(db: Session, user: User, pages: list[dict], people: list[Person]) -> None:
    """Write each page's version into it (`version`); `people`: those the pages show."""
    mine = _user_stamp(db, user)
    stamps = person_stamps(db, people)
    shared = None
    for page in pages:
        if page["kind"] in OWN_PAGES:
            page["version"] = _digest(mine, page["kind"], page["url"])
            continue
        if page["kind"] in CASELOAD_PAGES:
            names = sorted((str(person.id), person.name) for person in people)
            page["version"] = _digest(mine, page["kind"], page["url"], names)
            continue
        if "person_id" in page:
            stamp = stamps[uuid.UUID(page["person_id"])]
            page["version"] = _digest(mine, page["kind"], page["url"], stamp)
            continue
        if shared is None:
            # Today and the people list show every person of hers
            everyone = _everyone_stamp(db, user)
            shared = _digest(mine, everyone, sorted(map(_sortable, stamps.items())))
        page["version"] = _digest(shared, page["kind"], page["url"])


def _sortable(item: tuple[uuid.UUID, list]) -> tuple[str, str]:
    person_id, stamp = item
    return str(person_id), json.dumps(stamp, default=_plain)


def _plain(value) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
