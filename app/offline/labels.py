"""The words the outbox scripts show, handed to them once per page in the user's language."""

from flask_babel import gettext as _

from app.i18n import VISIT_KIND_LABELS
from app.visits.labels import FIELD_LABELS


def outbox_labels() -> dict:
    """Labels for the top-bar badge, the outbox entries and the Outbox page."""
    return {
        "badge": {
            "synced": _("Synced"),
            "syncing": _("Syncing…"),
            "waiting": _("%(num)s waiting", num="{n}"),
            "attention": _("Needs attention"),
            "offline": _("Offline"),
            "signin": _("Sign in to sync"),
        },
        "lastSynced": _("Last synced %(time)s", time="{time}"),
        "neverSynced": _("Not synced yet"),
        "states": {
            "waiting": _("waiting to sync"),
            "syncing": _("syncing"),
            "attention": _("needs attention"),
            "conflict": _("needs resolving"),
        },
        "kinds": {
            "visit.create": _("Visit"),
            "visit.edit": _("Visit correction"),
            "person.contact": _("Contact correction"),
        },
        "visitKinds": {key: str(label) for key, label in VISIT_KIND_LABELS.items()},
        "fields": {key: str(label) for key, label in FIELD_LABELS.items()},
        "openLedger": _("Open the ledger"),
        "retry": _("Try again"),
        "discard": _("Discard"),
        "discardConfirm": _("Discard this item? It was never saved on the server."),
        "resolve": _("Resolve"),
    }
