"""What a visit holds, which fields each kind asks for, and turning submitted data into
clean values with field errors. No Flask: the form and the offline sync share it.

Error messages are English source strings marked with `N_`; translate them where shown.
"""

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.accounts import N_
from app.models import RiskFlag, Visit, VisitKind, VisitLocation
from app.types import utcnow


class FailureReason(StrEnum):
    """Why an attempt did not reach her."""

    no_answer = "no_answer"
    not_at_home = "not_at_home"
    unreachable = "unreachable"  # number out of service, phone off
    declined = "declined"
    other = "other"


class Participant(StrEnum):
    """Family members who took part."""

    mother = "mother"
    father = "father"
    partner = "partner"
    child = "child"
    sibling = "sibling"
    other_relative = "other_relative"


class HelpGiven(StrEnum):
    emotional_support = "emotional_support"
    relapse_prevention = "relapse_prevention"
    family_mediation = "family_mediation"
    job_referral = "job_referral"
    housing_help = "housing_help"
    documents_help = "documents_help"
    medical_referral = "medical_referral"


class Difficulty(StrEnum):
    """Practical difficulties she raised."""

    work = "work"
    housing = "housing"
    documents = "documents"
    health = "health"
    family = "family"


CONTACT_FIELDS = (
    "duration_minutes",
    "location",
    "participants",
    "mood",
    "craving",
    "risk_flags",
    "help_given",
    "difficulties",
    "agreed_actions",
    "notes",
    "next_contact_on",
)
# the fields each kind asks for besides kind and time; the rest are dropped, not refused
FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    **{kind.value: CONTACT_FIELDS for kind in VisitKind if kind != VisitKind.attempt},
    VisitKind.talk: tuple(f for f in CONTACT_FIELDS if f != "participants"),
    VisitKind.online_check_in: (
        "mood",
        "craving",
        "risk_flags",
        "difficulties",
        "notes",
        "next_contact_on",
    ),
    VisitKind.attempt: ("location", "failure_reason", "notes"),
}
# the other way round, for the form: which kinds show a field
KINDS_BY_FIELD: dict[str, tuple[str, ...]] = {
    name: tuple(kind for kind, names in FIELDS_BY_KIND.items() if name in names)
    for name in (*CONTACT_FIELDS, "failure_reason")
}
DEFAULT_LOCATION = {
    VisitKind.home_visit: VisitLocation.home,
    VisitKind.phone_consultation: VisitLocation.phone,
    VisitKind.follow_up: VisitLocation.phone,
    VisitKind.family_therapy: VisitLocation.home,
    VisitKind.online_check_in: VisitLocation.other,
    VisitKind.attempt: VisitLocation.phone,
}
LIST_FIELDS = ("participants", "risk_flags", "help_given", "difficulties")
TEXT_FIELDS = ("agreed_actions", "notes")
IDENTITY_FIELDS = ("id", "person_id", "kind", "occurred_at")
CHOICES = {
    "kind": VisitKind,
    "location": VisitLocation,
    "failure_reason": FailureReason,
    "participants": Participant,
    "risk_flags": RiskFlag,
    "help_given": HelpGiven,
    "difficulties": Difficulty,
}
# the fields that make up a visit's content: what a duplicate must match
CONTENT_FIELDS = ("person_id", "kind", "occurred_at", "failure_reason", *CONTACT_FIELDS)
MAX_TEXT = 4000
MAX_DURATION = 600
CLOCK_SKEW = timedelta(minutes=10)  # a phone's clock may run a little fast
MAX_PLANNED_DAYS = 366


def fields_for(kind: str) -> tuple[str, ...]:
    return FIELDS_BY_KIND.get(kind, ())


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _int(value, low: int, high: int) -> int | None:
    """An int within [low, high], or None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


def _moment(value, timezone: str) -> datetime | None:
    """An aware UTC moment from a datetime, ISO text with an offset, or local time text."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        # a datetime-local input: the wall clock where the officer works
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(ZoneInfo("UTC")).replace(microsecond=0)


def _date(value) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(item) for item in value]


class _Cleaner:
    """Collects clean values and field errors for one submission."""

    def __init__(self, data: Mapping, timezone: str, now: datetime):
        self.data, self.timezone, self.now = data, timezone, now
        self.clean: dict = {}
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def required(self, name: str, parse, message: str):
        value = self.data.get(name)
        parsed = None if _blank(value) else parse(value)
        if parsed is None:
            self.fail(name, message)
        self.clean[name] = parsed
        return parsed

    def optional(self, name: str, parse, message: str):
        value = self.data.get(name)
        parsed = None if _blank(value) else parse(value)
        if parsed is None and not _blank(value):
            self.fail(name, message)
        self.clean[name] = parsed
        return parsed

    def choices(self, name: str, message: str) -> None:
        allowed = list(CHOICES[name])
        values = _as_list(self.data.get(name))
        if any(v not in allowed for v in values):
            self.fail(name, message)
        # stored in the vocabulary's order, so the same choices always compare equal
        self.clean[name] = [v for v in allowed if v in values]

    def text(self, name: str) -> None:
        value = self.data.get(name)
        value = "" if value is None else str(value).strip()
        if len(value) > MAX_TEXT:
            self.fail(name, N_("This text is too long (at most 4000 characters)."))
        self.clean[name] = value


def _choice(enum):
    return lambda value: value if value in set(enum) else None


def clean_visit(
    data: Mapping, *, timezone: str, now: datetime | None = None
) -> tuple[dict, dict[str, list[str]]]:
    """Clean values for a visit, and errors as {field: [message]} (empty when valid).

    `data` may come from a form (text, lists from getlist) or from JSON; list fields
    accept a list or a single value; `occurred_at` without an offset is local time in
    `timezone`. Fields the kind does not ask for are dropped.
    """
    c = _Cleaner(data, timezone, now or utcnow())
    c.required("id", _uuid, N_("This visit has no valid identifier. Reload the form."))
    c.required("person_id", _uuid, N_("Choose the person this visit is with."))
    kind = c.required("kind", _choice(VisitKind), N_("Choose what kind of contact this was."))
    occurred_at = c.required(
        "occurred_at", lambda v: _moment(v, timezone), N_("Enter the date and time.")
    )
    if occurred_at is not None and occurred_at > c.now + CLOCK_SKEW:
        c.fail("occurred_at", N_("A visit cannot be in the future."))
    wanted = fields_for(kind) if kind else ()
    if "failure_reason" in wanted:
        c.required("failure_reason", _choice(FailureReason), N_("Choose why the attempt failed."))
    c.optional(
        "duration_minutes",
        lambda v: _int(v, 1, MAX_DURATION),
        N_("Enter the minutes as a whole number from 1 to 600."),
    )
    c.optional("location", _choice(VisitLocation), N_("Choose a place from the list."))
    c.optional("mood", lambda v: _int(v, 1, 5), N_("Mood is a number from 1 to 5."))
    c.optional("craving", lambda v: _int(v, 0, 10), N_("Craving is a number from 0 to 10."))
    for name in LIST_FIELDS:
        c.choices(name, N_("Choose only from the list."))
    c.text("agreed_actions")
    c.text("notes")
    planned = c.optional("next_contact_on", _date, N_("Enter a date."))
    if planned is not None and occurred_at is not None:
        day = occurred_at.astimezone(ZoneInfo(timezone)).date()
        if not day < planned <= day + timedelta(days=MAX_PLANNED_DAYS):
            c.fail("next_contact_on", N_("Plan the next contact within a year after this one."))
    # a field the kind does not ask for is dropped with its errors, whatever was sent
    errors = {n: m for n, m in c.errors.items() if n in IDENTITY_FIELDS or n in wanted}
    return _keep_fields_of_kind(c.clean, kind, wanted), errors


def _keep_fields_of_kind(clean: dict, kind: str | None, wanted: tuple[str, ...]) -> dict:
    """Blank out what this kind does not ask for; default the place from the kind."""
    result = dict(clean)
    for name in (*CONTACT_FIELDS, "failure_reason"):
        if name not in wanted:
            result[name] = [] if name in LIST_FIELDS else ("" if name in TEXT_FIELDS else None)
    if "location" in wanted and result.get("location") is None and kind in DEFAULT_LOCATION:
        result["location"] = DEFAULT_LOCATION[kind].value
    return result


def snapshot(values: Mapping | Visit) -> dict:
    """A visit's content as plain JSON values: stored as a version, compared for duplicates."""
    get = values.get if isinstance(values, Mapping) else lambda name: getattr(values, name)
    result = {}
    for name in CONTENT_FIELDS:
        value = get(name)
        if isinstance(value, datetime):
            value = value.astimezone(ZoneInfo("UTC")).replace(microsecond=0).isoformat()
        elif isinstance(value, date | uuid.UUID):
            value = str(value)
        elif name in LIST_FIELDS:
            value = list(value or [])
        elif name in TEXT_FIELDS:
            value = value or ""
        result[name] = value
    return result


def restore(content: Mapping) -> dict:
    """A stored snapshot with its dates and times back as Python values, for display."""
    result = dict(content)
    if result.get("occurred_at"):
        result["occurred_at"] = datetime.fromisoformat(result["occurred_at"])
    if result.get("next_contact_on"):
        result["next_contact_on"] = date.fromisoformat(result["next_contact_on"])
    return result


def changed_fields(before: Mapping, after: Mapping) -> list[str]:
    """The content fields that differ between two snapshots."""
    return [name for name in CONTENT_FIELDS if before.get(name) != after.get(name)]
