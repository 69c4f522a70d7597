"""Every operation of /api/v1/openapi.json, driven by schemathesis as a signed-in officer.

The app runs in-process (WSGI) on the test database, one fresh app per operation.
Schemathesis signs each case in with the cookie and CSRF token of a real session
(through its `before_call` hook), sends what the document allows and what it does not, and checks
that no answer is a server error, that each status code is documented and that each
body fits its documented schema.

The schema is built when the module loads, from the same function that serves the
document (schemathesis' fixture-based loader does not run on pytest 9); the first thing
each test checks is that the app serves exactly that document.
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
from tests.sync_world import create_item

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
DOCUMENT = "/api/v1/openapi.json"

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
    case.headers = {**(case.headers or {}), "X-CSRFToken": signed_in["token"]}


@pytest.fixture
def officer_app(app, sync_phone, sync_person):
    """The app, with officer1 signed in (a visit of hers already saved) for schemathesis."""
    # a failure answers 500 as it would in production, for the checks to see it
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert sync_phone.statuses([create_item(sync_person)]) == ["created"]
    served = sync_phone.client.get(DOCUMENT)
    assert served.status_code == 200 and served.json == openapi_document()
    cookie = sync_phone.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    signed_in.update(cookie=cookie.key, value=cookie.value, token=sync_phone.token)
    yield app
    signed_in.clear()


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_as_documented(case, officer_app):
    case.call_and_validate(app=officer_app, checks=CHECKS)
