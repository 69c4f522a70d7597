"""The visit form's values: defaults for a new visit, a stored visit, or what was typed.

Values stay as the form shows them (text, and lists for the checkbox groups), so a
rejected form comes back exactly as it was typed.
"""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from app.models import Visit
from app.visits.fields import CONTENT_FIELDS, DEFAULT_LOCATION, LIST_FIELDS

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
FORM_FIELDS = ("id", "kind", "occurred_at", *(f for f in CONTENT_FIELDS if f != "person_id"))


def local_minute(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime(LOCAL_MINUTE)


def new_values(*, kind: str, timezone: str, now: datetime) -> dict:
    """A blank visit: a fresh UUID (so a double submit saves one), now, the kind's place."""
    location = DEFAULT_LOCATION.get(kind)
    return {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "occurred_at": local_minute(now, timezone),
        "location": location.value if location else "",
        **{name: [] for name in LIST_FIELDS},
    }


def visit_values(visit: Visit, timezone: str) -> dict:
    """A stored visit as the form shows it, for a correction."""
    values = {name: getattr(visit, name) for name in FORM_FIELDS}
    values["id"] = str(visit.id)
    values["occurred_at"] = local_minute(visit.occurred_at, timezone)
    for name, value in values.items():
        if value is None:
            values[name] = ""
        elif name not in LIST_FIELDS:
            values[name] = str(value)
    return values


def submitted_values(form: MultiDict) -> dict:
    """What was typed: text fields as text, checkbox groups as lists."""
    return {
        name: form.getlist(name) if name in LIST_FIELDS else form.get(name, "")
        for name in FORM_FIELDS
    }
