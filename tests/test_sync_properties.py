"""Any batch a phone can send to /api/v1/sync/push: an answer per item, never a 5xx.

Hypothesis mixes valid visits with arbitrary JSON and with items whose envelope is right
but whose content is of the wrong type or out of range. Every valid item is saved once
(a resend in the same batch is a duplicate), every other item is invalid and changes
nothing, and the same batch sent again answers the same way.
"""

import itertools
import json
import uuid

from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.models import Person, SyncConflict, Visit, VisitVersion
from tests.factories import make_person
from tests.sync_world import count, create_item, edit_item

RESULT_KEYS = {
    "id",
    "status",
    "record_id",
    "version",
    "errors",
    "server",
    "conflict_id",
    "reference",
}
BIG = 2**63
LONG = "长" * 100_000
# a kind whose form asks for every field visit_data sends
FULL_KINDS = (
    "home_visit",
    "phone_consultation",
    "follow_up",
    "psychological_training",
    "family_therapy",
    "parent_child_counselling",
)
TEXT = st.text(
    alphabet=st.characters(categories=["L", "N", "Zs"], exclude_characters="\x00"),
    min_size=1,
    max_size=60,
).filter(str.strip)

# (field, value): each makes a visit invalid whatever else the item holds
VISIT_DEFECTS = [
    ("kind", ["home_visit"]),
    ("kind", {"a": 1}),
    ("kind", 1),
    ("risk_flags", 1),
    ("risk_flags", 3.5),
    ("risk_flags", {"a": 1}),
    ("occurred_at", "0001-01-01T00:00"),
    ("occurred_at", "9999-12-31T23:59"),
    ("occurred_at", "1900-06-15T10:30"),
    ("occurred_at", 20260615),
    ("occurred_at", ["2026-06-15T10:30"]),
    ("notes", "\ud800"),
    ("notes", "入户\udfff面谈"),
    ("notes", "a\x00b"),
    ("agreed_actions", "\x00"),
    ("notes", {"a": 1}),
    ("notes", ["入户"]),
    ("agreed_actions", {}),
    ("notes", LONG),
    ("location", {}),
    ("participants", 5),
    ("mood", "9"),
    ("mood", BIG),
    ("mood", [4]),
    ("craving", -1),
    ("duration_minutes", BIG),
    ("duration_minutes", -5),
    ("duration_minutes", {}),
    ("person_id", 12345),
    ("person_id", {"id": 1}),
]
# (field, value): each makes a contact correction invalid, whatever else it holds
CONTACT_DEFECTS = [
    ("phone", {}),
    ("phone", []),
    ("phone", {"a": 1}),
    ("phone", 13912345678),
    ("phone", "139\x0012345678"),
    ("phone", "\ud800"),
    ("phone", LONG),
    ("address", {"a": 1}),
    ("address", ["重庆"]),
    ("address", "重庆\x00"),
    ("address", "\udfff"),
    ("address", LONG),
]
BASE_DEFECTS = [BIG, -1, 0, "1", 1.5, [1], {"v": 1}, True]

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["\ud800", "a\x00b", "visit.create", "person.contact", "0001-01-01"])
)
json_values = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# arbitrary JSON, sometimes dressed as an item
junk = json_values | st.fixed_dictionaries(
    {"type": st.sampled_from(["visit.create", "visit.edit", "person.contact", "visit"])},
    optional={
        "id": json_values,
        "record_id": json_values,
        "base_version": json_values,
        "data": json_values,
    },
)

valid = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(FULL_KINDS),
        "occurred_at": st.integers(1, 28).map(lambda d: f"2026-06-{d:02d}T10:30"),
        "mood": st.integers(1, 5).map(str),
        "craving": st.integers(0, 10).map(str),
        "duration_minutes": st.integers(1, 600).map(str),
        "notes": TEXT,
    }
)
plan_step = st.one_of(
    st.tuples(st.just("valid"), valid),
    st.tuples(st.just("resend"), st.integers(0, 20)),
    st.tuples(st.just("junk"), junk),
    st.tuples(
        st.just("bad_create"), st.lists(st.sampled_from(VISIT_DEFECTS), min_size=1, max_size=3)
    ),
    st.tuples(
        st.just("bad_edit"), st.lists(st.sampled_from(VISIT_DEFECTS), min_size=1, max_size=2)
    ),
    st.tuples(st.just("bad_edit_base"), st.sampled_from(BASE_DEFECTS)),
    st.tuples(
        st.just("bad_contact"), st.lists(st.sampled_from(CONTACT_DEFECTS), min_size=1, max_size=2)
    ),
    st.tuples(st.just("bad_contact_base"), st.sampled_from(BASE_DEFECTS)),
)
plans = st.lists(plan_step, min_size=1, max_size=8)

SOME_VISIT = {
    "kind": "home_visit",
    "occurred_at": "2026-06-15T10:30",
    "mood": "3",
    "craving": "1",
    "duration_minutes": "30",
    "notes": "入户面谈",
}


def _every_visit_defect() -> list:
    steps = []
    for n, defect in enumerate(VISIT_DEFECTS):
        steps += [("bad_create", [defect]), ("bad_edit", [defect])]
        if n % 5 == 0:
            steps += [("valid", {**SOME_VISIT, "notes": f"第{n}条"}), ("resend", n)]
    return steps


def _every_other_defect() -> list:
    steps = [("valid", SOME_VISIT)]
    for base in BASE_DEFECTS:
        steps += [("bad_edit_base", base), ("bad_contact_base", base)]
    for defect in CONTACT_DEFECTS:
        steps += [("bad_contact", [defect]), ("resend", 0)]
    return steps


# besides what Hypothesis draws, every defect of the lists, each once
EVERY_DEFECT = [_every_visit_defect(), _every_other_defect()]


def rows(db, model, *where) -> dict:
    """The rows of a table as stored, by id: any change to any column shows."""
    db.commit()
    table = model.__table__
    result = db.connection().execute(select(table).where(*where))
    return {row.id: tuple(row) for row in result}


class Batch:
    """A plan made into items with fresh ids, and the answer each item should get."""

    def __init__(self, ids, home, other, kept):
        self.ids, self.home, self.other, self.kept = ids, home, other, kept
        self.items, self.expected, self.saved, self.ours = [], [], [], []

    def add(self, item, status: str, ours: bool = True) -> None:
        self.items.append(item)
        self.expected.append(status)
        self.ours.append(ours)  # built here, with a fresh UUID for its id

    def fresh(self, item: dict) -> dict:
        new_id = str(next(self.ids))
        item = {**item, "id": new_id, "data": {**item["data"], "id": new_id}}
        if item["type"] == "visit.create":
            item["record_id"] = new_id
        return item

    def step(self, kind: str, value) -> None:
        if kind == "valid":
            item = self.fresh(create_item(self.home, **value))
            self.saved.append(item)
            self.add(item, "created")
        elif kind == "resend" and self.saved:
            self.add(self.saved[value % len(self.saved)], "duplicate")
        elif kind == "junk":
            self.add(value, "invalid", ours=False)
        elif kind == "bad_create":
            self.add(self.fresh(create_item(self.other, **dict(value))), "invalid")
        elif kind == "bad_edit":
            item = edit_item(self.kept, 1, **dict(value))
            self.add({**item, "id": str(next(self.ids))}, "invalid")
        elif kind == "bad_edit_base":
            item = edit_item(self.kept, 1, notes="更正")
            self.add({**item, "id": str(next(self.ids)), "base_version": value}, "invalid")
        elif kind == "bad_contact":
            data = {"phone": "13912345678", "address": "重庆市渝中区", **dict(value)}
            self.add(self.contact(data, self.other.version), "invalid")
        elif kind == "bad_contact_base":
            self.add(self.contact({"phone": "13912345678"}, value), "invalid")

    def contact(self, data: dict, base) -> dict:
        return {
            "id": str(next(self.ids)),
            "type": "person.contact",
            "record_id": str(self.other.id),
            "base_version": base,
            "data": data,
        }


def _abridged(value):
    if isinstance(value, str) and len(value) > 40:
        return f"{value[:12]}...({len(value)} characters)"
    if isinstance(value, dict):
        return {k: _abridged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_abridged(v) for v in value]
    return value


def shown(value, limit: int = 1500) -> str:
    """Items as sent, long strings abridged, short enough to read in a failure."""
    text = json.dumps(_abridged(value), ensure_ascii=True)
    return text if len(text) <= limit else text[:limit] + "..."


def wrong_in(item, expected: str, ours: bool, result: dict) -> list[str]:
    """What is wrong with one item's answer; empty when it is right."""
    if set(result) != RESULT_KEYS:
        return [f"keys {sorted(result)}"]
    wrong = []
    if result["status"] != expected:
        wrong.append(f"status {result['status']!r}, not {expected!r}")
    # an item answers with its own id; junk may have none worth repeating
    if ours and result["id"] != item["id"]:
        wrong.append(f"id {result['id']!r}")
    if not ours and not (result["id"] is None or isinstance(result["id"], str)):
        wrong.append(f"id {result['id']!r}")
    if result["reference"] is not None and result["status"] != "error":
        wrong.append("a reference")
    if expected == "invalid":
        errors = result["errors"]
        if not errors or not all(
            isinstance(messages, list)
            and messages
            and all(isinstance(m, str) and m for m in messages)
            for messages in errors.values()
        ):
            wrong.append(f"errors {errors!r}")
        if result["conflict_id"] is not None:
            wrong.append("a conflict")
    elif (result["record_id"], result["version"], result["errors"]) != (item["id"], 1, {}):
        wrong.append(f"record {result['record_id']}, version {result['version']}")
    return wrong


def check_answers(batch: Batch, results: list, resent: bool) -> None:
    """Each item answered in order, as expected; every wrong answer listed if not."""
    assert len(results) == len(batch.items)
    answers = zip(batch.items, batch.expected, batch.ours, results, strict=True)
    wrong = []
    for n, (item, expected, ours, result) in enumerate(answers):
        status = "duplicate" if expected == "created" and resent else expected
        found = wrong_in(item, status, ours, result)
        if found:
            answer = {k: result.get(k) for k in ("status", "errors", "record_id", "version")}
            wrong.append(f"item {n} {shown(item)}: {'; '.join(found)}; answer {answer}")
    assert not wrong, "\n".join(["sent again:" if resent else "first sending:", *wrong])


def test_any_batch_answers_each_item_and_saves_each_valid_one_once(
    db, unit, sync_phone, sync_person, sync_officer
):
    home = sync_person  # valid visits are hers
    other = make_person(db, unit, sync_officer, name="王丽", address="重庆市江北区")
    kept = create_item(other, notes="原来的记录")
    assert sync_phone.statuses([kept]) == ["created"]
    ids = (uuid.UUID(int=n, version=4) for n in itertools.count(1))
    examples = []

    @settings(
        max_examples=120,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(plan=plans)
    @example(plan=EVERY_DEFECT[0])
    @example(plan=EVERY_DEFECT[1])
    def check(plan):
        batch = Batch(ids, home, other, kept)
        for kind, value in plan:
            batch.step(kind, value)
        note(f"batch: {shown(batch.items, limit=20_000)}")
        visits = rows(db, Visit)
        others = rows(db, Person, Person.id == other.id)
        versions, conflicts = count(db, VisitVersion), count(db, SyncConflict)
        for resent in (False, True):
            response = sync_phone.push(batch.items)
            assert response.status_code == 200, response.text[:2000]
            check_answers(batch, response.json["results"], resent)
            after = rows(db, Visit)
            # the visits there before are untouched; each new one is a valid item's, once
            assert {k: v for k, v in after.items() if k in visits} == visits
            assert {str(k) for k in after.keys() - visits.keys()} == {i["id"] for i in batch.saved}
            assert rows(db, Person, Person.id == other.id) == others
            assert count(db, VisitVersion) == versions
            assert count(db, SyncConflict) == conflicts
        examples.append(plan)

    check()
    # the run covered what it claims to: every kind of step, in some example
    steps = {kind for plan in examples for kind, _ in plan}
    assert steps >= {"valid", "resend", "junk", "bad_create", "bad_edit", "bad_contact"}


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_body_nested_a_thousand_levels_deep_is_a_bad_request(db, sync_phone):
    headers = {"X-CSRFToken": sync_phone.token, "Content-Type": "application/json"}
    bodies = [
        _nested(1000),
        '{"items": ' + _nested(1000) + "}",
        '{"items": [{"type": "visit.create", "data": ' + '{"a": ' * 1000 + "1" + "}" * 1001 + "]}",
    ]
    for body in bodies:
        response = sync_phone.client.post("/api/v1/sync/push", data=body, headers=headers)
        assert response.status_code == 400, (body[:40], response.status_code)
        assert response.json["error"] == "bad_request"
    assert count(db, Visit) == 0
