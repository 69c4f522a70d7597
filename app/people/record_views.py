"""The support application (consent) and the support plan: new versions and their history."""

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.db import get_session
from app.models import Unit
from app.people import bp
from app.people.common import (
    form_data,
    parse_uuid,
    person_or_404,
    record_view,
    show_errors,
    today,
    zone,
)
from app.people.forms import ConsentForm, PlanForm, WithdrawForm
from app.people.records import (
    consent_versions,
    current_consent,
    current_plan,
    plan_versions,
    record_consent,
    record_plan,
    withdraw_consent,
)
from app.people.validation import MAX_PHASES, Invalid
from app.policy import Action, require


def _save_version(person, form, save, message, anchor: str):
    """Save the posted version; commit, say so, and say when someone else saved one in
    between (both are kept). None when the form has errors, now shown on it."""
    try:
        record = save(
            session=get_session(),
            user=current_user,
            person=person,
            data=form_data(),
            today=today(),
            zone=zone(),
            record_id=parse_uuid(form.record_id.data),
        )
    except Invalid as invalid:
        show_errors(form, invalid.errors)
        return None
    get_session().commit()
    flash(message(record.version), "success")
    base_version = form.base_version.data
    if base_version and record.version > int(base_version) + 1:
        flash(_("Someone else saved a version meanwhile; both are kept in the history."), "info")
    return redirect(url_for("people.ledger", person_id=person.id, _anchor=anchor))


@bp.route("/<uuid:person_id>/consent", methods=["GET", "POST"])
@login_required
def consent(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.consent_record, person)
    db, form = get_session(), ConsentForm()
    latest = current_consent(db, person)
    if request.method == "GET":
        form.record_id.data, form.base_version.data = (
            str(uuid.uuid4()),
            latest.version if latest else 0,
        )
        form.signed_on.data = today().isoformat()
        if latest:
            form.consents.data = [k for k, agreed in latest.consents.items() if agreed]
            form.help_requested.data = latest.help_requested
            form.preferred_contact_times.data = latest.preferred_contact_times
        record_view(person, "consent_form")
    elif form.validate_on_submit():
        saved = _save_version(
            person,
            form,
            record_consent,
            lambda n: _("Support application saved as version %(n)d.", n=n),
            "consent",
        )
        if saved:
            return saved
    return render_template("people/consent_form.html", form=form, person=person, latest=latest)


@bp.route("/<uuid:person_id>/consent/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.consent_record, person)
    db, form = get_session(), WithdrawForm()
    if form.validate_on_submit():
        try:
            withdraw_consent(
                session=db, user=current_user, person=person, reason=form.reason.data, zone=zone()
            )
        except Invalid as invalid:
            show_errors(form, invalid.errors)
        else:
            db.commit()
            flash(_("Consent withdrawn. No visits can be recorded or scheduled for her."), "info")
            return redirect(url_for("people.ledger", person_id=person.id))
    return render_template("people/withdraw.html", form=form, person=person)


@bp.get("/<uuid:person_id>/consent/history")
@login_required
def consent_history(person_id: uuid.UUID):
    person = person_or_404(person_id)
    versions = consent_versions(get_session(), person)
    record_view(person, "consent_history")
    return render_template("people/consent_history.html", person=person, versions=versions)


def _cadence_rows(form_values, cadence) -> list[dict]:
    """The phase rows of the plan form: posted values, else the cadence given, padded."""
    if request.method == "POST":
        rows = [
            {
                "until_day": form_values.get(f"until_day_{i}", ""),
                "every_days": form_values.get(f"every_days_{i}", ""),
            }
            for i in range(MAX_PHASES)
        ]
    else:
        rows = [{"until_day": p["until_day"] or "", "every_days": p["every_days"]} for p in cadence]
    return (rows + [{"until_day": "", "every_days": ""}] * MAX_PHASES)[:MAX_PHASES]


@bp.route("/<uuid:person_id>/plan", methods=["GET", "POST"])
@login_required
def plan(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.plan_record, person)
    db, form = get_session(), PlanForm()
    latest = current_plan(db, person)
    if request.method == "GET":
        form.record_id.data, form.base_version.data = (
            str(uuid.uuid4()),
            latest.version if latest else 0,
        )
        if latest:
            form.goals.data, form.focus_areas.data = latest.goals, latest.focus_areas
            form.contact_kinds.data = latest.contact_kinds
            form.review_on.data = latest.review_on.isoformat() if latest.review_on else ""
        record_view(person, "plan_form")
    elif form.validate_on_submit():
        saved = _save_version(
            person,
            form,
            record_plan,
            lambda n: _("Support plan saved as version %(n)d.", n=n),
            "plan",
        )
        if saved:
            return saved
    cadence = latest.cadence if latest else db.get(Unit, person.unit_id).default_cadence
    rows = _cadence_rows(request.form, cadence)
    return render_template("people/plan_form.html", form=form, person=person, rows=rows)


@bp.get("/<uuid:person_id>/plan/history")
@login_required
def plan_history(person_id: uuid.UUID):
    person = person_or_404(person_id)
    versions = plan_versions(get_session(), person)
    record_view(person, "plan_history")
    return render_template("people/plan_history.html", person=person, versions=versions)
