"""Typed inputs: what issue 9 sent to break the server is refused, field by field, in her
language, through the sync push API and the forms, and nothing of it is stored."""

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pydantic import ValidationError
from sqlmodel import select

from app.inputs import Choice, Choices, Day, Model, Text, Uuid, Whole, field_errors
from app.models import AuditEvent, Person, Visit, VisitKind
from tests.conftest import csrf_from
from tests.sync_world import contact_item, count, create_item, edit_item, fresh

CATALOG = Path(__file__).parent.parent / "app/translations/zh_Hans/LC_MESSAGES/messages.po"
with CATALOG.open("rb") as po:
    ZH = {message.id: message.string for message in read_po(po) if message.id}


def zh(msgid: str) -> str:
    """The Chinese an officer reads for an English source message."""
    assert ZH.get(msgid), f"no translation for {msgid!r}"
    return ZH[msgid]


MOBILE = "Enter an 11-digit mobile number starting with 1."
NUL = "This text contains a NUL character, which cannot be saved. Remove it."
SURROGATE = "This text contains a broken character (half of an emoji pair). Retype it."


KIND = "Choose what kind of contact this was."


class Sample(Model):
    note: Text(10) = ""
    mood: Whole(1, 5, "Mood is a number from 1 to 5.") = None
    kind: Choice(VisitKind, KIND, required=KIND)
    flags: Choices(("a", "b", "c")) = []
    day: Day() = None
    ref: Uuid() = None


def errors_for(**data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate({"kind": "talk", **data})
    return field_errors(caught.value, Sample)


REF = "6f1c3c9e-5a7a-4d43-9d0e-0d2a8f5b1e11"


@pytest.mark.parametrize(
    ("data", "clean"),
    [
        ({"note": "  two\n  lines "}, {"note": "two lines"}),
        ({"note": None}, {"note": ""}),
        ({"mood": "4"}, {"mood": 4}),
        ({"mood": 4}, {"mood": 4}),
        ({"mood": " 5 "}, {"mood": 5}),
        ({"mood": ""}, {"mood": None}),
        ({"flags": "b"}, {"flags": ["b"]}),
        ({"flags": ["c", "a", "c", ""]}, {"flags": ["a", "c"]}),
        ({"flags": ""}, {"flags": []}),
        ({"day": "2026-06-01"}, {"day": date(2026, 6, 1)}),
        ({"day": date(2026, 6, 1)}, {"day": date(2026, 6, 1)}),
        ({"ref": REF}, {"ref": uuid.UUID(REF)}),
        ({"ref": uuid.UUID(REF)}, {"ref": uuid.UUID(REF)}),
    ],
)
def test_the_shapes_a_form_or_the_outbox_sends_are_accepted(data, clean):
    parsed = Sample.model_validate({"kind": "talk", **data}).model_dump()
    assert {name: parsed[name] for name in clean} == clean


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"note": {"a": 1}}, "note", "Enter text here."),
        ({"note": ["x"]}, "note", "Enter text here."),
        ({"note": 12}, "note", "Enter text here."),
        ({"note": "a\x00b"}, "note", NUL),
        ({"note": "\ud800"}, "note", SURROGATE),
        ({"note": "x" * 11}, "note", "This is too long."),
        ({"mood": True}, "mood", "Mood is a number from 1 to 5."),
        ({"mood": 4.0}, "mood", "Mood is a number from 1 to 5."),
        ({"mood": "4.5"}, "mood", "Mood is a number from 1 to 5."),
        ({"mood": "6"}, "mood", "Mood is a number from 1 to 5."),
        ({"mood": 2**63}, "mood", "Mood is a number from 1 to 5."),
        ({"mood": "9" * 5000}, "mood", "Mood is a number from 1 to 5."),
        ({"mood": "٤"}, "mood", "Mood is a number from 1 to 5."),
        ({"mood": {}}, "mood", "Mood is a number from 1 to 5."),
        ({"kind": ["talk"]}, "kind", "Choose what kind of contact this was."),
        ({"kind": ""}, "kind", "Choose what kind of contact this was."),
        ({"kind": None}, "kind", "Choose what kind of contact this was."),
        ({"flags": 3}, "flags", "Choose only from the list."),
        ({"flags": {"a": True}}, "flags", "Choose only from the list."),
        ({"flags": [1]}, "flags", "Choose only from the list."),
        ({"flags": ["d"]}, "flags", "Choose only from the list."),
        ({"day": "0001-01-01"}, "day", "This date is not plausible."),
        ({"day": "9999-12-31"}, "day", "This date is not plausible."),
        ({"day": "2026-02-30"}, "day", "Enter a date as YYYY-MM-DD."),
        ({"day": "2026-W01-1"}, "day", "Enter a date as YYYY-MM-DD."),
        ({"day": datetime(2026, 1, 1, tzinfo=UTC)}, "day", "Enter a date as YYYY-MM-DD."),
        ({"day": 20260101}, "day", "Enter a date as YYYY-MM-DD."),
        ({"ref": 7}, "ref", "This is not a valid identifier."),
        ({"ref": "nope"}, "ref", "This is not a valid identifier."),
    ],
)
def test_wrong_types_and_values_are_refused_with_their_message(data, field, message):
    assert errors_for(**data) == {field: [message]}


def test_a_missing_required_field_gets_its_own_message_and_a_non_object_one_for_the_form():
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate({})
    assert field_errors(caught.value, Sample) == {"kind": ["Choose what kind of contact this was."]}
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(["kind"])
    assert field_errors(caught.value, Sample) == {"_form": ["The data sent could not be read."]}


# -- through the sync push API, as a phone (or someone posing as one) sends it ------------

UNREADABLE = "This change could not be read."
# (case, how the visit.create item is spoiled, field, message)
BAD_VISITS = [
    ("kind as a list", {"kind": ["home_visit"]}, "kind", "Choose what kind of contact this was."),
    ("risk flags as a number", {"risk_flags": 3}, "risk_flags", "Choose only from the list."),
    ("risk flags unknown", {"risk_flags": ["bored"]}, "risk_flags", "Choose only from the list."),
    (
        "year 1",
        {"occurred_at": "0001-01-01T00:00"},
        "occurred_at",
        "A visit cannot be dated before 2000.",
    ),
    (
        "year 9999",
        {"occurred_at": "9999-12-31T23:59"},
        "occurred_at",
        "A visit cannot be in the future.",
    ),
    (
        "year 9999 west of UTC",
        {"occurred_at": "9999-12-31T23:59-12:00"},
        "occurred_at",
        "A visit cannot be in the future.",
    ),
    (
        "visit dated 1900",
        {"occurred_at": "1900-06-15T10:30"},
        "occurred_at",
        "A visit cannot be dated before 2000.",
    ),
    (
        "next contact in year 1",
        {"next_contact_on": "0001-01-01"},
        "next_contact_on",
        "This date is not plausible.",
    ),
    (
        "next contact in 9999",
        {"next_contact_on": "9999-12-31"},
        "next_contact_on",
        "This date is not plausible.",
    ),
    ("lone surrogate", {"notes": "好\ud800"}, "notes", SURROGATE),
    ("NUL byte", {"notes": "a\x00b"}, "notes", NUL),
    ("note as an object", {"notes": {"a": 1}}, "notes", "Enter text here."),
    ("actions as a list", {"agreed_actions": ["x"]}, "agreed_actions", "Enter text here."),
    ("mood as true", {"mood": True}, "mood", "Mood is a number from 1 to 5."),
    ("mood as a float", {"mood": 4.5}, "mood", "Mood is a number from 1 to 5."),
    ("craving past 10", {"craving": 11}, "craving", "Craving is a number from 0 to 10."),
    (
        "duration past 600",
        {"duration_minutes": "601"},
        "duration_minutes",
        "Enter the minutes as a whole number from 1 to 600.",
    ),
    (
        "duration 2**63",
        {"duration_minutes": 2**63},
        "duration_minutes",
        "Enter the minutes as a whole number from 1 to 600.",
    ),
    (
        "person as a list",
        {"person_id": ["x"]},
        "person_id",
        "Choose the person this visit is with.",
    ),
]


@pytest.fixture
def phone(sync_phone):
    return sync_phone


@pytest.mark.parametrize(
    ("spoil", "field", "message"), [c[1:] for c in BAD_VISITS], ids=[c[0] for c in BAD_VISITS]
)
def test_a_bad_visit_is_refused_in_her_language_and_the_next_item_is_saved(
    db, phone, sync_person, spoil, field, message
):
    bad, good = create_item(sync_person), create_item(sync_person)
    bad["data"].update(spoil)
    response = phone.push([bad, good])
    assert response.status_code == 200
    first, second = response.json["results"]
    assert first["status"] == "invalid"
    assert first["errors"] == {field: [zh(message)]}
    assert second["status"] == "created"
    assert [str(v.id) for v in db.exec(select(Visit)).all()] == [good["id"]]
    assert count(db, AuditEvent, AuditEvent.action == "visit_create") == 1


BAD_ENVELOPES = [
    (
        "base version 2**63",
        {"base_version": 2**63},
        "base_version",
        "This change does not say which version it corrects.",
    ),
    (
        "base version as text",
        {"base_version": "1"},
        "base_version",
        "This change does not say which version it corrects.",
    ),
    (
        "base version true",
        {"base_version": True},
        "base_version",
        "This change does not say which version it corrects.",
    ),
    (
        "base version zero",
        {"base_version": 0},
        "base_version",
        "This change does not say which version it corrects.",
    ),
    ("type as a list", {"type": ["visit.edit"]}, "type", "This kind of change is not known."),
    ("data as a list", {"data": [["notes", "x"]]}, "data", "This change has no content."),
    ("data as text", {"data": "notes=x"}, "data", "This change has no content."),
    ("id as a number", {"id": 12}, "id", "This change has no valid identifier."),
    ("record as an object", {"record_id": {}}, "record_id", "This change names no valid record."),
]


@pytest.mark.parametrize(
    ("spoil", "field", "message"),
    [c[1:] for c in BAD_ENVELOPES],
    ids=[c[0] for c in BAD_ENVELOPES],
)
def test_a_bad_envelope_changes_nothing(db, phone, sync_person, spoil, field, message):
    created = create_item(sync_person)
    assert phone.statuses([created]) == ["created"]
    bad = {**edit_item(created, 1, notes="改了"), **spoil}
    [result] = phone.push([bad]).json["results"]
    assert (result["status"], result["errors"]) == ("invalid", {field: [zh(message)]})
    visit = fresh(db, Visit, uuid.UUID(created["id"]))
    assert (visit.version, visit.notes) == (1, created["data"]["notes"])


def test_items_that_are_no_objects_are_refused_one_by_one(db, phone, sync_person):
    good = create_item(sync_person)
    response = phone.push([[1, 2], "visit", None, 7, good])
    statuses = [r["status"] for r in response.json["results"]]
    assert statuses == ["invalid"] * 4 + ["created"]
    assert response.json["results"][0]["errors"] == {"_form": [zh(UNREADABLE)]}
    assert count(db, Visit) == 1


BAD_CONTACTS = [
    ("phone as an empty object", {"phone": {}}, "phone", MOBILE),
    ("phone as a number", {"phone": 13812345678}, "phone", MOBILE),
    ("phone as a list", {"phone": ["13812345678"]}, "phone", MOBILE),
    ("phone with a NUL byte", {"phone": "138\x0012345678"}, "phone", MOBILE),
    ("address as an object", {"address": {"a": 1}}, "address", "Enter text here."),
    ("address with a lone surrogate", {"address": "重庆\udfff"}, "address", SURROGATE),
    ("address with a NUL byte", {"address": "重庆\x00"}, "address", NUL),
    ("address past its column", {"address": "路" * 301}, "address", "This is too long."),
]


@pytest.mark.parametrize(
    ("data", "field", "message"), [c[1:] for c in BAD_CONTACTS], ids=[c[0] for c in BAD_CONTACTS]
)
def test_a_bad_contact_correction_leaves_her_phone_and_address(
    db, phone, sync_person, data, field, message
):
    before = (sync_person.phone, sync_person.address, sync_person.version)
    [result] = phone.push([contact_item(sync_person, sync_person.version, **data)]).json["results"]
    assert (result["status"], result["errors"]) == ("invalid", {field: [zh(message)]})
    person = fresh(db, Person, sync_person.id)
    assert (person.phone, person.address, person.version) == before


# -- through the forms, as a browser posts them ------------------------------------------


def _post_visit(client, person, **changes):
    url = f"/people/{person.id}/visits/new"
    page = client.get(url).text
    data = create_item(person, **changes)["data"]
    data.pop("person_id")
    return client.post(url, data={**data, "csrf_token": csrf_from(page)})


BAD_FORMS = [
    ("year 1", {"occurred_at": "0001-01-01T00:00"}, "A visit cannot be dated before 2000."),
    (
        "visit dated 1900",
        {"occurred_at": "1900-06-15T10:30"},
        "A visit cannot be dated before 2000.",
    ),
    ("year 9999", {"occurred_at": "9999-12-31T23:59"}, "A visit cannot be in the future."),
    ("NUL byte", {"notes": "a\x00b"}, NUL),
    ("mood with a fraction", {"mood": "4.5"}, "Mood is a number from 1 to 5."),
]


@pytest.mark.parametrize(
    ("change", "message"), [c[1:] for c in BAD_FORMS], ids=[c[0] for c in BAD_FORMS]
)
def test_the_visit_form_refuses_what_the_api_refuses(
    client, auth, db, sync_officer, sync_person, change, message
):
    auth.login("officer1")
    response = _post_visit(client, sync_person, **change)
    assert response.status_code == 422
    assert zh(message) in response.text
    assert count(db, Visit) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phone": "138\x0012345678"}, MOBILE),
        ({"address": "重庆\x00"}, NUL),
    ],
)
def test_the_contact_form_refuses_a_nul_byte(
    client, auth, db, sync_officer, sync_person, data, message
):
    auth.login("officer1")
    url = f"/people/{sync_person.id}/contact"
    page = client.get(url).text
    form = {
        "phone": sync_person.phone,
        "address": "",
        "base_version": str(sync_person.version),
        "item_id": str(uuid.uuid4()),
        "csrf_token": csrf_from(page),
        **data,
    }
    response = client.post(url, data=form)
    assert response.status_code == 422
    assert zh(message) in response.text
    person = fresh(db, Person, sync_person.id)
    assert (person.phone, person.version) == (sync_person.phone, sync_person.version)


@pytest.mark.parametrize(
    ("notes", "message"),
    [({"a": 1}, "Enter text here."), ("a\x00b", NUL), ("\ud800", SURROGATE)],
    ids=["an object", "a NUL byte", "a lone surrogate"],
)
def test_a_bad_correction_of_a_visit_changes_nothing(db, phone, sync_person, notes, message):
    created = create_item(sync_person)
    assert phone.statuses([created]) == ["created"]
    [result] = phone.push([edit_item(created, 1, notes=notes)]).json["results"]
    assert (result["status"], result["errors"]) == ("invalid", {"notes": [zh(message)]})
    visit = fresh(db, Visit, uuid.UUID(created["id"]))
    assert (visit.version, visit.notes) == (1, created["data"]["notes"])
