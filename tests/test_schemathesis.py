"""Every operation of /api/v1/openapi.json, driven by schemathesis as a signed-in officer.

The app runs in-process (WSGI) on the test database, one fresh app per operation.
Schemathesis signs each case in with the cookie and CSRF token of a real session (in
its `before_call` hook), sends what the document allows and what it does not, and
checks that no answer is a server error, that each status code is documented and that
each body fits its documented schema.

The schema is built when the module loads, from the same function that serves the
document (schemathesis' fixture-based loader does not run on pytest 9); each test first
checks that the app serves exactly that document.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from app.sync.openapi import openapi_document
from tests.sync_world import create_item, edit_item

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
DOCUMENT = "/api/v1/openapi.json"
BIG = 2**63

schema = schemathesis.openapi.from_dict(openapi_document())
# the session of the officer signed in for the running test (one test runs at a time)
signed_in: dict[str, str] = {}


@schemathesis.hook
def before_call(context, case, kwargs):
    """Each case of this schema goes out with the signed-in officer's cookie and CSRF token.

    A hook rather than an auth provider: schemathesis builds some cases while it collects
    the tests, before any test has signed anyone in.
    """
    if case.operation.schema.raw_schema is not schema.raw_schema:
        return
    assert signed_in, "no officer is signed in for this test"
    case.cookies = {**(case.cookies or {}), signed_in["cookie"]: signed_in["value"]}
    # the WSGI transport hands over the body as sent, so ask for it uncompressed
    case.headers = {
        **(case.headers or {}),
        "X-CSRFToken": signed_in["token"],
        "Accept-Encoding": "identity",
    }


@pytest.fixture
def kept_visit(sync_phone, sync_person) -> dict:
    """The outbox item that saved a visit of hers: something to pull and to correct."""
    item = create_item(sync_person)
    assert sync_phone.statuses([item]) == ["created"]
    return item


@pytest.fixture
def officer_app(app, sync_phone, kept_visit):
    """The app, with officer1 signed in for schemathesis."""
    # a failure answers 500 as it would in production, for the checks to see it
    app.config["PROPAGATE_EXCEPTIONS"] = False
    served = sync_phone.client.get(DOCUMENT)
    assert served.status_code == 200 and served.json == openapi_document()
    cookie = sync_phone.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    signed_in.update(cookie=cookie.key, value=cookie.value, token=sync_phone.token)
    yield app
    signed_in.clear()


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_as_documented(case, officer_app):
    response = case.call_and_validate(app=officer_app, checks=CHECKS)
    # every case goes out signed in: a 401 would mean nothing past sign-in was tested
    assert response.status_code != 401, response.text


def _push(kept: dict) -> dict:
    """A batch of the wrong types and out-of-range values a phone has sent."""
    bad_visits = [
        {"kind": ["home_visit"]},
        {"risk_flags": 1},
        {"occurred_at": "0001-01-01T00:00"},
        {"occurred_at": "9999-12-31T23:59"},
        {"notes": "a\x00b"},
        {"notes": {"a": 1}},
    ]
    items = [{**kept, "data": {**kept["data"], **fields}} for fields in bad_visits]
    for n, item in enumerate(items):
        item["id"] = item["record_id"] = item["data"]["id"] = f"00000000-0000-4000-8000-{n:012d}"
    edits = [(BIG, {}), (1, {"notes": "\ud800"}), (1, {"agreed_actions": "入户\udfff"})]
    items += [
        {**edit_item(kept, base, **fields), "id": f"00000000-0000-4000-9000-{n:012d}"}
        for n, (base, fields) in enumerate(edits)
    ]
    person = kept["data"]["person_id"]
    contacts = [{"phone": {}}, {"address": {"a": 1}}, {"phone": "\ud800"}]
    items += [
        {
            "id": f"00000000-0000-4000-a000-{n:012d}",
            "type": "person.contact",
            "record_id": person,
            "base_version": 1,
            "data": data,
        }
        for n, data in enumerate(contacts)
    ]
    return {"body": {"items": items}}


SUBSCRIPTION = {
    "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA", "auth": "tBHItJI5svbpez7KI4CCXg"}
}
# inputs that answered 500 or off the document once, checked the same way every run
KNOWN = {
    "pull, a cursor in year 1": (
        "GET",
        "/api/v1/sync/pull",
        lambda kept: {"query": {"cursor": "0001-01-01T00:00:00+00:00"}},
    ),
    "pull, a cursor in year 9999": (
        "GET",
        "/api/v1/sync/pull",
        lambda kept: {"query": {"cursor": "9999-12-31T23:59:59.999999+00:00"}},
    ),
    "subscribe, a JSON array": ("POST", "/api/v1/push/subscriptions", lambda kept: {"body": ["a"]}),
    "subscribe, a JSON string": (
        "POST",
        "/api/v1/push/subscriptions",
        lambda kept: {"body": "AAA"},
    ),
    "subscribe, an endpoint URL that cannot be parsed": (
        "POST",
        "/api/v1/push/subscriptions",
        lambda kept: {"body": {**SUBSCRIPTION, "endpoint": "https://[x"}},
    ),
    "unsubscribe, a JSON array": (
        "DELETE",
        "/api/v1/push/subscriptions",
        lambda kept: {"body": [None, None]},
    ),
    "unsubscribe, a JSON string": (
        "DELETE",
        "/api/v1/push/subscriptions",
        lambda kept: {"body": "AAA"},
    ),
    "unsubscribe, a NUL byte in the endpoint": (
        "DELETE",
        "/api/v1/push/subscriptions",
        lambda kept: {"body": {**SUBSCRIPTION, "endpoint": "https://push.example.com/\x00"}},
    ),
    "unsubscribe, a lone surrogate in the endpoint": (
        "DELETE",
        "/api/v1/push/subscriptions",
        lambda kept: {"body": {**SUBSCRIPTION, "endpoint": "\ud800"}},
    ),
    "push, items of wrong types and out of range": ("POST", "/api/v1/sync/push", _push),
}


@pytest.mark.parametrize("name", KNOWN)
def test_inputs_that_once_failed_answer_as_documented(name, officer_app, kept_visit):
    method, path, make = KNOWN[name]
    case = schema[path][method].Case(**make(kept_visit))
    response = case.call_and_validate(app=officer_app, checks=CHECKS)
    assert response.status_code != 401, response.text
