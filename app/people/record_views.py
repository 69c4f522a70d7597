"""The support application (consent) and the support plan: new versions and their history."""

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.contract import StaleEdit, commit
from app.db import get_session
from app.i18n import CONSENT_LABELS, FOCUS_LABELS, HELP_LABELS, VISIT_KIND_LABELS
from app.models import Consent, Unit
from app.people import bp
from app.people.common import (
    base_version,
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
    """Save the posted version, commit and say so. When the form has errors they are shown
    on it and None is returned; when another version was saved since the form was opened,
    nothing is saved and `StaleEdit` tells the caller which version stands now."""
    try:
        record = save(
            session=get_session(),
            user=current_user,
            person=person,
            data=form_data(),
            today=today(),
            zone=zone(),
            base_version=base_version("base_version"),
            record_id=parse_uuid(form.record_id.data),
        )
    except Invalid as invalid:
        show_errors(form, invalid.errors)
        return None
    commit(get_session())
    flash(message(record.version), "success")
    return redirect(url_for("people.ledger", person_id=person.id, _anchor=anchor))


def _posted(person, form, save, message, anchor: str, latest):
    """Save the posted form: (the redirect or None, the version in force, was hers stale)."""
    try:
        return _save_version(person, form, save, message, anchor), latest, False
    except StaleEdit as edit:
        return None, edit.record, True


def _versioned_form(template: str, form, person, latest, stale: bool, **context):
    """The form, fresh or as posted; after a stale save, what stands now beside her input.

    Only a fresh form, or one answered with the version now in force, takes that version:
    a form posted with errors keeps the one it was opened at.
    """
    if request.method == "GET" or stale:
        form.base_version.data = latest.version if latest else 0
    form.record_id.data = form.record_id.data or str(uuid.uuid4())
    now = _in_force(latest) if stale and latest else []
    page = render_template(
        template, form=form, person=person, latest=latest, stale=stale, stale_now=now, **context
    )
    return page, 409 if stale else 200


def _labels(codes, labels) -> str:
    return "、".join(str(labels[code]) for code in codes if code in labels) or "—"


def _in_force(latest) -> list[str]:
    """The version in force, line by line, to show beside a stale form's input."""
    lines = [_("Version %(n)d is in force now:", n=latest.version)]
    if isinstance(latest, Consent):
        agreed = [code for code, yes in latest.consents.items() if yes]
        lines += [
            _("Date signed: %(date)s", date=format_date(latest.signed_on)),
            _("She consents to: %(items)s", items=_labels(agreed, CONSENT_LABELS)),
            _("Help she asks for: %(items)s", items=_labels(latest.help_requested, HELP_LABELS)),
            _("Preferred contact times: %(times)s", times=latest.preferred_contact_times or "—"),
        ]
    else:
        kinds = _labels(latest.contact_kinds, VISIT_KIND_LABELS)
        lines += [
            _("Goals: %(goals)s", goals=latest.goals or "—"),
            _("Focus areas: %(items)s", items=_labels(latest.focus_areas, FOCUS_LABELS)),
            _("Contact kinds planned: %(items)s", items=kinds),
        ]
    return lines


@bp.route("/<uuid:person_id>/consent", methods=["GET", "POST"])
@login_required
def consent(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.consent_record, person)
    db, form, stale = get_session(), ConsentForm(), False
    latest = current_consent(db, person)
    if request.method == "GET":
        form.signed_on.data = today().isoformat()
        if latest:
            form.consents.data = [k for k, agreed in latest.consents.items() if agreed]
            form.help_requested.data = latest.help_requested
            form.preferred_contact_times.data = latest.preferred_contact_times
        record_view(person, "consent_form")
    elif form.validate_on_submit():
        message = lambda n: _("Support application saved as version %(n)d.", n=n)  # noqa: E731
        saved, latest, stale = _posted(person, form, record_consent, message, "consent", latest)
        if saved:
            return saved
    return _versioned_form("people/consent_form.html", form, person, latest, stale)


@bp.route("/<uuid:person_id>/consent/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.consent_record, person)
    db, form, stale = get_session(), WithdrawForm(), False
    if form.validate_on_submit():
        try:
            withdraw_consent(
                session=db, user=current_user, person=person, reason=form.reason.data, zone=zone()
            )
        except Invalid as invalid:
            show_errors(form, invalid.errors)
        except StaleEdit:
            stale = True
        else:
            commit(db)
            flash(_("Consent withdrawn. No visits can be recorded or scheduled for her."), "info")
            return redirect(url_for("people.ledger", person_id=person.id))
    now = [_("Her consent as it stands now is shown on her ledger.")]
    page = render_template(
        "people/withdraw.html", form=form, person=person, stale=stale, stale_now=now
    )
    return page, 409 if stale else 200


@bp.get("/<uuid:person_id>/consent/history")
@login_required
def consent_history(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.person_records, person)
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
    db, form, stale = get_session(), PlanForm(), False
    latest = current_plan(db, person)
    if request.method == "GET":
        if latest:
            form.goals.data, form.focus_areas.data = latest.goals, latest.focus_areas
            form.contact_kinds.data = latest.contact_kinds
            form.review_on.data = latest.review_on.isoformat() if latest.review_on else ""
        record_view(person, "plan_form")
    elif form.validate_on_submit():
        message = lambda n: _("Support plan saved as version %(n)d.", n=n)  # noqa: E731
        saved, latest, stale = _posted(person, form, record_plan, message, "plan", latest)
        if saved:
            return saved
    cadence = latest.cadence if latest else db.get(Unit, person.unit_id).default_cadence
    rows = _cadence_rows(request.form, cadence)
    return _versioned_form("people/plan_form.html", form, person, latest, stale, rows=rows)


@bp.get("/<uuid:person_id>/plan/history")
@login_required
def plan_history(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.person_records, person)
    versions = plan_versions(get_session(), person)
    record_view(person, "plan_history")
    return render_template("people/plan_history.html", person=person, versions=versions)
