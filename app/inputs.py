"""Typed inputs that forms and the API share: annotated types for pydantic models, and
one way to turn what pydantic refused into {field: [message]}. No Flask in here.

Forms post text (and lists through getlist); the offline outbox sends the same fields as
JSON strings and lists of strings; an API client may send JSON numbers. Each type below
accepts exactly those shapes and nothing else: an object is never turned into text, a
bool is never a number. Models using them are strict (`Model`), so any other field
refuses to coerce too. Messages are English source strings marked with `N_`; the view
translates them.
"""

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError, core_schema

from app.accounts import N_

ERROR_TYPE = "clover_input"
TEXT = N_("Enter text here.")
NUL = N_("This text contains a NUL character, which cannot be saved. Remove it.")
SURROGATE = N_("This text contains a broken character (half of an emoji pair). Retype it.")
TOO_LONG = N_("This is too long.")
NUMBER = N_("Enter a whole number.")
CHOICE = N_("Choose only from the list.")
DATE = N_("Enter a date as YYYY-MM-DD.")
IMPLAUSIBLE_DATE = N_("This date is not plausible.")
IDENTIFIER = N_("This is not a valid identifier.")
REQUIRED = N_("This field is required.")
UNREADABLE = N_("The data sent could not be read.")
# pydantic's own error types (fields typed with plain Python types), by what they mean
GENERIC = {
    "missing": REQUIRED,
    "string_type": TEXT,
    "int_type": NUMBER,
    "int_parsing": NUMBER,
    "int_from_float": NUMBER,
    "greater_than_equal": N_("This number is out of range."),
    "less_than_equal": N_("This number is out of range."),
    "literal_error": CHOICE,
    "enum": CHOICE,
    "list_type": CHOICE,
    "uuid_type": IDENTIFIER,
    "uuid_parsing": IDENTIFIER,
    "dict_type": N_("Send an object here."),
    "model_type": N_("Send an object here."),
}
DIGITS = re.compile(r"^\s*[0-9]{1,9}\s*$")
SURROGATES = re.compile("[\ud800-\udfff]")
DAY = re.compile(r"^[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}$")
OLDEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2100, 12, 31)


class Model(BaseModel):
    """A strict input model: no coercion, unknown fields (a CSRF token, a button) ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def refuse(message: str) -> PydanticCustomError:
    """The error a rule raises: its message is shown as it is (translated by the view)."""
    return PydanticCustomError(ERROR_TYPE, message)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Rule:
    """An annotated type's validator and JSON schema; `required` is the message for blank."""

    schema: dict = {}

    def __init__(self, *, message: str, required: str | None = None):
        self.message, self.required = message, required

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.with_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(self, _core_schema, _handler):
        if self.required:
            return dict(self.schema)
        # a form's empty field, or JSON null: the field is blank
        options = self.schema.get("anyOf", [self.schema])
        return {"anyOf": [*options, {"const": ""}, {"type": "null"}]}

    def validate(self, value, info):
        if _blank(value):
            if self.required:
                raise refuse(self.required)
            return self.blank()
        return self.parse(value, info.context or {})

    def blank(self):
        return None

    def parse(self, value, context: Mapping):
        raise NotImplementedError


class _Text(Rule):
    def __init__(self, max_length: int, *, single_line: bool, too_long: str, **kwargs):
        super().__init__(message=TEXT, **kwargs)
        self.max_length, self.single_line, self.too_long = max_length, single_line, too_long
        self.schema = {"type": "string", "maxLength": max_length}

    def __get_pydantic_json_schema__(self, _core_schema, _handler):
        return dict(self.schema) if self.required else {**self.schema, "type": ["string", "null"]}

    def blank(self):
        return ""

    def parse(self, value, context):
        if not isinstance(value, str):
            raise refuse(self.message)
        if "\x00" in value:
            raise refuse(NUL)
        if SURROGATES.search(value):
            raise refuse(SURROGATE)
        value = " ".join(value.split()) if self.single_line else value.strip()
        if len(value) > self.max_length:
            raise refuse(self.too_long)
        return value


def Text(  # noqa: N802 - reads as a type in an annotation
    max_length: int,
    *,
    single_line: bool = True,
    required: str | None = None,
    too_long: str = TOO_LONG,
):
    """Text of at most `max_length` characters, stripped; "" when blank or missing.

    A single line has its runs of whitespace made one space; a note keeps its lines.
    """
    rule = _Text(max_length, single_line=single_line, too_long=too_long, required=required)
    return Annotated[str, rule]


class _Whole(Rule):
    def __init__(self, low: int, high: int, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = low, high
        self.schema = {
            "anyOf": [
                {"type": "integer", "minimum": low, "maximum": high},
                {"type": "string", "pattern": DIGITS.pattern},
            ]
        }

    def parse(self, value, context):
        # a bool is an int in Python, never a number here; nor is 4.0 or "4.5"
        if type(value) is int:
            number = value
        elif isinstance(value, str) and DIGITS.match(value):
            number = int(value)
        else:
            raise refuse(self.message)
        if not self.low <= number <= self.high:
            raise refuse(self.message)
        return number


def Whole(low: int, high: int, message: str = NUMBER, *, required: str | None = None):  # noqa: N802
    """A whole number in [low, high]: a JSON integer or a form's digits; None when blank."""
    rule = _Whole(low, high, message=message, required=required)
    return Annotated[int, rule] if required else Annotated[int | None, rule]


def _values(allowed: type[Enum] | Iterable[str]) -> tuple[str, ...]:
    return tuple(str(getattr(v, "value", v)) for v in allowed)


class _Choice(Rule):
    def __init__(self, allowed, **kwargs):
        super().__init__(**kwargs)
        self.allowed = _values(allowed)
        self.schema = {"type": "string", "enum": list(self.allowed)}

    def parse(self, value, context):
        if not isinstance(value, str) or value not in self.allowed:
            raise refuse(self.message)
        return value


def Choice(allowed, message: str = CHOICE, *, required: str | None = None):  # noqa: N802
    """One value of an enum (or a tuple of codes), as its text; None when blank."""
    rule = _Choice(allowed, message=message, required=required)
    return Annotated[str, rule] if required else Annotated[str | None, rule]


class _Choices(Rule):
    def __init__(self, allowed, **kwargs):
        super().__init__(**kwargs)
        self.allowed = _values(allowed)
        item = {"type": "string", "enum": list(self.allowed)}
        self.schema = {"anyOf": [{"type": "array", "items": item}, item]}

    def blank(self):
        return []

    def parse(self, value, context):
        # a form's single checkbox arrives as one string
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise refuse(self.message)
        chosen = {v for v in values if v.strip()}
        if not chosen <= set(self.allowed):
            raise refuse(self.message)
        # in the vocabulary's order, so the same choices always compare equal
        return [v for v in self.allowed if v in chosen]


def Choices(allowed, message: str = CHOICE):  # noqa: N802
    """Values of an enum (or a tuple of codes): a list of strings, or one string; [] when blank."""
    return Annotated[list[str], _Choices(allowed, message=message)]


class _Day(Rule):
    def __init__(self, low: date, high: date, *, implausible: str, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high, self.implausible = low, high, implausible
        self.schema = {"type": "string", "format": "date"}

    def parse(self, value, context):
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value
        elif isinstance(value, str) and DAY.match(value.strip()):
            try:
                day = date.fromisoformat(value.strip().replace("/", "-"))
            except ValueError:
                raise refuse(self.message) from None
        else:
            raise refuse(self.message)
        if not self.low <= day <= self.high:
            raise refuse(self.implausible)
        return day


def Day(  # noqa: N802
    message: str = DATE,
    *,
    low: date = OLDEST_DAY,
    high: date = LATEST_DAY,
    implausible: str = IMPLAUSIBLE_DATE,
    required: str | None = None,
):
    """A date as a `date` or ISO text (YYYY-MM-DD), within [low, high]; None when blank."""
    rule = _Day(low, high, implausible=implausible, message=message, required=required)
    return Annotated[date, rule] if required else Annotated[date | None, rule]


class _Moment(Rule):
    def __init__(self, earliest: date, *, too_early: str, future: str, skew: timedelta, **kwargs):
        super().__init__(**kwargs)
        self.earliest, self.too_early, self.future, self.skew = earliest, too_early, future, skew
        self.schema = {
            "type": "string",
            "description": "ISO 8601 date and time; without an offset, the officer's local time.",
            "examples": ["2026-06-15T10:30", "2026-06-15T02:30:00Z"],
        }

    def parse(self, value, context):
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise refuse(self.message) from None
        else:
            raise refuse(self.message)
        # bounded before any time-zone arithmetic, which overflows in year 1 or 9999
        if moment.date() < self.earliest:
            raise refuse(self.too_early)
        if moment.date() > LATEST_DAY:
            raise refuse(self.future)
        if moment.tzinfo is None:
            # a datetime-local input: the wall clock where the officer works
            moment = moment.replace(tzinfo=ZoneInfo(context.get("timezone", "UTC")))
        moment = moment.astimezone(UTC).replace(microsecond=0)
        now = context.get("now")
        if now is not None and moment > now + self.skew:
            raise refuse(self.future)
        return moment


def Moment(  # noqa: N802
    message: str,
    *,
    earliest: date,
    too_early: str,
    future: str,
    skew: timedelta,
    required: str | None = None,
):
    """An aware UTC moment from a datetime or ISO text, not before `earliest` nor after
    the validation context's `now` plus `skew`; text without an offset is local time in
    the context's `timezone`."""
    rule = _Moment(
        earliest, too_early=too_early, future=future, skew=skew, message=message, required=required
    )
    return Annotated[datetime, rule] if required else Annotated[datetime | None, rule]


class _Uuid(Rule):
    schema = {"type": "string", "format": "uuid"}

    def parse(self, value, context):
        if isinstance(value, UUID):
            return value
        if isinstance(value, str) and len(value) <= 64:
            try:
                return UUID(value.strip())
            except ValueError:
                pass
        raise refuse(self.message)


def Uuid(message: str = IDENTIFIER, *, required: str | None = None):  # noqa: N802
    """A UUID, or its text; None when blank."""
    rule = _Uuid(message=message, required=required)
    return Annotated[UUID, rule] if required else Annotated[UUID | None, rule]


def _rule(model: type[BaseModel] | None, name: str) -> Rule | None:
    field = model.model_fields.get(name) if model is not None else None
    return next((m for m in field.metadata if isinstance(m, Rule)), None) if field else None


def field_errors(
    error: ValidationError,
    model: type[BaseModel] | None = None,
    messages: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """What pydantic refused, as {field: [message]}: one message per field, untranslated.

    A rule's own message comes first; then `messages` for a field typed without a rule;
    then a generic one by the kind of error. The input as a whole is `_form`.
    """
    errors: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False, include_context=False, include_input=False):
        name = str(problem["loc"][0]) if problem["loc"] else "_form"
        rule = _rule(model, name)
        if problem["type"] == ERROR_TYPE:
            message = problem["msg"]
        elif messages and name in messages:
            message = messages[name]
        elif problem["type"] == "missing" and rule is not None:
            message = rule.required or REQUIRED
        elif name == "_form":
            message = UNREADABLE
        else:
            message = GENERIC.get(problem["type"], N_("This value is not valid."))
        if message not in errors.setdefault(name, []):
            errors[name].append(message)
    return errors


def validate(
    model: type[BaseModel], data: Any, *, context: Mapping | None = None, messages=None
) -> tuple[BaseModel | None, dict[str, list[str]]]:
    """The model made from `data`, or None and the errors {field: [message]}."""
    try:
        return model.model_validate(data, context=dict(context or {})), {}
    except ValidationError as error:
        return None, field_errors(error, model, messages)


def first_errors(errors: Mapping[str, list[str]]) -> dict[str, str]:
    """One message per field, for the forms that show one: {field: message}."""
    return {name: messages[0] for name, messages in errors.items() if messages}
