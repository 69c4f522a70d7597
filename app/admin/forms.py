from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.forms import choices
from app.i18n import LANGUAGE_NAMES, ROLE_LABELS, TIMEZONES


class UnitForm(FlaskForm):
    name = StringField(
        _l("Unit name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=120)]
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
    timezone = SelectField(_l("Time zone"), choices=choices((tz, tz) for tz in TIMEZONES))
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
