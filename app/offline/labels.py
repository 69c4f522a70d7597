"""The words the outbox scripts show, handed to them once per page in the user's language."""

from flask_babel import gettext as _

from app.accounts import N_
from app.i18n import VISIT_KIND_LABELS, once_per_language
from app.sync.push import KINDS
from app.visits.labels import (
    DIFFICULTY_LABELS,
    FAILURE_REASON_LABELS,
    FIELD_LABELS,
    HELP_GIVEN_LABELS,
    LOCATION_LABELS,
    PARTICIPANT_LABELS,
    RISK_FLAG_LABELS,
)

# what each kind of outbox item is called; a new kind without a name fails here
KIND_LABELS = {
    "visit.create": N_("Visit"),
    "visit.edit": N_("Visit correction"),
    "person.contact": N_("Contact correction"),
    "group.create": N_("Group session"),
    "group.edit": N_("Group session correction"),
}
if set(KIND_LABELS) != set(KINDS):
    raise RuntimeError(f"every sync kind needs a label: {sorted(KINDS)}")


@once_per_language
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
        "kinds": {kind: _(label) for kind, label in KIND_LABELS.items()},
        "visitKinds": _labelled(VISIT_KIND_LABELS),
        "fields": _labelled(FIELD_LABELS),
        "openLedger": _("Open the ledger"),
        "retry": _("Try again"),
        "discard": _("Discard"),
        "discardConfirm": _("Discard this item? It was never saved on the server."),
        "resolve": _("Resolve"),
        # whom the items are for, when her ledger is not on this phone
        "someoneElse": _("Someone no longer in your caseload"),
        # group sessions waiting, and how many attend one
        "groupSessions": _("Group sessions"),
        "attendees": _("%(num)s people", num="{n}"),
        "correct": _("Correct"),
        # the labels of a waiting visit's choices, as its ledger entry shows them
        "choices": {
            "location": _labelled(LOCATION_LABELS),
            "participants": _labelled(PARTICIPANT_LABELS),
            "risk_flags": _labelled(RISK_FLAG_LABELS),
            "help_given": _labelled(HELP_GIVEN_LABELS),
            "difficulties": _labelled(DIFFICULTY_LABELS),
            "failure_reason": _labelled(FAILURE_REASON_LABELS),
        },
    }


def _labelled(labels: dict) -> dict:
    return {key: str(label) for key, label in labels.items()}


def lock_labels() -> dict:
    """The lock screen's words in every language: the page is a shell, the same for all;
    the phone shows her language (kept in clear with her key ring, it names nobody)."""
    from flask import current_app
    from flask_babel import force_locale

    words = {}
    for locale in current_app.config["CLOVER_LOCALES"]:
        with force_locale(locale):
            words[locale] = {
                "locked": _("Clover is locked"),
                "enterPin": _("Enter your PIN to open Clover."),
                "setupTitle": _("Set a PIN for this phone"),
                "setupHelp": _(
                    "Your caseload on this phone is encrypted. Choose a PIN of at least 6"
                    " digits: it opens Clover here when it locks."
                ),
                "signinTitle": _("Sign in again"),
                "signinHelp": _(
                    "This phone needs a full sign-in before Clover opens again. Nothing"
                    " waiting to be sent is lost."
                ),
                "pin": _("PIN"),
                "pinAgain": _("PIN again"),
                "unlock": _("Unlock"),
                "save": _("Save PIN"),
                "forgot": _("Forgot your PIN? Sign in again"),
                "pinRule": _("A PIN is at least 6 digits."),
                "mismatch": _("The two PINs differ. Type the same PIN twice."),
                "wrong": _("Wrong PIN. %(num)s tries left.", num="{n}"),
                "dropped": _(
                    "Too many wrong PINs: the PIN no longer opens Clover on this phone."
                    " Sign in again."
                ),
                "signinNeeded": _("Setting a PIN needs a sign-in a moment ago. Sign in again."),
                "working": _("Opening…"),
                "failed": _("Clover could not open. Try again."),
            }
    return words
