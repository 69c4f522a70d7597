"""The signed-in user's own settings: language and time zone."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField

from app import audit
from app.db import get_session
from app.forms import choices
from app.i18n import LANGUAGE_NAMES, TIMEZONE_LABELS
from app.types import utcnow

bp = Blueprint("settings", __name__)


class SettingsForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES.items()))
    timezone = SelectField(_l("Time zone"), choices=choices(TIMEZONE_LABELS.items()))


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        db = get_session()
        current_user.locale = form.locale.data
        current_user.timezone = form.timezone.data
        current_user.updated_at = utcnow()
        db.add(current_user)
        audit.record(
            db,
            user=current_user,
            action="settings_change",
            details={"locale": form.locale.data, "timezone": form.timezone.data},
        )
        db.commit()
        with force_locale(form.locale.data):
            flash(_("Settings saved."), "success")
        return redirect(url_for("settings.index"))
    return render_template("settings/index.html", form=form)


# the pages of other modules register on bp: imported last, once bp exists
from app.settings import (  # noqa: E402
    password,  # noqa: F401 - her own password, and changing it first after a reset
    second_factor,  # noqa: F401 - the second-factor page
    sessions,  # noqa: F401 - My sessions
)
