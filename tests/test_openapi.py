"""The OpenAPI document of /api/v1/ validates, lists exactly the routes, and fits real answers."""

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

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
