"""The OpenAPI document of /api/v1/ validates, lists exactly the routes, and fits real answers."""

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from app.contract import Outcome
from tests.sync_world import contact_item, create_item, edit_item

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def document(sync_phone):
    response = sync_phone.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def check(document: dict, schema_name: str, instance) -> None:
    """Validate an answer against a schema of the document, or fail with the reasons."""
    schema = {**document, "$ref": f"#/components/schemas/{schema_name}"}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(instance)]
    assert errors == []


def test_the_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_the_document_lists_exactly_the_api_routes(app, document):
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods & METHODS
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented == routes


def test_real_answers_fit_the_documented_schemas(document, sync_phone, sync_person):
    created = create_item(sync_person)
    items = [
        created,
        edit_item(created, 1, notes="更正"),
        edit_item(created, 1, notes="冲突"),
        contact_item(sync_person, 1, phone="12"),
        {"type": "nothing"},
    ]
    check(document, "PushRequest", {"items": items[:4]})
    pushed = sync_phone.push(items).json
    assert [r["status"] for r in pushed["results"]][:3] == ["created", "edited", "conflict"]
    check(document, "PushResponse", pushed)
    pulled = sync_phone.pull()
    check(document, "PullResponse", pulled)
    check(document, "PullResponse", sync_phone.pull(pulled["cursor"]))
    check(document, "OfflinePages", sync_phone.client.get("/api/v1/offline/pages").json)
    stale = sync_phone.client.post("/api/v1/sync/push", json={"items": []})
    check(document, "Error", stale.json)
    with pytest.raises(AssertionError):
        check(document, "PushResponse", {"results": [{"status": "lost"}]})


def test_the_item_schemas_are_the_models_the_server_validates_with(document, sync_person):
    schemas = document["components"]["schemas"]
    assert schemas["Item"]["properties"]["type"]["enum"] == [
        "visit.create",
        "visit.edit",
        "person.contact",
        "group.create",
        "group.edit",
    ]
    assert schemas["ItemResult"]["properties"]["status"]["enum"] == [o.value for o in Outcome]
    # what the outbox sends (form fields as text, lists of text) fits the document
    created = create_item(sync_person)
    check(document, "Item", created)
    check(document, "VisitData", created["data"])
    check(document, "VisitData", {**created["data"], "mood": 4, "risk_flags": "self_harm"})
    check(document, "ContactData", {"phone": "13912345678", "address": ""})
    for wrong in ({"kind": ["home_visit"]}, {"risk_flags": 3}, {"notes": {"a": 1}}):
        with pytest.raises(AssertionError):
            check(document, "VisitData", {**created["data"], **wrong})
    with pytest.raises(AssertionError):
        check(document, "Item", {**created, "base_version": 2**63})


def test_every_error_body_fits_the_documented_error(document, sync_phone, sync_person):
    client, token = sync_phone.client, {"X-CSRFToken": sync_phone.token}
    answers = {
        "pull with a cursor from year 1": client.get(
            "/api/v1/sync/pull", query_string={"cursor": "dDE6MDAwMS0wMS0wMVQwMDowMDowMCswMDowMA=="}
        ),
        "push without items": client.post("/api/v1/sync/push", json=[], headers=token),
        "push without a token": client.post("/api/v1/sync/push", json={"items": []}),
        "a subscription as an array": client.post(
            "/api/v1/push/subscriptions", json=[{"endpoint": "x"}], headers=token
        ),
        "a subscription of wrong types": client.post(
            "/api/v1/push/subscriptions", json={"endpoint": 1, "keys": "k"}, headers=token
        ),
    }
    for case, answer in answers.items():
        operation = document["paths"][answer.request.path][answer.request.method.lower()]
        assert str(answer.status_code) in operation["responses"], case
        check(document, "Error", answer.json)
        assert answer.json["error"] in {"bad_request", "csrf"} and answer.json["message"], case
