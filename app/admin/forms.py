from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import choices
from app.i18n import LANGUAGE_NAMES, ROLE_LABELS, TIMEZONE_LABELS


class UnitForm(FlaskForm):
    name = StringField(
        _l("Unit name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=120)]
    )


class WholeNumber:
    """A whole number from `low` to `high`; the field's data becomes that number."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def __call__(self, _form, field):
        text = "" if field.data is None else str(field.data).strip()  # an int: as stored
        if not text.isdigit() or not self.low <= int(text) <= self.high:
            raise ValidationError(
                _l("Enter a whole number from %(low)s to %(high)s.", low=self.low, high=self.high)
            )
        field.data = int(text)


def number_field(label, low: int, high: int, description) -> StringField:
    return StringField(
        label,
        validators=[WholeNumber(low, high)],
        description=description,
        render_kw={"inputmode": "numeric"},
    )


class UnitSettingsForm(UnitForm):
    """A unit's name and the rules its people are followed by."""

    grace_days = number_field(
        _l("Grace days"),
        0,
        30,
        _l("A contact this many days after its due date still counts as on time."),
    )
    risk_follow_up_hours = number_field(
        _l("Follow up a risk within (hours)"),
        1,
        168,
        _l(
            "A contact that flags self-harm or signs of relapse puts her first on her officer's"
            " Today, due this soon."
        ),
    )
    lost_contact_after_days = number_field(
        _l("Lost contact after (days)"),
        14,
        365,
        _l("With no contact for this long, she is flagged as lost to contact."),
    )
    visit_edit_window_hours = number_field(
        _l("Corrections allowed for (hours)"),
        1,
        720,
        _l("Her author may correct a visit this long after recording it."),
    )
    lock_after_minutes = number_field(
        _l("Phone locks after (minutes)"),
        1,
        60,
        _l("An idle phone asks for the PIN again after this long."),
    )


class UserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(message=_l("Enter a username.")), Length(max=64)],
    )
    display_name = StringField(
        _l("Name shown"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=120)]
    )
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    unit_id = SelectField(_l("Unit"), choices=[])
    locale = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES.items()))
    timezone = SelectField(_l("Time zone"), choices=choices(TIMEZONE_LABELS.items()))
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(message=_l("Enter a password.")), Length(max=200)],
    )


class UserEditForm(FlaskForm):
    display_name = StringField(
        _l("Name shown"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=120)]
    )
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    unit_id = SelectField(_l("Unit"), choices=[])


class HandOverForm(FlaskForm):
    """Checked by `hand_over` itself, so the form and the service cannot disagree."""

    to_user = SelectField(_l("Hand her people over to"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason"))
