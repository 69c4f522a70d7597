"""Checking what is typed into a ledger: plain functions, English messages marked for translation.

Each `clean_*` takes raw form values (strings, lists of strings) and returns typed,
normalised values, or raises `Invalid` naming every field that is wrong. The same
functions serve a form post and any later API, so the rules cannot drift apart.
"""

import re
from collections.abc import Mapping
from datetime import date

from app import idcard
from app.accounts import N_
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


def _text(data: Mapping, name: str) -> str:
    return " ".join(str(data.get(name) or "").split())


def _date(value: str, errors: dict, field: str, *, required: bool = False) -> date | None:
    value = (value or "").strip().replace("/", "-")
    if not value:
        if required:
            errors[field] = N_("Enter a date.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = N_("Enter a date as YYYY-MM-DD.")
        return None


def _length(value: str, limit: int, errors: dict, field: str) -> str:
    if len(value) > limit:
        errors[field] = N_("This is too long.")
    return value


def _choices(values, allowed, errors: dict, field: str) -> list[str]:
    values = [v for v in dict.fromkeys(values or []) if v]
    if any(v not in allowed for v in values):
        errors[field] = N_("Choose from the list.")
    return [v for v in values if v in allowed]


def _phone(value: str, errors: dict, field: str, *, landline: bool = False) -> str | None:
    value = re.sub(r"[\s()]", "", value or "").removeprefix("+86")
    if not value:
        return None
    if not (MOBILE.match(value) or (landline and LANDLINE.match(value))):
        errors[field] = (
            N_("Enter an 11-digit mobile number or a landline with its area code.")
            if landline
            else N_("Enter an 11-digit mobile number starting with 1.")
        )
    return value


def clean_person(data: Mapping, *, today: date, id_required: bool = True) -> dict:
    """A person's details from a registration or edit form.

    On an edit the ID-card number may be left blank (`id_required=False`): it stays as it is.
    """
    errors: dict[str, str] = {}
    name = _length(_text(data, "name"), 60, errors, "name")
    if not name:
        errors["name"] = N_("Enter her name.")
    id_number = idcard.normalise(data.get("id_number", ""))
    if not id_number:
        if id_required:
            errors["id_number"] = N_("Enter the ID-card number.")
    elif not idcard.PATTERN.match(id_number):
        errors["id_number"] = N_("An ID-card number has 17 digits and then a digit or X.")
    elif not idcard.is_valid(id_number):
        errors["id_number"] = N_("This ID-card number is not valid: check every digit.")
    born = _date(data.get("date_of_birth", ""), errors, "date_of_birth")
    id_born = idcard.birth_date(id_number) if id_number and "id_number" not in errors else None
    if born is None and id_born is not None and "date_of_birth" not in errors:
        born = id_born
    if born is not None and "date_of_birth" not in errors:
        age = (today - born).days // 365.25
        if born > today or not YOUNGEST <= age <= OLDEST:
            errors["date_of_birth"] = N_("This date of birth is not plausible.")
        elif id_born is not None and born != id_born:
            errors["date_of_birth"] = N_("The date of birth differs from the one in the ID number.")
    admitted = _date(data.get("admission_date", ""), errors, "admission_date")
    released = _date(data.get("release_date", ""), errors, "release_date", required=True)
    if admitted and admitted > today:
        errors["admission_date"] = N_("The admission date cannot be in the future.")
    if admitted and released and released <= admitted:
        errors["release_date"] = N_("The release date must be after the admission date.")
    if born and released and released <= born:
        errors["release_date"] = N_("The release date must be after the date of birth.")
    support_path = data.get("support_path") or SupportPath.return_to_society
    if support_path not in set(SupportPath):
        errors["support_path"] = N_("Choose from the list.")
    risk_level = data.get("risk_level") or RiskLevel.low
    if risk_level not in set(RiskLevel):
        errors["risk_level"] = N_("Choose from the list.")
    contact = {
        "name": _length(_text(data, "contact_name"), 60, errors, "contact_name"),
        "relation": _length(_text(data, "contact_relation"), 30, errors, "contact_relation"),
        "phone": _phone(data.get("contact_phone", ""), errors, "contact_phone", landline=True),
    }
    if contact["phone"] and not contact["name"]:
        errors["contact_name"] = N_("Enter the name of the emergency contact.")
    cleaned = {
        "name": name,
        "id_number": id_number,
        "date_of_birth": born,
        "phone": _phone(data.get("phone", ""), errors, "phone"),
        "address": _length(_text(data, "address"), 300, errors, "address") or None,
        "emergency_contacts": [contact] if contact["name"] else [],
        "facility": _length(_text(data, "facility"), 120, errors, "facility") or None,
        "admission_date": admitted,
        "release_date": released,
        "support_path": support_path,
        "risk_level": risk_level,
    }
    if errors:
        raise Invalid(errors)
    return cleaned


def clean_contact(data: Mapping) -> dict:
    """A correction of her phone, her address or both: only the fields sent change."""
    errors: dict[str, str] = {}
    cleaned = {}
    if "phone" in data:
        cleaned["phone"] = _phone(str(data.get("phone") or ""), errors, "phone")
    if "address" in data:
        cleaned["address"] = _length(_text(data, "address"), 300, errors, "address") or None
    if not cleaned:
        errors["phone"] = N_("Enter her phone number or her address.")
    if errors:
        raise Invalid(errors)
    return cleaned


def clean_consent(data: Mapping, *, today: date) -> dict:
    """A version of the support application."""
    errors: dict[str, str] = {}
    signed_on = _date(data.get("signed_on", ""), errors, "signed_on", required=True)
    if signed_on and signed_on > today:
        errors["signed_on"] = N_("The date signed cannot be in the future.")
    agreed = _choices(data.get("consents"), CONSENT_KEYS, errors, "consents")
    if not agreed and "consents" not in errors:
        errors["consents"] = N_(
            "Tick at least one thing she consents to; to end support, withdraw consent."
        )
    cleaned = {
        "signed_on": signed_on,
        "consents": {key: key in agreed for key in CONSENT_KEYS},
        "help_requested": _choices(
            data.get("help_requested"), HELP_AREAS, errors, "help_requested"
        ),
        "preferred_contact_times": _length(
            _text(data, "preferred_contact_times"), 200, errors, "preferred_contact_times"
        ),
    }
    if errors:
        raise Invalid(errors)
    return cleaned


def _cadence(data: Mapping, errors: dict) -> list[dict]:
    """Phases from `until_day_N` / `every_days_N` pairs; the last phase has no end."""
    phases: list[dict] = []
    for index in range(MAX_PHASES):
        until = str(data.get(f"until_day_{index}") or "").strip()
        every = str(data.get(f"every_days_{index}") or "").strip()
        if not until and not every:
            continue
        if not every.isdigit() or not 1 <= int(every) <= 365:
            errors["cadence"] = N_("Every phase needs an interval of 1 to 365 days.")
            return phases
        if until and (not until.isdigit() or not 1 <= int(until) <= 3650):
            errors["cadence"] = N_("A phase ends after 1 to 3650 days since release.")
            return phases
        phases.append({"until_day": int(until) if until else None, "every_days": int(every)})
    ends = [phase["until_day"] for phase in phases]
    if not phases:
        errors["cadence"] = N_("Give at least one phase of follow-up.")
    elif ends[-1] is not None or None in ends[:-1] or ends[:-1] != sorted(set(ends[:-1])):
        errors["cadence"] = N_(
            "Phases must end in increasing order, and only the last one runs without end."
        )
    return phases


def clean_plan(data: Mapping, *, today: date) -> dict:
    """A version of the support plan."""
    errors: dict[str, str] = {}
    review_on = _date(data.get("review_on", ""), errors, "review_on")
    if review_on and review_on < today:
        errors["review_on"] = N_("The review date cannot be in the past.")
    kinds = _choices(data.get("contact_kinds"), PLANNED_KINDS, errors, "contact_kinds")
    if not kinds and "contact_kinds" not in errors:
        errors["contact_kinds"] = N_("Plan at least one kind of contact.")
    cleaned = {
        "goals": _length(str(data.get("goals") or "").strip(), 4000, errors, "goals"),
        "focus_areas": _choices(data.get("focus_areas"), FOCUS_AREAS, errors, "focus_areas"),
        "cadence": _cadence(data, errors),
        "contact_kinds": kinds,
        "review_on": review_on,
    }
    if errors:
        raise Invalid(errors)
    return cleaned


def clean_status(data: Mapping, *, current: str, today: date) -> dict:
    """A status change: the new status, why, and from when."""
    errors: dict[str, str] = {}
    to_status = data.get("to_status") or ""
    if to_status not in STATUS_TARGETS:
        errors["to_status"] = N_("Choose from the list.")
    elif to_status == current:
        errors["to_status"] = N_("She already has this status.")
    reason = data.get("reason") or ""
    if to_status == PersonStatus.closed and reason not in set(CloseReason):
        errors["reason"] = N_("Say why the ledger is closed.")
    elif to_status != PersonStatus.closed:
        reason = ""
    note = _length(_text(data, "note"), 300, errors, "note")
    if not note and to_status != PersonStatus.closed:
        errors["note"] = N_("Give the reason for the change.")
    effective_on = _date(data.get("effective_on", ""), errors, "effective_on", required=True)
    if effective_on and effective_on > today:
        errors["effective_on"] = N_("The date cannot be in the future.")
    if errors:
        raise Invalid(errors)
    return {"to_status": to_status, "reason": reason, "note": note, "effective_on": effective_on}
