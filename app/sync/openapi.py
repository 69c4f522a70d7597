"""The OpenAPI 3.1 document of /api/v1/, served at /api/v1/openapi.json.

The request schemas are generated from the pydantic models the endpoints validate with
(the sync item, a visit's and a contact's data, a push subscription), and the status
enum from `app.contract.Outcome`, so the document and the code cannot drift. Tests
validate it, compare its paths with the app's routes and check real answers against
its schemas, so the rest stays true too.
"""

import copy

from pydantic import BaseModel

from app.contract import Outcome
from app.errors import API_ERRORS
from app.groups.fields import GroupFields
from app.offline.pages import PAGE_KINDS as KEPT_PAGES
from app.people.validation import ContactForm
from app.reminders.devices import SubscriptionBody
from app.sync.push import MAX_ITEMS, Item
from app.visits.fields import VisitData

# the kinds of page app.offline.pages lists
PAGE_KINDS = list(dict.fromkeys(KEPT_PAGES.values()))
UUID = {"type": "string", "format": "uuid"}
NULLABLE_UUID = {"type": ["string", "null"], "format": "uuid"}
FIELD_ERRORS = {
    "type": "object",
    "description": "Translated messages by field; `_form` for the item as a whole.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
REF = "#/components/schemas/{model}"


def _json(schema_name: str, description: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def model_schemas(models: dict[str, type[BaseModel]]) -> dict:
    """The JSON schemas of the models by component name, their $defs lifted beside them."""
    schemas = {}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = {**schema, "title": name}
    return schemas


def _item_schemas() -> dict:
    schemas = model_schemas(
        {
            "Item": Item,
            "VisitData": VisitData,
            "ContactData": ContactForm,
            "GroupData": GroupFields,
        }
    )
    # the envelope takes any object as `data`; the service of its type checks it field by field
    data = schemas["Item"]["properties"]["data"]
    data.pop("additionalProperties", None)
    data["anyOf"] = [
        {"$ref": "#/components/schemas/VisitData"},
        {"$ref": "#/components/schemas/ContactData"},
        {"$ref": "#/components/schemas/GroupData"},
    ]
    return schemas


ERROR = _json("Error", "An error of the whole request.")
UNAUTHENTICATED = _json("Error", "The session expired or is missing (`error`: unauthenticated).")
CSRF = _json("Error", "The CSRF token is missing or stale (`error`: csrf).")
SERVER_ERROR = _json("Error", "The server failed (`error`: server_error); try again later.")

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "string",
                "enum": [*API_ERRORS.values(), "csrf"],
            },
            "title": {"type": "string"},
            "message": {"type": "string", "description": "Translated, to show as it is."},
            "max_items": {"type": "integer"},
            "field": {"type": "string", "description": "The field at fault, when one is."},
        },
    },
    **_item_schemas(),
    "PushRequest": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "maxItems": MAX_ITEMS,
                "items": {"$ref": "#/components/schemas/Item"},
            }
        },
    },
    "ItemResult": {
        "type": "object",
        "required": [
            "id",
            "status",
            "record_id",
            "version",
            "errors",
            "server",
            "conflict_id",
            "reference",
        ],
        "properties": {
            "id": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": [outcome.value for outcome in Outcome]},
            "record_id": NULLABLE_UUID,
            "version": {"type": ["integer", "null"]},
            "errors": FIELD_ERRORS,
            "server": {
                "type": ["object", "null"],
                "description": "The server's current record, on a conflict.",
            },
            "conflict_id": {
                **NULLABLE_UUID,
                "description": "On a conflict: resolve it at /sync/conflicts/{conflict_id}.",
            },
            "reference": {
                "type": ["string", "null"],
                "description": "On an `error`: the reference the server logged; null otherwise.",
            },
        },
    },
    "PushResponse": {
        "type": "object",
        "required": ["results", "server_time"],
        "properties": {
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/ItemResult"}},
            "server_time": {"type": "string", "format": "date-time"},
        },
    },
    "PullResponse": {
        "type": "object",
        "required": ["cursor", "people", "removed", "full"],
        "properties": {
            "cursor": {"type": "string", "description": "Opaque; send it with the next pull."},
            "people": {"type": "array", "items": UUID},
            "removed": {"type": "array", "items": UUID},
            "full": {"type": "boolean"},
        },
    },
    "OfflinePages": {
        "type": "object",
        "required": ["user_id", "generated_at", "pages", "truncated"],
        "properties": {
            "user_id": UUID,
            "generated_at": {"type": "string", "format": "date-time"},
            "truncated": {"type": "boolean"},
            "pages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "url", "version"],
                    "properties": {
                        "kind": {"type": "string", "enum": PAGE_KINDS},
                        "url": {"type": "string"},
                        "person_id": UUID,
                        "version": {
                            "type": "string",
                            "description": "Changes when the page would: a phone that holds"
                            " this version has nothing to fetch again.",
                        },
                    },
                },
            },
        },
    },
    **model_schemas({"PushSubscription": SubscriptionBody}),
    "SubscriptionSaved": {
        "type": "object",
        "required": ["id", "label"],
        "properties": {"id": UUID, "label": {"type": "string"}},
    },
    "DeviceKeyRequest": {
        "type": "object",
        "required": ["device_id"],
        "properties": {"device_id": UUID},
    },
    "DeviceKey": {
        "type": "object",
        "required": ["device_id", "key", "lock_after_minutes"],
        "properties": {
            "device_id": UUID,
            "key": {"type": "string", "description": "32 random bytes, base64url."},
            "lock_after_minutes": {"type": "integer", "minimum": 1},
        },
    },
}

CSRF_HEADER = {
    "name": "X-CSRFToken",
    "in": "header",
    "required": True,
    "description": "The token of the signed-in session, from the page.",
    "schema": {"type": "string"},
}


def _operation(summary: str, responses: dict, **extra) -> dict:
    responses = {**responses, "401": UNAUTHENTICATED, "500": SERVER_ERROR}
    return {"summary": summary, "responses": responses, **extra}


def _body(schema_name: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


PATHS = {
    "/api/v1/sync/push": {
        "post": _operation(
            "Apply a batch of outbox items; one answer per item, each committed on its own.",
            {
                "200": _json("PushResponse", "An answer per item, in item order."),
                "400": _json(
                    "Error",
                    "The CSRF token is missing or stale (`error`: csrf), or the body is not "
                    "an object with a list of items (`error`: bad_request).",
                ),
                "413": _json("Error", f"More than {MAX_ITEMS} items (`error`: too_large)."),
            },
            parameters=[CSRF_HEADER],
            requestBody=_body("PushRequest"),
        )
    },
    "/api/v1/sync/pull": {
        "get": _operation(
            "People of her caseload whose pages changed since the cursor, and people to forget.",
            {
                "200": _json("PullResponse", "What to refresh; `full` when sent no cursor."),
                "400": _json("Error", "The cursor is not one this server gave (`bad_request`)."),
                "403": _json("Error", "She keeps no caseload on a phone (`error`: forbidden)."),
            },
            parameters=[
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "description": "The cursor of the last pull; none for everything.",
                    "schema": {"type": "string"},
                }
            ],
        )
    },
    "/api/v1/offline/pages": {
        "get": _operation(
            "The pages of her caseload to keep on this phone.",
            {"200": _json("OfflinePages", "Today, the people list and the ledgers."), "403": ERROR},
        )
    },
    "/api/v1/device-key": {
        "post": _operation(
            "This phone's key to her offline store, bound to this session.",
            {
                "200": _json("DeviceKey", "The key, and the minutes of idle before the app locks."),
                "400": _json("Error", "No device id, or the CSRF token is missing or stale."),
                "403": _json("Error", "Not a role with an offline store, or no fresh sign-in."),
            },
            parameters=[CSRF_HEADER],
            requestBody=_body("DeviceKeyRequest"),
        ),
        "get": _operation(
            "The key this session was handed before, again.",
            {
                "200": _json("DeviceKey", "The same key."),
                "400": _json("Error", "No device id."),
                "403": _json("Error", "Not a role with an offline store, or no fresh sign-in."),
                "404": _json("Error", "This session was handed no key for this device."),
            },
            parameters=[
                {"name": "device_id", "in": "query", "required": True, "schema": UUID},
            ],
        ),
    },
    "/api/v1/push/subscriptions": {
        "post": _operation(
            "Turn on reminders by Web Push for this browser.",
            {
                "201": _json("SubscriptionSaved", "Saved: the device as Settings lists it."),
                "400": _json(
                    "Error",
                    "The subscription is not usable (`error`: bad_request, `field` at fault), "
                    "or the CSRF token is missing or stale (`error`: csrf).",
                ),
            },
            parameters=[CSRF_HEADER],
            requestBody=_body("PushSubscription"),
        ),
        "delete": _operation(
            "Turn off reminders by Web Push for this browser.",
            {
                "204": {"description": "Removed."},
                "400": _json("Error", "No endpoint in the body, or the CSRF token is stale."),
                "404": _json("Error", "No such device of hers (`error`: not_found)."),
            },
            parameters=[CSRF_HEADER],
            requestBody=_body("PushSubscription"),
        ),
    },
    "/api/v1/openapi.json": {
        "get": _operation(
            "This document.",
            {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {}}}},
        )
    },
}


def openapi_document() -> dict:
    """The whole document, a copy of its own for each caller."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Clover sync API",
                "version": "1",
                "description": "The phone's API: the session cookie signs it in; every POST "
                "and DELETE carries the session's CSRF token in `X-CSRFToken`.",
            },
            "components": {
                "schemas": SCHEMAS,
                "securitySchemes": {
                    "session": {"type": "apiKey", "in": "cookie", "name": "session"}
                },
            },
            "security": [{"session": []}],
            "paths": PATHS,
        }
    )
