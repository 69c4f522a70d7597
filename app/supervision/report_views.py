"""Periodic reports (monthly, quarterly, yearly) and personal-data exports.

`/reports/` shows the form and the printable report, `/reports/report.xlsx` and
`/reports/report.csv` the same figures as files (audited as aggregate downloads). The
query string names the period: `kind` (month, quarter, year), `year`, `month` or
`quarter`, and for a director or an administrator `unit` (none: every unit side by side).
"""

import uuid

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app import audit
from app.db import get_session
from app.due import schedule_today, schedule_zone
from app.models import Role, Unit
from app.policy import Action, require, units_scope
from app.supervision.export import REASON_MAX, REASON_MIN, export_xlsx, personal_export
from app.supervision.period import Period, PeriodKind
from app.supervision.report import Report, build_report
from app.supervision.report_files import layout, period_label, share_text, to_csv, to_xlsx
from app.types import utcnow

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def requested_period() -> Period:
    """The period the query string names; last month when it names none; 400 when wrong."""
    args = request.args
    if "kind" not in args:
        return Period.previous_month(schedule_today())
    try:
        kind = PeriodKind(args["kind"])
        number = {PeriodKind.month: "month", PeriodKind.quarter: "quarter"}.get(kind)
        return Period(kind, int(args["year"]), int(args[number]) if number else 1)
    except (KeyError, ValueError):
        abort(400)


def requested_unit() -> uuid.UUID | None:
    """The one unit asked for, by a reader of several; her own for a supervisor."""
    if current_user.role == Role.supervisor:
        return current_user.unit_id
    value = request.args.get("unit", "")
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(400)


def _report() -> Report:
    require(current_user, Action.report_view)
    period = requested_period()
    unit_id = requested_unit()
    report = build_report(
        get_session(), current_user, period, zone=schedule_zone(), unit_id=unit_id
    )
    if unit_id is not None and not report.units:
        abort(404)  # a unit that is not there, or not hers
    return report


@bp.get("/")
@login_required
def index():
    report = _report()
    units = get_session().exec(
        select(Unit.id, Unit.name).where(units_scope(current_user, Unit.id)).order_by(Unit.name)
    )
    return render_template(
        "reports/index.html",
        report=report,
        sections=layout(report),
        period_label=period_label(report),
        share_text=share_text,
        units=units.all() if current_user.role != Role.supervisor else [],
        today=schedule_today(),
        args=request.args.to_dict() if "kind" in request.args else _period_args(report.period),
    )


def _period_args(period: Period) -> dict:
    args = {"kind": period.kind.value, "year": period.year}
    if period.kind != PeriodKind.year:
        args[period.kind.value] = period.number
    return args


def _download(report: Report, form: str, body, mimetype: str) -> Response:
    db = get_session()
    details = {
        "format": form,
        "period": report.period.key,
        "units": [str(u.unit_id) for u in report.units],
    }
    audit.record(db, user=current_user, action="report_download", details=details)
    db.commit()
    name = f"report-{report.period.key}.{form}"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/report.xlsx")
@login_required
def report_xlsx():
    report = _report()
    generated = utcnow().astimezone(schedule_zone())
    body = to_xlsx(report, layout(report), generated=generated)
    return _download(report, "xlsx", body, XLSX)


@bp.get("/report.csv")
@login_required
def report_csv():
    report = _report()
    return _download(report, "csv", to_csv(report, layout(report)), "text/csv")


# --- personal-data export: her unit's people and visits, with a stated reason -----------


class ExportForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you need this export?"),
        validators=[
            DataRequired(message=_l("State why you need this personal data.")),
            Length(
                min=REASON_MIN,
                max=REASON_MAX,
                message=_l("Write the reason in %(min)d to %(max)d characters."),
            ),
        ],
        description=_l("Kept in the audit trail with the export."),
        render_kw={"rows": 3, "maxlength": REASON_MAX},
    )


@bp.route("/export", methods=["GET", "POST"])
@login_required
def export():
    require(current_user, Action.personal_export)
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template(
            "reports/export.html", form=form
        ), 400 if form.is_submitted() else 200
    db = get_session()
    data = personal_export(db, current_user)
    reason = form.reason.data.strip()
    details = {
        "reason": reason,
        "unit": str(current_user.unit_id),
        "people_count": len(data.people),
        "visit_count": len(data.visits),
        "people": [str(person.id) for person, _officer in data.people],
    }
    body = export_xlsx(data, zone=schedule_zone())
    audit.record(db, user=current_user, action="personal_export", details=details)
    db.commit()
    name = f"personal-data-{schedule_today().isoformat()}.xlsx"
    return Response(
        body, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
