"""The one document the phone reads for what it shares with the server: built from the
Python definitions, served to anyone, precached with the shell, and no copy left in JS."""

import json
import re
import uuid
from pathlib import Path

import pytest

from app.contract import ATTENTION, SAVED, Outcome
from app.offline import contract as contract_module
from app.people.contact import CONTACT_FIELDS
from app.sync.push import KINDS, MAX_ITEMS
from app.visits.fields import LIST_FIELDS

STATIC_JS = Path(__file__).resolve().parent.parent / "static" / "js"
# the scripts that read the contract instead of holding copies of it
READERS = ("outbox.js", "sync.js", "sw.js", "outbox-ui.js", "outbox-page.js", "offline-pages.js")


def worker_shell(client) -> dict:
    script = client.get("/sw.js").text
    return json.loads(re.match(r'"use strict";\nself\.CLOVER_SHELL = (\{.*\});\n', script)[1])


def test_the_contract_is_the_python_definitions(client):
    response = client.get("/offline/contract.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == {
        "forms": [
            {"kind": "visit.create", "path": "/people/{person_id}/visits/new"},
            {"kind": "visit.edit", "path": "/visits/{visit_id}/edit"},
            {"kind": "person.contact", "path": "/people/{person_id}/contact"},
            {"kind": "group.create", "path": "/groups/new"},
            {"kind": "group.edit", "path": "/groups/{group_id}/edit"},
        ],
        "fields": {
            "list": ["attendees", *LIST_FIELDS],
            "contact": list(CONTACT_FIELDS),
            "not_data": ["csrf_token", "id", "item_id", "base_version", "return_to"],
        },
        "statuses": {
            "saved": sorted(SAVED),
            "kept": ["conflict"],
            "attention": sorted(ATTENTION),
        },
        "sync": {"batch_size": 50, "max_items": MAX_ITEMS},
        "urls": {
            "push": "/api/v1/sync/push",
            "pull": "/api/v1/sync/pull",
            "offline_pages": "/api/v1/offline/pages",
            "outbox": "/outbox",
            "today": "/",
            "people": "/people/",
            "ledger": "/people/{person_id}",
            "visit_form": "/people/{person_id}/visits/new",
            "conflict": "/sync/conflicts/{conflict_id}",
        },
    }
    assert [form["kind"] for form in response.json["forms"]] == list(KINDS)
    # an item the server failed on waits for her, as a refused or invalid one does
    assert {"error", "invalid", "refused"} == set(response.json["statuses"]["attention"])
    assert Outcome.error in ATTENTION


def test_every_form_path_is_the_route_that_takes_the_form(app, client):
    """Filled with a record id, each form's path reaches the view that serves that form."""
    shared = client.get("/offline/contract.json").json
    adapter = app.url_map.bind("localhost")
    record = uuid.uuid4()
    for form in shared["forms"]:
        path = re.sub(r"\{\w+\}", str(record), form["path"])
        endpoint, arguments = adapter.match(path, method="POST")
        assert endpoint == contract_module.OUTBOX_FORMS[form["kind"]]
        # a new group session is posted to a form with no record in its path
        assert list(arguments.values()) == ([record] if "{" in form["path"] else [])
    for name, template in shared["urls"].items():
        path = re.sub(r"\{\w+\}", str(record), template)
        method = "POST" if name == "push" else "GET"
        assert adapter.match(path, method=method)[0] == contract_module.URLS[name]


def test_a_new_list_field_is_a_change_in_python_only(client, monkeypatch):
    before = worker_shell(client)["version"]
    monkeypatch.setattr(contract_module, "LIST_FIELDS", (*LIST_FIELDS, "referrals"))
    assert client.get("/offline/contract.json").json["fields"]["list"][-1] == "referrals"
    # the phone gets a new worker and cache, so pages and worker read the new contract
    assert worker_shell(client)["version"] != before


def test_the_contract_is_precached_and_served_to_anyone(client, auth, make_user):
    shell = worker_shell(client)
    assert shell["contract"] == "/offline/contract.json"
    assert "/offline/contract.json" in shell["precache"]
    assert "/static/js/contract.js" in {url.partition("?")[0] for url in shell["precache"]}
    # the worker precaches without cookies: the same for everyone, no session needed
    anonymous = client.get("/offline/contract.json")
    make_user("officer1")
    auth.login("officer1")
    assert client.get("/offline/contract.json").json == anonymous.json
    assert "Set-Cookie" not in anonymous.headers
    # the pages ask for it where the worker keeps it
    assert 'URL_PATH = "/offline/contract.json"' in (STATIC_JS / "contract.js").read_text()


@pytest.mark.parametrize("script", READERS)
def test_no_script_keeps_a_copy_of_the_contract(script):
    # code only: a comment may say what the contract holds
    source = re.sub(r"(^|\s)//.*$", "", (STATIC_JS / script).read_text(), flags=re.MULTILINE)
    for copy in ("/api/v1/", '"/people/', "/visits/new", "[0-9a-f]", *LIST_FIELDS):
        assert copy not in source, copy
    for status in ("created", "edited", "duplicate", "invalid", "refused"):
        assert f'"{status}"' not in source and f"{status}:" not in source, status
