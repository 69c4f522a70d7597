"""What a group session holds, and turning submitted data into clean values with field
errors. No Flask: the form and the offline sync share it.

Error messages are English source strings marked with `N_`; translate them where shown.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from app.accounts import N_
from app.inputs import UNREADABLE, Choice, Model, Moment, Rule, Text, Uuid, Whole, refuse, validate
from app.models import GroupSession, VisitLocation
from app.policy import GROUP_KINDS, MAX_ATTENDEES
from app.types import utcnow
from app.visits.fields import CLOCK_SKEW, EARLIEST, MAX_DURATION, MAX_TEXT, TEXT_TOO_LONG

NO_ID = N_("This group session has no valid identifier. Reload the form.")
NO_KIND = N_("Choose what kind of group session this was.")
NO_TOPIC = N_("Enter the topic.")
NO_ATTENDEES = N_("Tick at least one person who attended.")
TOO_MANY = N_("A group session has at most 60 attendees.")
ATTENDEE = N_("An attendee is not valid. Reload the form.")
# the session's own fields, in the order its pages show them; what a duplicate must match
CONTENT_FIELDS = (
    "kind",
    "occurred_at",
    "duration_minutes",
    "online",
    "place",
    "topic",
    "notes",
    "leader_id",
    "attendees",
)
TEXT_FIELDS = ("notes",)
LIST_FIELDS = ("attendees",)
# the fields an attendee's visit takes from the session: a change of one edits her visit
VISIT_FIELDS = ("kind", "occurred_at", "duration_minutes", "online")
TRUE, FALSE = ("1", "on", "true", "yes"), ("0", "off", "false", "no")


class _Flag(Rule):
    """A checkbox: a JSON bool, or the form's "1"/"on" (absent or blank: no)."""

    schema = {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": [*TRUE, *FALSE]}]}

    def blank(self):
        return False

    def parse(self, value, context):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
            return value.strip().lower() in TRUE
        raise refuse(N_("Tick the box or leave it empty."))


class _People(Rule):
    """The attendees: a list of person ids (a form's checkboxes, or JSON), at least one."""

    schema = {
        "anyOf": [
            {
                "type": "array",
                "items": {"type": "string", "format": "uuid"},
                "maxItems": MAX_ATTENDEES,
            },
            {"type": "string", "format": "uuid"},
        ]
    }

    def blank(self):
        raise refuse(NO_ATTENDEES)

    def parse(self, value, context):
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise refuse(ATTENDEE)
        ids = set()
        for text in values:
            if not text.strip():
                continue
            if len(text) > 64:
                raise refuse(ATTENDEE)
            try:
                ids.add(uuid.UUID(text.strip()))
            except ValueError:
                raise refuse(ATTENDEE) from None
        if not ids:
            raise refuse(NO_ATTENDEES)
        if len(ids) > MAX_ATTENDEES:
            raise refuse(TOO_MANY)
        return sorted(ids, key=str)


class GroupFields(Model):
    """A group session as a phone or the form sends it."""

    kind: Choice(GROUP_KINDS, NO_KIND, required=NO_KIND)
    occurred_at: Moment(
        N_("Enter the date and time."),
        earliest=EARLIEST,
        too_early=N_("A group session cannot be dated before 2000."),
        future=N_("A group session cannot be in the future."),
        skew=CLOCK_SKEW,
        required=N_("Enter the date and time."),
    )
    duration_minutes: Whole(
        1, MAX_DURATION, N_("Enter the minutes as a whole number from 1 to 600.")
    ) = None
    online: Annotated[bool, _Flag(message=UNREADABLE)] = False
    place: Text(200, too_long=N_("The place is too long (at most 200 characters).")) = ""
    topic: Text(
        200, required=NO_TOPIC, too_long=N_("The topic is too long (at most 200 characters).")
    )
    notes: Text(MAX_TEXT, single_line=False, too_long=TEXT_TOO_LONG) = ""
    leader_id: Uuid(N_("Choose who led it from the list.")) = None
    attendees: Annotated[list[uuid.UUID], _People(message=ATTENDEE, required=NO_ATTENDEES)]


class GroupInput(GroupFields):
    """A whole group session to validate: its UUID (the device chose it) is required."""

    id: Uuid(NO_ID, required=NO_ID)


def clean_group(
    data: Mapping, *, timezone: str, now: datetime | None = None
) -> tuple[dict, dict[str, list[str]]]:
    """Clean values for a group session, and errors as {field: [message]} (empty when valid).

    An online session has no place; `occurred_at` without an offset is local time in
    `timezone`. When anything is wrong, the clean values are empty: only the errors count.
    """
    if not isinstance(data, Mapping):
        return {}, {"_form": [UNREADABLE]}
    sent = {name: data[name] for name in ("id", *CONTENT_FIELDS) if name in data}
    context = {"timezone": timezone, "now": now or utcnow()}
    group, errors = validate(GroupInput, sent, context=context)
    if group is None:
        return {}, errors
    clean = group.model_dump()
    if clean["online"]:
        clean["place"] = ""
    return clean, {}


def location_of(online: bool) -> str:
    """Where an attendee's visit took place, as the visit's codes say it."""
    return VisitLocation.other.value if online else VisitLocation.community_office.value


def group_snapshot(values: Mapping | GroupSession, attendees=None) -> dict:
    """A session's content as plain JSON values: kept as a version, compared for duplicates.

    For a stored session, `attendees` are the people of its visits.
    """
    if isinstance(values, Mapping):
        get = values.get
    else:

        def get(name):
            return attendees if name == "attendees" else getattr(values, name)

    result = {}
    for name in CONTENT_FIELDS:
        value = get(name)
        if name == "occurred_at" and isinstance(value, datetime):
            value = value.astimezone(ZoneInfo("UTC")).replace(microsecond=0).isoformat()
        elif name == "leader_id":
            value = str(value) if value else None
        elif name == "attendees":
            value = sorted(str(v) for v in value or [])
        elif name == "online":
            value = bool(value)
        elif name in ("place", "topic", "notes"):
            value = value or ""
        result[name] = value
    return result


def restore(content: Mapping) -> dict:
    """A stored snapshot with its time back as a Python value, for display."""
    result = dict(content)
    if result.get("occurred_at"):
        result["occurred_at"] = datetime.fromisoformat(result["occurred_at"])
    return result


def changed_fields(before: Mapping, after: Mapping) -> list[str]:
    """The content fields that differ between two snapshots."""
    return [name for name in CONTENT_FIELDS if before.get(name) != after.get(name)]
