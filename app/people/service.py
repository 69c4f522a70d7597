"""Registering and editing a person, and revealing her ID-card number: no Flask in here.

Every function checks the policy, validates, writes an audit event and leaves the
commit to the caller (`app.contract`), so a form post and a later sync API share all three.
"""

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import LostRace, StaleEdit, savepoint, versioned
from app.crypto import IdCipher
from app.due import refresh_next_due
from app.models import (
    Person,
    PersonStatus,
    SupportPlan,
    Unit,
    User,
)
from app.people.validation import Invalid, clean_person
from app.policy import Action, can, require
from app.search_keys import name_search_keys
from app.types import utcnow

# what a new plan plans for, before anyone has written one for her
DEFAULT_CONTACT_KINDS = ["home_visit", "phone_consultation", "follow_up"]
# a first plan is reviewed three months after release (or after registration, if later)
FIRST_REVIEW_DAYS = 90
PERSON_FIELDS = (
    "name",
    "date_of_birth",
    "phone",
    "address",
    "emergency_contacts",
    "facility",
    "admission_date",
    "release_date",
    "support_path",
    "risk_level",
)


class DuplicatePerson(Exception):
    """Someone with this ID-card number is already registered."""

    def __init__(self, person: Person):
        super().__init__(str(person.id))
        self.person = person


def _find_duplicate(session: Session, digest: str, *, other_than: uuid.UUID | None = None):
    query = select(Person).where(Person.id_number_hash == digest)
    if other_than is not None:
        query = query.where(Person.id != other_than)
    return session.exec(query).first()


def _set_id_number(person: Person, number: str, cipher: IdCipher) -> None:
    person.id_number_encrypted = cipher.encrypt(number)
    person.id_number_hash = cipher.digest(number)
    person.id_number_tail = number[-4:]


def _unit_for(session: Session, user: User, unit_id: uuid.UUID | None) -> Unit:
    """A supervisor registers into her unit; an administrator names one."""
    chosen = user.unit_id or unit_id
    unit = session.get(Unit, chosen) if chosen else None
    if unit is None:
        raise Invalid({"unit_id": N_("Choose a unit.")})
    return unit


def first_plan(*, person: Person, unit: Unit, author: User, today: date) -> SupportPlan:
    """Version 1 of her plan, from the unit's defaults, so every person has a plan."""
    return SupportPlan(
        person_id=person.id,
        version=1,
        cadence=[dict(phase) for phase in unit.default_cadence],
        contact_kinds=list(DEFAULT_CONTACT_KINDS),
        review_on=max(person.release_date or today, today) + timedelta(days=FIRST_REVIEW_DAYS),
        author_id=author.id,
    )


def register_person(
    *,
    session: Session,
    user: User,
    data: Mapping,
    cipher: IdCipher,
    today: date,
    zone: ZoneInfo,
    person_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
) -> Person:
    """A new person with a first support plan; the same `person_id` twice saves once."""
    require(user, Action.person_create)
    if person_id is not None:
        existing = session.get(Person, person_id)
        if existing is not None and can(user, Action.person_view, existing):
            return existing
        if existing is not None:  # an id that is not hers to reuse: register under a new one
            person_id = None
    errors: dict[str, str] = {}
    try:
        cleaned = clean_person(data, today=today)
    except Invalid as invalid:
        errors = invalid.errors
    try:
        unit = _unit_for(session, user, unit_id)
    except Invalid as invalid:
        errors |= invalid.errors
    if errors:
        raise Invalid(errors)
    duplicate = _find_duplicate(session, cipher.digest(cleaned["id_number"]))
    if duplicate is not None:
        raise DuplicatePerson(duplicate)
    person = Person(
        id=person_id or uuid.uuid4(),
        unit_id=unit.id,
        search_keys=name_search_keys(cleaned["name"]),
        status=PersonStatus.pre_release if cleaned["release_date"] > today else PersonStatus.active,
        **{field: cleaned[field] for field in PERSON_FIELDS},
    )
    _set_id_number(person, cleaned["id_number"], cipher)
    try:
        with savepoint(session):
            session.add(person)
            session.flush()
            session.add(first_plan(person=person, unit=unit, author=user, today=today))
            session.flush()
            refresh_next_due(session, person)
            audit.record(session, user=user, action="person_create", person=person, target=person)
    except LostRace:
        # registered alongside, under the same ID-card number or the same id
        duplicate = _find_duplicate(session, person.id_number_hash)
        if duplicate is None:
            raise
        raise DuplicatePerson(duplicate) from None
    return person


def update_person(
    *,
    session: Session,
    user: User,
    person: Person,
    data: Mapping,
    cipher: IdCipher,
    today: date,
    zone: ZoneInfo,
    base_version: int,
) -> Person:
    """Save an edit made to `base_version`; raises StaleEdit if she changed since."""
    require(user, Action.person_edit, person)
    cleaned = clean_person(data, today=today, id_required=False)
    if base_version != person.version:
        raise StaleEdit(person)
    changed = [field for field in PERSON_FIELDS if getattr(person, field) != cleaned[field]]
    # a blank ID-card number on an edit keeps the one on record
    digest = cipher.digest(cleaned["id_number"]) if cleaned["id_number"] else None
    if digest is not None and digest != person.id_number_hash:
        duplicate = _find_duplicate(session, digest, other_than=person.id)
        if duplicate is not None:
            raise DuplicatePerson(duplicate)
        changed.append("id_number")
    if not changed:
        return person
    with versioned(session, person):
        if "id_number" in changed:
            _set_id_number(person, cleaned["id_number"], cipher)
        _apply_update(session, user, person, cleaned, sorted(changed), zone)
    return person


def _apply_update(session, user: User, person: Person, cleaned, changed, zone) -> None:
    for field in PERSON_FIELDS:
        setattr(person, field, cleaned[field])
    person.search_keys = name_search_keys(person.name)
    person.version += 1
    person.updated_at = utcnow()
    refresh_next_due(session, person)
    # field names only: the audit trail must not become a second copy of the data
    audit.record(
        session,
        user=user,
        action="person_update",
        person=person,
        target=person,
        details={"fields": changed, "version": person.version},
    )


def reveal_id_number(*, session: Session, user: User, person: Person, cipher: IdCipher):
    """Her full ID-card number, for a role allowed to see it; every reveal is audited."""
    require(user, Action.person_reveal_id, person)
    audit.record(session, user=user, action="person_reveal_id", person=person, target=person)
    return cipher.decrypt(person.id_number_encrypted) if person.id_number_encrypted else None
