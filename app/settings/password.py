"""Her own password in Settings, and the must-change rule after an administrator's reset.

The current password is always asked for, even right after a reset (the one-time password
is her current one): a session left open on a shared desk cannot change it. A new password
ends every other session of hers.
"""

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from app.auth.throttle import sign_in_limit
from app.contract import commit
from app.db import get_session
from app.passwords import PasswordError, change_password
from app.settings import bp
from app.types import utcnow

# what she may still open while her password must change: this page, sign-out, and what is
# the same for everyone (files, the service worker, the offline shell, the health check)
OPEN_WHILE_MUST_CHANGE = {
    "settings.password",
    "auth.logout",
    "static",
    "offline.service_worker",
    "offline.page",
    "offline.outbox",
    "offline.contract_document",
    "health.healthz",
}


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")), Length(max=200)],
    )
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Enter a new password.")), Length(max=200)],
        description=_l(
            "At least 12 characters; not a common password, and not containing your username."
        ),
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(message=_l("Repeat the new password.")), Length(max=200)],
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
@sign_in_limit
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        db = get_session()
        here = g.get("user_session")
        try:
            ended = change_password(
                db,
                user=current_user,
                current=form.current.data,
                new=form.password.data,
                repeat=form.repeat.data,
                keep=here.id if here is not None else None,
                environment=current_app.config["CLOVER_ENV"],
                now=utcnow(),
            )
        except PasswordError as error:
            getattr(form, error.field).errors.append(_(str(error)))
        else:
            commit(db)
            flash(_("Your password is changed."), "success")
            if ended:
                flash(
                    ngettext(
                        "Signed out on %(num)d other device.",
                        "Signed out on %(num)d other devices.",
                        ended,
                    ),
                    "info",
                )
            return redirect(url_for("settings.index"))
    return render_template(
        "settings/password.html", form=form, must_change=current_user.must_change_password
    )


@bp.before_app_request
def _password_first():
    """While her password must change, every page sends her to change it first."""
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.endpoint in OPEN_WHILE_MUST_CHANGE:
        return None
    if request.path.startswith("/api/"):
        abort(403)
    return redirect(url_for("settings.password"))
