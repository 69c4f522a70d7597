"""Her second factor in Settings: set one up, get new recovery codes, turn it off.

Turning it off is for roles where it is optional; new codes and turning off ask for her
current password, so a session left open on a shared desk cannot change her factor.
"""

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash

from app import audit
from app.auth import totp
from app.auth.factor_views import (
    CodeForm,
    ConfirmPasswordForm,
    setup_secret,
    setup_view,
    show_recovery_codes,
)
from app.auth.throttle import sign_in_limit
from app.db import get_session
from app.settings import bp
from app.types import utcnow


def _page(*, code_form=None, codes_form=None, off_form=None):
    enrolled = totp.is_enrolled(current_user)
    setup = {} if enrolled else setup_view(current_user, setup_secret(current_user))
    return render_template(
        "settings/second_factor.html",
        enrolled=enrolled,
        required=totp.required_for(current_user),
        left=totp.unused_recovery_codes(get_session(), current_user) if enrolled else 0,
        code_form=code_form or CodeForm(),
        codes_form=codes_form or ConfirmPasswordForm(prefix="codes"),
        off_form=off_form or ConfirmPasswordForm(prefix="off"),
        **setup,
    )


@bp.route("/second-factor", methods=["GET", "POST"])
@login_required
def second_factor():
    form = CodeForm()
    if totp.is_enrolled(current_user) or not form.validate_on_submit():
        return _page(code_form=form)
    db = get_session()
    secret = setup_secret(current_user)
    try:
        codes = totp.enrol(db, current_user, secret=secret, code=form.code.data, now=utcnow())
    except totp.FactorError as error:
        form.code.errors.append(_(str(error)))
        return _page(code_form=form)
    db.commit()
    session.pop("totp_setup", None)
    return show_recovery_codes(codes, url_for("settings.second_factor"))


def _password_confirmed(form) -> bool:
    if not form.validate_on_submit():
        return False
    if check_password_hash(current_user.password_hash, form.password.data):
        return True
    form.password.errors.append(_("That is not your current password."))
    return False


@bp.post("/second-factor/recovery-codes")
@login_required
@sign_in_limit
def recovery_codes():
    """Ten new recovery codes in place of her old ones (after using some, or losing them)."""
    form = ConfirmPasswordForm(prefix="codes")
    if not totp.is_enrolled(current_user) or not _password_confirmed(form):
        return _page(codes_form=form)
    db = get_session()
    codes = totp.new_recovery_codes(db, current_user, now=utcnow())
    audit.record(db, user=current_user, action="second_factor_recovery_codes", target=current_user)
    db.commit()
    return show_recovery_codes(codes, url_for("settings.second_factor"))


@bp.post("/second-factor/off")
@login_required
@sign_in_limit
def second_factor_off():
    if totp.required_for(current_user):
        abort(403)
    form = ConfirmPasswordForm(prefix="off")
    if not _password_confirmed(form):
        return _page(off_form=form)
    db = get_session()
    totp.turn_off(db, current_user, now=utcnow())
    db.commit()
    flash(_("Second factor turned off."), "success")
    return redirect(url_for("settings.second_factor"))
