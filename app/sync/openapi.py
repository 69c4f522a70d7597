"""The OpenAPI 3.1 document of /api/v1/, served at /api/v1/openapi.json.

Tests validate it, compare its paths with the app's routes and check real answers
against its schemas, so it stays true.
"""

import copy

from app.sync.push import KINDS, MAX_ITEMS

# the kinds of page app.offline.pages lists; a new kind belongs here too
PAGE_KINDS = ["today", "people", "ledger", "visit_form"]
STATUSES = ["created", "edited", "duplicate", "conflict", "invalid", "refused"]
UUID = {"type": "string", "format": "uuid"}
NULLABLE_UUID = {"type": ["string", "null"], "format": "uuid"}
FIELD_ERRORS = {
    "type": "object",
    "description": "Translated messages by field; `_form` for the item as a whole.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


def _json(schema_name: str, description: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


ERROR = _json("Error", "An error of the whole request.")
UNAUTHENTICATED = _json("Error", "The session expired or is missing (`error`: unauthenticated).")
CSRF = _json("Error", "The CSRF token is missing or stale (`error`: csrf).")

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "string",
                "enum": [
                    "bad_request",
                    "csrf",
                    "unauthenticated",
                    "forbidden",
                    "not_found",
                    "too_large",
                    "server_error",
                ],
            },
            "title": {"type": "string"},
            "message": {"type": "string"},
            "max_items": {"type": "integer"},
        },
    },
    "Item": {
        "type": "object",
        "description": "One outbox item: a visit recorded or corrected, or her contact corrected.",
        "required": ["id", "type", "record_id", "base_version", "data"],
        "properties": {
            "id": {**UUID, "description": "Minted on the device; a resend carries the same id."},
            "type": {"type": "string", "enum": list(KINDS)},
            "record_id": {**UUID, "description": "The visit (the item id for a create) or person."},
            "base_version": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "The version the change was made on; null for visit.create.",
            },
            "data": {
                "type": "object",
                "description": "Visit fields as the visit form posts them (with person_id), "
                "or {phone, address} for person.contact.",
            },
        },
    },
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
        "required": ["id", "status", "record_id", "version", "errors", "server", "conflict_id"],
        "properties": {
            "id": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": STATUSES},
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
                    "required": ["kind", "url"],
                    "properties": {
                        "kind": {"type": "string", "enum": PAGE_KINDS},
                        "url": {"type": "string"},
                        "person_id": UUID,
                    },
                },
            },
        },
    },
    "PushSubscription": {
        "type": "object",
        "required": ["endpoint", "keys"],
        "properties": {
            "endpoint": {"type": "string"},
            "keys": {
                "type": "object",
                "required": ["p256dh", "auth"],
                "properties": {"p256dh": {"type": "string"}, "auth": {"type": "string"}},
            },
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
    return {"summary": summary, "responses": {**responses, "401": UNAUTHENTICATED}, **extra}


def _body(schema_name: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


PATHS = {
    "/api/v1/sync/push": {
        "post": _operation(
            "Apply a batch of outbox items; one answer per item, each committed on its own.",
            {
                "200": _json("PushResponse", "An answer per item, in item order."),
                "400": CSRF,
                "413": _json("Error", f"More than {MAX_ITEMS} items (`error`: too_large)."),
            },
            parameters=[CSRF_HEADER],
            requestBody=_body("PushRequest"),
        )
    },
    "/api/v1/sync/pull": {
        "get": _operation(
            "People of her caseload whose pages changed since the cursor, and people to forget.",
            {"200": _json("PullResponse", "What to refresh; `full` when the cursor is unknown.")},
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
    "/api/v1/push/subscriptions": {
        "post": _operation(
            "Turn on reminders by Web Push for this browser.",
            {
                "201": {"description": "Saved."},
                "400": _json("Error", "The subscription is not usable, or the CSRF token."),
            },
            parameters=[CSRF_HEADER],
            requestBody=_body("PushSubscription"),
        ),
        "delete": _operation(
            "Turn off reminders by Web Push for this browser.",
            {"204": {"description": "Removed."}, "404": {"description": "No such device."}},
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
