"""What the people views share: finding the person, the local date, showing errors."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import Form

from app import audit
from app.db import get_session
from app.models import Person
from app.people.ledger import find_person


def zone() -> ZoneInfo:
    """The unit's time zone: due dates and 'today' are local dates there."""
    return ZoneInfo(current_app.config["CLOVER_TIMEZONE"])


def today():
    return datetime.now(zone()).date()


def person_or_404(person_id: uuid.UUID) -> Person:
    """The person if she is in the signed-in user's scope; a 404 that says nothing otherwise."""
    person = find_person(get_session(), current_user, person_id)
    if person is None:
        abort(404)
    return person


def record_view(person: Person, page: str) -> None:
    """Audit a page that shows her record, and commit it."""
    db = get_session()
    audit.record(
        db,
        user=current_user,
        action="person_view",
        person=person,
        target=person,
        details={"page": page},
    )
    db.commit()


def base_version(name: str = "version") -> int:
    """The version of her record the posted form was opened at (0 when it names none)."""
    return request.form.get(name, type=int) or 0


def form_data() -> dict:
    """The posted form as the validation functions take it: lists for repeated names."""
    return {
        key: values if len(values) > 1 or key in LIST_FIELDS else values[0]
        for key, values in request.form.lists()
    }


LIST_FIELDS = {"consents", "help_requested", "focus_areas", "contact_kinds"}


def show_errors(form: Form, errors: dict[str, str]) -> None:
    """Put each translated message under its field, the rest at the top of the form."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, _(message)]
        else:
            form.form_errors.append(_(message))


def parse_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"
