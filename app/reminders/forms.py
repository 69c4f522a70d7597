"""The reminder settings form, and what the Settings page shows of reminders."""

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField

from app.db import get_session
from app.models import PushSubscription
from app.reminders.channels import mask_phone
from app.reminders.devices import devices
from app.reminders.preference import LABELS, SHORT, configured_channels, unreachable_devices
from app.reminders.wecom import mask_user_id, wecom_configured

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
    # checked in `update_preferences`, with the phone and WeCom id saved together with it
    reminder_channel = RadioField(_l("Remind me first by"), validate_choice=False, default="")


@dataclass(frozen=True)
class Reach:
    """One channel this server sends by, and whether (and where) it reaches her."""

    name: str
    label: str
    where: str  # her devices' count, her masked number or WeCom id; empty when none


@dataclass(frozen=True)
class ReminderPanel:
    form: PreferencesForm
    devices: list[PushSubscription]
    public_key: str | None
    sms: bool
    wecom: bool
    reach: list[Reach]
    # her devices whose push service a phone in mainland China cannot reach
    unreachable: set


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
    configured = configured_channels(current_app.config)
    if len(configured) < 2:
        del form.reminder_channel  # nothing to choose between: her choice is kept
    else:
        order = " → ".join(str(_l(SHORT[name])) for name in configured)
        form.reminder_channel.choices = [("", _l("Automatic: %(order)s", order=order))] + [
            (name, _l(LABELS[name])) for name in configured
        ]
        if form.reminder_channel.data in (None, "None"):
            form.reminder_channel.data = ""
    return form


def reach(user, subscriptions: list[PushSubscription]) -> list[Reach]:
    """The channels configured here, each with where it reaches her."""
    where = {
        "webpush": str(len(subscriptions)) if subscriptions else "",
        "sms": mask_phone(user.reminder_phone) if user.reminder_phone else "",
        "wecom": mask_user_id(user.wecom_user_id) if user.wecom_user_id else "",
    }
    return [
        Reach(name, LABELS[name], where[name]) for name in configured_channels(current_app.config)
    ]


def reminder_panel(form: PreferencesForm | None = None) -> ReminderPanel:
    """Everything the reminders section of Settings shows, for the signed-in user."""
    session = get_session()
    mine = devices(session, current_user)
    return ReminderPanel(
        form=form or preferences_form(formdata=None),
        devices=mine,
        public_key=current_app.config.get("CLOVER_VAPID_PUBLIC_KEY"),
        sms=sms_enabled(),
        wecom=wecom_enabled(),
        reach=reach(current_user, mine),
        unreachable=unreachable_devices(session, mine),
    )
