"""Checking what is typed into a ledger: plain functions, English messages marked for translation.

Each `clean_*` takes raw form values (strings, lists of strings) and returns typed,
normalised values, or raises `Invalid` naming every field that is wrong. A pydantic model
(`PersonForm`, `ConsentForm`, ...) types each field; the rules that relate fields, or
depend on today, follow it. The same functions serve a form post and any later API, so
the rules cannot drift apart.
"""

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from pydantic import create_model

from app import idcard
from app.accounts import N_
from app.inputs import (
    Choice,
    Choices,
    Day,
    Model,
    Rule,
    Text,
    Whole,
    first_errors,
    refuse,
    validate,
)
from app.models import (
    CONSENT_KEYS,
    FOCUS_AREAS,
    HELP_AREAS,
    CloseReason,
    PersonStatus,
    RiskLevel,
    SupportPath,
    VisitKind,
)

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
OLDEST, YOUNGEST = 90, 14
MAX_PHASES = 4
# the statuses a change may lead to; before release is where a ledger starts, not a change
STATUS_TARGETS = (
    PersonStatus.active,
    PersonStatus.paused,
    PersonStatus.lost_contact,
    PersonStatus.relapse,
    PersonStatus.closed,
)
PLANNED_KINDS = tuple(kind for kind in VisitKind if kind != VisitKind.attempt)


class Invalid(ValueError):
    """Input that cannot be saved; `errors` maps each field to its (untranslated) message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class _Phone(Rule):
    """A mainland mobile number (or, for a contact, a landline), without spaces or +86."""

    def __init__(self, *, landline: bool, message: str):
        super().__init__(message=message)
        self.landline = landline
        self.schema = {"type": "string", "maxLength": 20, "examples": ["13812345678"]}

    def parse(self, value, context):
        if not isinstance(value, str):
            raise refuse(self.message)
        value = re.sub(r"[\s()]", "", value).removeprefix("+86")
        if not (MOBILE.match(value) or (self.landline and LANDLINE.match(value))):
            raise refuse(self.message)
        return value


class _IdNumber(Rule):
    """A resident ID-card number, upper case without spaces; "" when blank."""

    schema = {"type": "string", "maxLength": 18}

    def blank(self):
        return ""

    def parse(self, value, context):
        if not isinstance(value, str):
            raise refuse(N_("An ID-card number has 17 digits and then a digit or X."))
        number = idcard.normalise(value)
        if not idcard.PATTERN.match(number):
            raise refuse(N_("An ID-card number has 17 digits and then a digit or X."))
        if not idcard.is_valid(number):
            raise refuse(N_("This ID-card number is not valid: check every digit."))
        return number


Mobile = Annotated[
    str | None,
    _Phone(landline=False, message=N_("Enter an 11-digit mobile number starting with 1.")),
]
AnyPhone = Annotated[
    str | None,
    _Phone(
        landline=True,
        message=N_("Enter an 11-digit mobile number or a landline with its area code."),
    ),
]
CHOOSE = N_("Choose from the list.")
DATE_REQUIRED = N_("Enter a date.")


class PersonForm(Model):
    """A person's details as the registration and edit forms post them."""

    name: Text(60, required=N_("Enter her name."))
    id_number: Annotated[str, _IdNumber(message=N_("Enter the ID-card number."))] = ""
    date_of_birth: Day(implausible=N_("This date of birth is not plausible.")) = None
    phone: Mobile = None
    address: Text(300) = ""
    facility: Text(120) = ""
    admission_date: Day() = None
    release_date: Day(required=DATE_REQUIRED)
    support_path: Choice(SupportPath, CHOOSE) = None
    risk_level: Choice(RiskLevel, CHOOSE) = None
    contact_name: Text(60) = ""
    contact_relation: Text(30) = ""
    contact_phone: AnyPhone = None


class ContactForm(Model):
    """A correction of her phone, her address or both; a field not sent stays as it is."""

    phone: Mobile = None
    address: Text(300) = ""


class ConsentForm(Model):
    """A version of the support application."""

    signed_on: Day(required=DATE_REQUIRED)
    consents: Choices(CONSENT_KEYS, CHOOSE) = []
    help_requested: Choices(HELP_AREAS, CHOOSE) = []
    preferred_contact_times: Text(200) = ""


class _PlanFields(Model):
    goals: Text(4000, single_line=False) = ""
    focus_areas: Choices(FOCUS_AREAS, CHOOSE) = []
    contact_kinds: Choices(PLANNED_KINDS, CHOOSE) = []
    review_on: Day() = None


UNTIL = Whole(1, 3650, N_("A phase ends after 1 to 3650 days since release."))
EVERY = Whole(1, 365, N_("Every phase needs an interval of 1 to 365 days."))
# the cadence arrives as `until_day_N` / `every_days_N` pairs, one pair per phase
PlanForm = create_model(
    "PlanForm",
    __base__=_PlanFields,
    __doc__="A version of the support plan.",
    **{f"until_day_{i}": (UNTIL, None) for i in range(MAX_PHASES)},
    **{f"every_days_{i}": (EVERY, None) for i in range(MAX_PHASES)},
)


class StatusForm(Model):
    """A status change: the new status, why, and from when."""

    to_status: Choice(STATUS_TARGETS, CHOOSE, required=CHOOSE)
    reason: Choice(CloseReason, N_("Say why the ledger is closed.")) = None
    note: Text(300) = ""
    effective_on: Day(required=DATE_REQUIRED)


def _checked(model, data: Mapping, *, rename=None):
    """The form as `model` types it, or `Invalid` naming every field that is wrong."""
    form, errors = validate(model, data)
    if form is None:
        errors = {(rename(name) if rename else name): m for name, m in errors.items()}
        raise Invalid(first_errors(errors))
    return form


def clean_person(data: Mapping, *, today: date, id_required: bool = True) -> dict:
    """A person's details from a registration or edit form.

    On an edit the ID-card number may be left blank (`id_required=False`): it stays as it is.
    """
    form = _checked(PersonForm, data)
    errors: dict[str, str] = {}
    if not form.id_number and id_required:
        errors["id_number"] = N_("Enter the ID-card number.")
    born, released, admitted = form.date_of_birth, form.release_date, form.admission_date
    id_born = idcard.birth_date(form.id_number) if form.id_number else None
    born = born or id_born
    if born is not None:
        age = (today - born).days // 365.25
        if born > today or not YOUNGEST <= age <= OLDEST:
            errors["date_of_birth"] = N_("This date of birth is not plausible.")
        elif id_born is not None and born != id_born:
            errors["date_of_birth"] = N_("The date of birth differs from the one in the ID number.")
    if admitted and admitted > today:
        errors["admission_date"] = N_("The admission date cannot be in the future.")
    if admitted and released <= admitted:
        errors["release_date"] = N_("The release date must be after the admission date.")
    if born and released <= born:
        errors["release_date"] = N_("The release date must be after the date of birth.")
    contact = {"name": form.contact_name, "relation": form.contact_relation}
    contact["phone"] = form.contact_phone
    if contact["phone"] and not contact["name"]:
        errors["contact_name"] = N_("Enter the name of the emergency contact.")
    if errors:
        raise Invalid(errors)
    return {
        "name": form.name,
        "id_number": form.id_number,
        "date_of_birth": born,
        "phone": form.phone,
        "address": form.address or None,
        "emergency_contacts": [contact] if contact["name"] else [],
        "facility": form.facility or None,
        "admission_date": admitted,
        "release_date": released,
        "support_path": form.support_path or SupportPath.return_to_society.value,
        "risk_level": form.risk_level or RiskLevel.low.value,
    }


def clean_contact(data: Mapping) -> dict:
    """A correction of her phone, her address or both: only the fields sent change."""
    form = _checked(ContactForm, data)
    cleaned = {name: getattr(form, name) for name in ("phone", "address") if name in data}
    if "address" in cleaned:
        cleaned["address"] = cleaned["address"] or None
    if not cleaned:
        raise Invalid({"phone": N_("Enter her phone number or her address.")})
    return cleaned


def clean_consent(data: Mapping, *, today: date) -> dict:
    """A version of the support application."""
    form = _checked(ConsentForm, data)
    errors: dict[str, str] = {}
    if form.signed_on > today:
        errors["signed_on"] = N_("The date signed cannot be in the future.")
    if not form.consents:
        errors["consents"] = N_(
            "Tick at least one thing she consents to; to end support, withdraw consent."
        )
    if errors:
        raise Invalid(errors)
    return {
        "signed_on": form.signed_on,
        "consents": {key: key in form.consents for key in CONSENT_KEYS},
        "help_requested": form.help_requested,
        "preferred_contact_times": form.preferred_contact_times,
    }


def _cadence(form) -> tuple[list[dict], str | None]:
    """Phases from `until_day_N` / `every_days_N` pairs; the last phase has no end."""
    phases: list[dict] = []
    for index in range(MAX_PHASES):
        until, every = getattr(form, f"until_day_{index}"), getattr(form, f"every_days_{index}")
        if until is None and every is None:
            continue
        if every is None:
            return phases, N_("Every phase needs an interval of 1 to 365 days.")
        phases.append({"until_day": until, "every_days": every})
    ends = [phase["until_day"] for phase in phases]
    if not phases:
        return phases, N_("Give at least one phase of follow-up.")
    if ends[-1] is not None or None in ends[:-1] or ends[:-1] != sorted(set(ends[:-1])):
        return phases, N_(
            "Phases must end in increasing order, and only the last one runs without end."
        )
    return phases, None


def _phase_field(name: str) -> str:
    return "cadence" if name.startswith(("until_day_", "every_days_")) else name


def clean_plan(data: Mapping, *, today: date) -> dict:
    """A version of the support plan."""
    form = _checked(PlanForm, data, rename=_phase_field)
    errors: dict[str, str] = {}
    if form.review_on and form.review_on < today:
        errors["review_on"] = N_("The review date cannot be in the past.")
    if not form.contact_kinds:
        errors["contact_kinds"] = N_("Plan at least one kind of contact.")
    cadence, problem = _cadence(form)
    if problem:
        errors["cadence"] = problem
    if errors:
        raise Invalid(errors)
    return {
        "goals": form.goals,
        "focus_areas": form.focus_areas,
        "cadence": cadence,
        "contact_kinds": form.contact_kinds,
        "review_on": form.review_on,
    }


def clean_status(data: Mapping, *, current: str, today: date) -> dict:
    """A status change: the new status, why, and from when."""
    form = _checked(StatusForm, data)
    errors: dict[str, str] = {}
    closing = form.to_status == PersonStatus.closed
    if form.to_status == current:
        errors["to_status"] = N_("She already has this status.")
    if closing and form.reason is None:
        errors["reason"] = N_("Say why the ledger is closed.")
    if not form.note and not closing:
        errors["note"] = N_("Give the reason for the change.")
    if form.effective_on > today:
        errors["effective_on"] = N_("The date cannot be in the future.")
    if errors:
        raise Invalid(errors)
    reason = form.reason if closing else ""
    return {
        "to_status": form.to_status,
        "reason": reason,
        "note": form.note,
        "effective_on": form.effective_on,
    }
