"""What a visit holds, which fields each kind asks for, and turning submitted data into
clean values with field errors. No Flask: the form and the offline sync share it.

Error messages are English source strings marked with `N_`; translate them where shown.
"""

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from app.accounts import N_
from app.inputs import UNREADABLE, Choice, Choices, Day, Model, Moment, Text, Uuid, Whole, validate
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
EARLIEST = date(2000, 1, 1)  # no contact recorded here predates the studio's ledgers
TEXT_TOO_LONG = N_("This text is too long (at most 4000 characters).")


def fields_for(kind: str) -> tuple[str, ...]:
    return FIELDS_BY_KIND.get(kind, ())


NO_KIND = N_("Choose what kind of contact this was.")
NO_PERSON = N_("Choose the person this visit is with.")
NO_ID = N_("This visit has no valid identifier. Reload the form.")
Kind = Choice(VisitKind, NO_KIND)


class VisitFields(Model):
    """A visit's content as a phone or the form sends it; `kind` decides which count."""

    kind: Choice(VisitKind, NO_KIND, required=NO_KIND)
    occurred_at: Moment(
        N_("Enter the date and time."),
        earliest=EARLIEST,
        too_early=N_("A visit cannot be dated before 2000."),
        future=N_("A visit cannot be in the future."),
        skew=CLOCK_SKEW,
        required=N_("Enter the date and time."),
    )
    failure_reason: Choice(FailureReason, N_("Choose why the attempt failed.")) = None
    duration_minutes: Whole(
        1, MAX_DURATION, N_("Enter the minutes as a whole number from 1 to 600.")
    ) = None
    location: Choice(VisitLocation, N_("Choose a place from the list.")) = None
    participants: Choices(Participant) = []
    mood: Whole(1, 5, N_("Mood is a number from 1 to 5.")) = None
    craving: Whole(0, 10, N_("Craving is a number from 0 to 10.")) = None
    risk_flags: Choices(RiskFlag) = []
    help_given: Choices(HelpGiven) = []
    difficulties: Choices(Difficulty) = []
    agreed_actions: Text(MAX_TEXT, single_line=False, too_long=TEXT_TOO_LONG) = ""
    notes: Text(MAX_TEXT, single_line=False, too_long=TEXT_TOO_LONG) = ""
    next_contact_on: Day(N_("Enter a date."), low=EARLIEST) = None


class VisitData(VisitFields):
    """What an outbox item carries as `data`; `person_id` is needed to record one."""

    person_id: Uuid(NO_PERSON) = None


class VisitInput(VisitFields):
    """A whole visit to validate: its UUID (the device chose it) and her id are required."""

    id: Uuid(NO_ID, required=NO_ID)
    person_id: Uuid(NO_PERSON, required=NO_PERSON)


KIND = TypeAdapter(Kind)


def _kind(data: Mapping) -> str | None:
    try:
        return KIND.validate_python(data.get("kind"))
    except ValidationError:
        return None


def clean_visit(
    data: Mapping, *, timezone: str, now: datetime | None = None
) -> tuple[dict, dict[str, list[str]]]:
    """Clean values for a visit, and errors as {field: [message]} (empty when valid).

    `data` may come from a form (text, lists from getlist) or from JSON; list fields
    accept a list or a single value; `occurred_at` without an offset is local time in
    `timezone`. Fields the kind does not ask for are dropped, whatever was sent. When a
    field has the wrong type, the clean values are empty: only the errors count.
    """
    if not isinstance(data, Mapping):
        return {}, {"_form": [UNREADABLE]}
    kind = _kind(data)
    wanted = fields_for(kind) if kind else ()
    sent = {name: data[name] for name in (*IDENTITY_FIELDS, *wanted) if name in data}
    context = {"timezone": timezone, "now": now or utcnow()}
    visit, errors = validate(VisitInput, sent, context=context)
    if visit is None:
        return {}, errors
    clean = visit.model_dump()
    if "failure_reason" in wanted and clean["failure_reason"] is None:
        errors["failure_reason"] = [N_("Choose why the attempt failed.")]
    planned, occurred_at = clean["next_contact_on"], clean["occurred_at"]
    if planned is not None:
        day = occurred_at.astimezone(ZoneInfo(timezone)).date()
        if not day < planned <= day + timedelta(days=MAX_PLANNED_DAYS):
            errors["next_contact_on"] = [N_("Plan the next contact within a year after this one.")]
    return _keep_fields_of_kind(clean, kind, wanted), errors


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
