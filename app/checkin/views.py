"""The check-in pages: hers behind her link (no account, nothing of her record shown), and
her officer's actions on her ledger (give a link, text it, revoke it)."""

import uuid

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import audit
from app.auth.throttle import client_address
from app.auth.totp import qr_svg
from app.checkin import bp
from app.checkin.service import (
    DAILY_CHECK_INS,
    CheckInOutcome,
    check_in,
    check_in_panel,
    find_link,
    issue_link,
    revoke_link,
)
from app.checkin.sms import send_link, sms_ready
from app.contract import commit, rollback
from app.db import get_session
from app.extensions import limiter
from app.i18n import translated_errors
from app.models import Person
from app.people.common import person_or_404
from app.policy import may_manage_check_in_link
from app.reminders.channels import Outcome as Delivery
from app.reminders.channels import mask_phone
from app.types import utcnow

# per client address, every method: a mobile carrier puts many phones behind one address,
# so generous (CLOVER_CHECKIN_LIMITS); the per-link daily count is the real bound
_by_address = limiter.limit(
    lambda: current_app.config["CLOVER_CHECKIN_LIMITS"],
    key_func=client_address,
    scope="check-in-address",
)


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals.update(
        check_in_panel=lambda person: check_in_panel(get_session(), person, now=utcnow()),
        may_manage_check_in_link=lambda person: may_manage_check_in_link(current_user, person),
        check_in_sms_ready=lambda: sms_ready(current_app.config),
    )


def _gone():
    """The one answer to a link that does not write: unknown, expired or revoked alike."""
    return render_template("checkin/gone.html"), 404


@bp.route("/c/<token>", methods=["GET", "POST"])
@_by_address
def form(token: str):
    db = get_session()
    now = utcnow()
    link = find_link(db, token, now=now)
    if link is None:
        return _gone()
    if request.method == "GET":
        done = request.args.get("done") == "1"
        return render_template(
            "checkin/form.html", done=done, values={}, errors={}, form_id=uuid.uuid4()
        )
    result = check_in(session=db, link=link, form=request.form, now=now)
    if result.outcome == CheckInOutcome.saved:
        commit(db)
        return redirect(url_for(".form", token=token, done=1), 303)
    rollback(db)
    if result.outcome == CheckInOutcome.gone:
        return _gone()
    refusal = None
    if result.outcome == CheckInOutcome.too_many:
        refusal = _(
            "You have checked in %(num)d times today. Please come back tomorrow.",
            num=DAILY_CHECK_INS,
        )
    page = render_template(
        "checkin/form.html",
        done=False,
        values=request.form,
        form_id=uuid.uuid4(),
        errors=translated_errors(result.errors),
        refusal=refusal,
    )
    return page, 429 if refusal else 422


def _person(person_id: uuid.UUID) -> Person:
    """Her, when the signed-in user may manage her link: 404 out of scope, else 403."""
    person = person_or_404(person_id)
    if not may_manage_check_in_link(current_user, person):
        abort(403)
    return person


def _link_url(token: str) -> tuple[str, str]:
    """The link as she opens it (absolute) and its path within the app."""
    path = url_for(".form", token=token)
    base = current_app.config.get("CLOVER_BASE_URL")
    return (f"{base}{path}" if base else url_for(".form", token=token, _external=True)), path


def _back(person: Person):
    return redirect(url_for("people.ledger", person_id=person.id, _anchor="check-in"), 303)


@bp.post("/people/<uuid:person_id>/check-in-link")
@login_required
def issue(person_id: uuid.UUID):
    person = _person(person_id)
    db = get_session()
    days = current_app.config["CLOVER_CHECKIN_DAYS"]
    link, token = issue_link(session=db, user=current_user, person=person, now=utcnow(), days=days)
    commit(db)
    url, _path = _link_url(token)
    qr = qr_svg(url, title=_("Check-in link QR code"))
    return render_template(
        "checkin/issued.html", person=person, link=link, url=url, qr=qr, daily=DAILY_CHECK_INS
    )


@bp.post("/people/<uuid:person_id>/check-in-link/sms")
@login_required
def send(person_id: uuid.UUID):
    person = _person(person_id)
    if not sms_ready(current_app.config) or not person.phone:
        abort(409)  # the page offers no button then
    db = get_session()
    days = current_app.config["CLOVER_CHECKIN_DAYS"]
    link, token = issue_link(session=db, user=current_user, person=person, now=utcnow(), days=days)
    url, path = _link_url(token)
    attempt = send_link(
        current_app.config, person_id=person.id, phone=person.phone, url=url, path=path
    )
    details = {"phone": mask_phone(person.phone), "outcome": attempt.outcome.value}
    if attempt.outcome == Delivery.delivered:
        details["link"] = str(link.id)
        flash(
            _("A new check-in link was sent to %(phone)s.", phone=mask_phone(person.phone)),
            "success",
        )
    else:
        # not delivered: no new link, the one before stays in force
        rollback(db)
        flash(
            _("The text message could not be sent; her link is unchanged. Try again later."),
            "error",
        )
    audit.record(db, user=current_user, action="check_in_link_sms", person=person, details=details)
    commit(db)
    return _back(person)


@bp.post("/people/<uuid:person_id>/check-in-link/revoke")
@login_required
def revoke(person_id: uuid.UUID):
    person = _person(person_id)
    db = get_session()
    if revoke_link(session=db, user=current_user, person=person, now=utcnow()):
        flash(_("Her check-in link was revoked: it no longer works."), "success")
    commit(db)
    return _back(person)
