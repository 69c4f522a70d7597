"""Reminders in Settings (preferences, devices, a test) and the push subscription API."""

import uuid

import requests
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts import N_
from app.db import get_session
from app.inputs import validate
from app.models import ReminderStatus
from app.reminders.channels import build_channels
from app.reminders.devices import (
    ReminderError,
    UnsubscribeBody,
    remove_subscription,
    save_subscription,
    update_preferences,
)
from app.reminders.forms import preferences_form, reminder_panel
from app.reminders.preference import configured_channels
from app.reminders.sending import send_test
from app.types import utcnow
from app.web import json_body

bp = Blueprint("reminders", __name__)

TEST_RESULTS = {
    ReminderStatus.sent: ("success", N_("Test reminder sent. It should arrive in a moment.")),
    ReminderStatus.no_channel: (
        "error",
        N_("Nowhere to send it yet: turn on reminders on this phone, or add a number for SMS."),
    ),
    ReminderStatus.failed: (
        "error",
        N_("The test reminder could not be delivered. Today still lists every visit that is due."),
    ),
}


@bp.route("/settings/reminders", methods=["GET", "POST"])
@login_required
def preferences():
    form = preferences_form()
    if form.validate_on_submit():
        db = get_session()
        try:
            update_preferences(
                session=db,
                user=current_user,
                data=form.data,
                configured=configured_channels(current_app.config),
            )
        except ReminderError as error:
            db.rollback()
            getattr(form, error.field).errors.append(_(str(error)))
        else:
            db.commit()
            flash(_("Reminder settings saved."), "success")
            return redirect(url_for("settings.index") + "#reminders")
    return render_template("reminders/settings.html", panel=reminder_panel(form))


@bp.post("/settings/reminders/devices/<uuid:subscription_id>/remove")
@login_required
def remove_device(subscription_id: uuid.UUID):
    db = get_session()
    if not remove_subscription(session=db, user=current_user, subscription_id=subscription_id):
        abort(404)
    db.commit()
    flash(_("Device removed: it gets no more reminders."), "success")
    return redirect(url_for("settings.index") + "#reminders")


@bp.post("/settings/reminders/test")
@login_required
def test():
    with requests.Session() as http:
        channels = build_channels(current_app.config, http)
        reminder = send_test(
            get_session(),
            user=current_user,
            now=utcnow(),
            lease=current_app.config["CLOVER_REMINDER_LEASE"],
            channels=channels,
        )
    category, message = TEST_RESULTS[reminder.status]
    flash(_(message), category)
    return redirect(url_for("settings.index") + "#reminders")


@bp.post("/api/v1/push/subscriptions")
@login_required
def subscribe():
    """Turn on reminders by Web Push for this browser: its `PushSubscription.toJSON()`."""
    db = get_session()
    try:
        subscription = save_subscription(
            session=db,
            user=current_user,
            data=json_body(),
            user_agent=request.user_agent.string or "",
            allow_http=current_app.config["CLOVER_ENV"] != "production",
        )
    except ReminderError as error:
        return jsonify(error="bad_request", message=_(str(error)), field=error.field), 400
    db.commit()
    flash(_("Reminders are on for this device."), "success")
    return jsonify(id=str(subscription.id), label=subscription.label), 201


@bp.delete("/api/v1/push/subscriptions")
@login_required
def unsubscribe():
    db = get_session()
    body, _errors = validate(UnsubscribeBody, json_body())
    if body is None:
        message = _("The request could not be understood. Please try again.")
        return jsonify(error="bad_request", message=message), 400
    removed = remove_subscription(session=db, user=current_user, endpoint=body.endpoint)
    db.commit()
    if not removed:
        return jsonify(error="not_found", message=_("No such device.")), 404
    return "", 204
