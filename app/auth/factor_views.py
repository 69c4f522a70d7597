"""The second sign-in step: enrol in a second factor, or give a code from it.

Both follow a right password (app.auth.signin.begin_sign_in keeps her as pending) and
end in complete_sign_in. A wrong code counts as a failed sign-in, like a wrong password.
"""

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.auth import bp, lockout, totp
from app.auth.signin import complete_sign_in, pending_user
from app.auth.throttle import sign_in_limit
from app.crypto import get_cipher
from app.db import get_session
from app.types import utcnow


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("Enter the code.")), Length(max=40)],
    )


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Your current password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=200)],
    )


def setup_secret(user) -> str:
    """The secret she is setting up now: kept encrypted in her session until confirmed."""
    cipher = get_cipher()
    kept = session.get("totp_setup") or {}
    secret = cipher.decrypt(kept["secret"]) if kept.get("user_id") == str(user.id) else None
    if secret is None:
        secret = totp.new_secret()
        session["totp_setup"] = {"user_id": str(user.id), "secret": cipher.encrypt(secret)}
    return secret


def setup_view(user, secret: str) -> dict:
    """What the set-up partial shows: the QR code (inline SVG) and the secret as text."""
    uri = totp.provisioning_uri(secret, user.username)
    return {
        "qr": totp.qr_svg(uri, title=_("QR code for your authenticator app")),
        "secret": totp.grouped(secret),
    }


def show_recovery_codes(codes: list[str], next_url: str):
    """Her new recovery codes, shown once.

    Rendered as the app shell is (no user named to the page's scripts): the offline store
    does not keep the page, and the phone's lock does not take her away to set a PIN
    before she has written the codes down.
    """
    return render_template("auth/recovery_codes.html", codes=codes, next=next_url, app_shell=True)


def _start_over():
    flash(_("Please sign in again."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/enrol", methods=["GET", "POST"])
@sign_in_limit
def enrol():
    """Her first sign-in since her role requires a second factor: set one up."""
    user, next_url = pending_user()
    if user is None:
        return _start_over()
    if totp.is_enrolled(user):
        return redirect(url_for("auth.second_factor"))
    secret = setup_secret(user)
    form = CodeForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            codes = totp.enrol(db, user, secret=secret, code=form.code.data, now=utcnow())
        except totp.FactorError as error:
            form.code.errors.append(_(str(error)))
        else:
            done = complete_sign_in(user, next_url, method="totp_enrol")
            return show_recovery_codes(codes, done.location)
    return render_template("auth/enrol.html", form=form, **setup_view(user, secret))


@bp.route("/second-factor", methods=["GET", "POST"])
@sign_in_limit
def second_factor():
    """The code from her authenticator app, or one of her recovery codes."""
    user, next_url = pending_user()
    if user is None:
        return _start_over()
    if not totp.is_enrolled(user):
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        db, now = get_session(), utcnow()
        user = totp.for_update(db, user)
        if lockout.is_locked(user, now):
            form.code.errors.append(_("Too many wrong tries. Wait a while, then sign in again."))
            return render_template("auth/second_factor.html", form=form)
        method = totp.second_step(db, user, form.code.data, now=now)
        if method is not None:
            return complete_sign_in(user, next_url, method=method)
        db.commit()
        form.code.errors.append(_("That code is not right, or it was used already."))
    return render_template("auth/second_factor.html", form=form)
