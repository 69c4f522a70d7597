"""A phone that syncs: fixtures and helpers for the sync API and conflict tests."""

import re
import uuid

import pytest
from sqlmodel import func, select

from tests.factories import make_person, visit_data

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def page_token(html: str) -> str:
    """The CSRF token a page gives its scripts."""
    match = TOKEN.search(html)
    assert match, "no CSRF token for scripts on the page"
    return match.group(1) or match.group(2)


class Phone:
    """One officer's phone: signs in, reads the page's token, pushes and pulls."""

    def __init__(self, client, auth):
        self.client, self.auth, self.token = client, auth, None

    def sign_in(self, username: str) -> "Phone":
        self.auth.login(username)
        self.token = page_token(self.client.get("/").text)
        return self

    def push(self, items: list, token: str | None = None):
        """POST a batch with the page's token, or with another one when given."""
        headers = {"X-CSRFToken": token or self.token}
        return self.client.post("/api/v1/sync/push", json={"items": items}, headers=headers)

    def statuses(self, items: list) -> list[str]:
        response = self.push(items)
        assert response.status_code == 200, response.text
        return [result["status"] for result in response.json["results"]]

    def pull(self, cursor: str | None = None):
        query = {"cursor": cursor} if cursor is not None else {}
        response = self.client.get("/api/v1/sync/pull", query_string=query)
        assert response.status_code == 200, response.text
        return response.json


def create_item(person, **fields) -> dict:
    data = visit_data(person, **fields)
    return {
        "id": data["id"],
        "type": "visit.create",
        "record_id": data["id"],
        "base_version": None,
        "data": data,
    }


def edit_item(create: dict, base_version: int, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "visit.edit",
        "record_id": create["id"],
        "base_version": base_version,
        "data": {**create["data"], **fields},
    }


def contact_item(person, base_version: int, **data) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "person.contact",
        "record_id": str(person.id),
        "base_version": base_version,
        "data": data,
    }


def fresh(db, model, key):
    """A row as the server has it now, not as this session last saw it."""
    db.commit()
    db.expire_all()
    return db.get(model, key)


def count(db, model, *where) -> int:
    db.commit()  # a fresh snapshot: requests committed since
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def sync_officer(make_user):
    return make_user("officer1", display_name="李警官")


@pytest.fixture
def sync_person(db, unit, sync_officer):
    return make_person(db, unit, sync_officer)


@pytest.fixture
def sync_phone(client, auth, sync_officer):
    """officer1's phone, signed in."""
    return Phone(client, auth).sign_in("officer1")
