"""Forms of the people pages: they render fields and carry the CSRF token.

Checking the values is `app.people.validation`'s job, so the choices here are not
validated twice (`validate_choice=False`).
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import choices
from app.i18n import (
    CLOSE_REASON_LABELS,
    CONSENT_LABELS,
    FOCUS_LABELS,
    HELP_LABELS,
    RISK_LABELS,
    STATUS_LABELS,
    SUPPORT_PATH_LABELS,
    VISIT_KIND_LABELS,
)
from app.people.validation import PLANNED_KINDS, STATUS_TARGETS


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes: big enough to tap, readable without a dropdown."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _select(label, pairs):
    return SelectField(label, choices=choices(pairs), validate_choice=False)


def _checks(label, pairs):
    return CheckboxesField(label, choices=choices(pairs), validate_choice=False)


class PersonForm(FlaskForm):
    person_id = HiddenField()
    version = HiddenField()
    name = StringField(_l("Name"))
    id_number = StringField(_l("ID-card number"))
    date_of_birth = StringField(_l("Date of birth"))
    phone = StringField(_l("Mobile number"))
    address = StringField(_l("Address"))
    contact_name = StringField(_l("Emergency contact"))
    contact_relation = StringField(_l("Relation"))
    contact_phone = StringField(_l("Emergency contact's phone"))
    facility = StringField(_l("Facility"))
    admission_date = StringField(_l("Admission date"))
    release_date = StringField(_l("Release date"))
    support_path = _select(_l("Support path"), SUPPORT_PATH_LABELS.items())
    risk_level = _select(_l("Risk level"), RISK_LABELS.items())
    unit_id = SelectField(_l("Unit"), choices=[], validate_choice=False)


class ConsentForm(FlaskForm):
    record_id = HiddenField()
    base_version = HiddenField()
    signed_on = StringField(_l("Date signed"))
    consents = _checks(_l("She consents to"), CONSENT_LABELS.items())
    help_requested = _checks(_l("Help she asks for"), HELP_LABELS.items())
    preferred_contact_times = StringField(_l("Preferred contact times"))


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Reason for withdrawal"))


class PlanForm(FlaskForm):
    record_id = HiddenField()
    base_version = HiddenField()
    goals = TextAreaField(_l("Goals"))
    focus_areas = _checks(_l("Focus areas"), FOCUS_LABELS.items())
    contact_kinds = _checks(
        _l("Contact kinds planned"), ((k, VISIT_KIND_LABELS[k]) for k in PLANNED_KINDS)
    )
    review_on = StringField(_l("Review date"))


class AssignForm(FlaskForm):
    version = HiddenField()
    officer = SelectField(_l("Officer"), choices=[], validate_choice=False)
    peer_helper = SelectField(_l("Peer helper"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason"))


class StatusForm(FlaskForm):
    version = HiddenField()
    to_status = SelectField(_l("New status"), choices=[], validate_choice=False)
    reason = _select(_l("Reason for closing"), [("", "—"), *CLOSE_REASON_LABELS.items()])
    note = StringField(_l("Reason"))
    effective_on = StringField(_l("Since"))

    def offer(self, may_close: bool) -> None:
        targets = [s for s in STATUS_TARGETS if may_close or s != "closed"]
        self.to_status.choices = choices((s, STATUS_LABELS[s]) for s in targets)
