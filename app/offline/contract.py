"""What the phone and the server share, as one JSON document built from the Python definitions.

The offline scripts (static/js/contract.js, read by outbox.js, sync.js and the service
worker) take the outbox forms and their kinds, the fields, the statuses, the batch size
and the URLs from `offline_contract()`, served at /offline/contract.json and precached
with the app shell. Adding a visit kind or a list field is a change in Python only.
"""

import re

from flask import current_app

from app.contract import ATTENTION, SAVED, SETTLED
from app.groups.fields import LIST_FIELDS as GROUP_LIST_FIELDS
from app.people.contact import CONTACT_FIELDS
from app.sync.push import KINDS, MAX_ITEMS
from app.visits.fields import LIST_FIELDS

# the form each kind of outbox item is made from, by the endpoint it posts to
OUTBOX_FORMS = {
    "visit.create": "visits.new",
    "visit.edit": "visits.edit",
    "person.contact": "people.contact",
    "group.create": "groups.new",
    "group.edit": "groups.edit",
}
if set(OUTBOX_FORMS) != set(KINDS):
    raise RuntimeError(f"every sync kind needs its outbox form: {sorted(KINDS)}")
# hidden fields of those forms that travel beside an item's data, never inside it
ENVELOPE_FIELDS = ("id", "item_id", "base_version")
# what a form posts for the page, not for the record: where to go after the save
NAVIGATION_FIELDS = ("return_to",)
# a weak connection answers a smaller batch sooner; never more than the server takes
BATCH_SIZE = min(50, MAX_ITEMS)
# the URLs the offline scripts build, by the endpoint that answers them
URLS = {
    "push": "api.sync_api.push",
    "pull": "api.sync_api.pull",
    "offline_pages": "api.offline_page_list",
    "outbox": "offline.outbox",
    "today": "today.index",
    "people": "people.index",
    "ledger": "people.ledger",
    "visit_form": "visits.new",
    "conflict": "sync.conflict",
}
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def path_template(endpoint: str) -> str:
    """The endpoint's path, each record id in it as `{name}`: "/people/{person_id}"."""
    [rule] = current_app.url_map.iter_rules(endpoint)
    converters = {converter for converter, _name in _ARGUMENT.findall(rule.rule)}
    # the phone fills in and recognises record ids only
    if converters - {"uuid"}:
        raise ValueError(f"{endpoint}: only <uuid:...> arguments can be shared, not {rule.rule}")
    return _ARGUMENT.sub(r"{\2}", rule.rule)


def offline_contract() -> dict:
    """The document the phone reads: the same for everyone, no personal data."""
    csrf_field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return {
        "forms": [
            {"kind": kind, "path": path_template(endpoint)}
            for kind, endpoint in OUTBOX_FORMS.items()
        ],
        "fields": {
            "list": [*GROUP_LIST_FIELDS, *LIST_FIELDS],
            "contact": list(CONTACT_FIELDS),
            "not_data": [csrf_field, *ENVELOPE_FIELDS, *NAVIGATION_FIELDS],
        },
        "statuses": {
            # saved: the item leaves the outbox; kept: it leaves as a conflict to resolve
            "saved": sorted(SAVED),
            "kept": sorted(SETTLED - SAVED),
            "attention": sorted(ATTENTION),
        },
        "sync": {"batch_size": BATCH_SIZE, "max_items": MAX_ITEMS},
        "urls": {name: path_template(endpoint) for name, endpoint in URLS.items()},
    }
