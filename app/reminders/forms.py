"""The reminder settings form, and what the Settings page shows of reminders."""

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from app.db import get_session
from app.models import PushSubscription
from app.reminders.devices import devices
from app.reminders.wecom import wecom_configured

TIME = {"type": "time", "step": "60"}


class PreferencesForm(FlaskForm):
    reminder_time = StringField(_l("Morning summary at"), render_kw=TIME)
    evening_time = StringField(_l("Evening heads-up at"), render_kw=TIME)
    quiet_start = StringField(_l("Quiet from"), render_kw=TIME)
    quiet_end = StringField(_l("Quiet until"), render_kw=TIME)
    reminder_phone = StringField(
        _l("Mobile number for SMS reminders"),
        render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "tel"},
    )
    wecom_user_id = StringField(
        _l("WeCom user ID for reminders"),
        description=_l(
            "Your account (UserID) in your organisation's WeCom, as your administrator "
            "sees it: not your name. Leave empty for no WeCom reminders."
        ),
        render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
    )


@dataclass(frozen=True)
class ReminderPanel:
    form: PreferencesForm
    devices: list[PushSubscription]
    public_key: str | None
    sms: bool
    wecom: bool


def sms_enabled() -> bool:
    return bool(current_app.config.get("CLOVER_SMS_URL"))


def wecom_enabled() -> bool:
    return wecom_configured(current_app.config)


def preferences_form(**kwargs) -> PreferencesForm:
    """The form for the signed-in user; the SMS number and the WeCom user id only where
    their channel is on."""
    form = PreferencesForm(obj=current_user, **kwargs)
    if not sms_enabled():
        del form.reminder_phone
    if not wecom_enabled():
        del form.wecom_user_id
    return form


def reminder_panel(form: PreferencesForm | None = None) -> ReminderPanel:
    """Everything the reminders section of Settings shows, for the signed-in user."""
    return ReminderPanel(
        form=form or preferences_form(formdata=None),
        devices=devices(get_session(), current_user),
        public_key=current_app.config.get("CLOVER_VAPID_PUBLIC_KEY"),
        sms=sms_enabled(),
        wecom=wecom_enabled(),
    )
