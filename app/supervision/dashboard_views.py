"""The supervisor's dashboard and the director's city view."""

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import audit
from app.db import get_session
from app.due import schedule_today, schedule_zone, stored_standing
from app.i18n import VISIT_KIND_LABELS
from app.models import Role, User
from app.policy import Action, can, require, sees_user
from app.supervision import charts
from app.supervision.dashboard import (
    CONTACT_KINDS,
    ON_TIME_DAYS,
    NotOverseen,
    OfficerRow,
    UnitDashboard,
    city_view,
    officer_due_page,
    unit_dashboard,
)
from app.types import utcnow

bp = Blueprint("dashboard", __name__)

# the officers' table: its columns, their sort keys and the first direction a click sorts
COLUMNS = {
    "name": (_l("Officer"), "asc"),
    "caseload": (_l("Caseload"), "desc"),
    "overdue": (_l("Overdue"), "desc"),
    "due_week": (_l("Due this week"), "desc"),
    "contacts_month": (_l("Contacts this month"), "desc"),
    "on_time": (_l("On-time rate"), "asc"),
    "last_contact": (_l("Last contact"), "asc"),
}
SORT_VALUES = {
    "name": lambda row: row.name,
    "caseload": lambda row: row.caseload,
    "overdue": lambda row: row.overdue,
    "due_week": lambda row: row.due_week,
    "contacts_month": lambda row: row.contacts_month,
    "on_time": lambda row: row.on_time_rate,
    "last_contact": lambda row: row.last_contact_at,
}
DEFAULT_SORT = ("overdue", "desc")
FUNNEL_LABELS = {
    "enrolled": _l("On the books"),
    "released": _l("Released"),
    "first_contact": _l("First contact"),
    "regular": _l("Regular follow-up"),
    "closed": _l("Closed"),
}


def phase_label(phase) -> str:
    """'Before release', 'Days 0–89 after release', 'Day 365 on after release'."""
    if phase.key == "pre_release":
        return _("Before release")
    if phase.key == "unknown":
        return _("Release date unknown")
    if phase.until_day is None:
        return _("Day %(start)d on after release", start=phase.start_day)
    return _("Days %(start)d–%(end)d after release", start=phase.start_day, end=phase.until_day - 1)


def build_charts(d: UnitDashboard) -> dict:
    """The dashboard's three charts as SVG, their labels translated."""
    months = [format_date(date.fromisoformat(f"{m}-01"), "MMM") for m in d.monthly.months]
    values = {
        (i, kind): d.monthly.count(month, kind)
        for i, month in enumerate(d.monthly.months)
        for kind in CONTACT_KINDS
    }
    officers = [row for row in d.officers if row.officer_id is not None]
    return {
        "monthly": charts.stacked_bars(
            chart_id="chart-monthly",
            title=_("Contacts by month and kind, last 12 months"),
            categories=months,
            series=[(kind, str(VISIT_KIND_LABELS[kind])) for kind in CONTACT_KINDS],
            values=values,
        ),
        "on_time": charts.horizontal_bars(
            chart_id="chart-on-time",
            title=_("On-time rate by officer, last %(days)d days", days=ON_TIME_DAYS),
            rows=[(row.name, row.on_time_rate) for row in officers],
        ),
        "funnel": charts.funnel(
            chart_id="chart-funnel",
            title=_("From release to regular follow-up"),
            stages=[(str(FUNNEL_LABELS[stage]), count) for stage, count in d.funnel],
        ),
    }


def sort_officers(rows: list[OfficerRow], key: str, direction: str) -> list[OfficerRow]:
    """The table in the asked order; rows with no value and people with no officer last."""
    value = SORT_VALUES[key]
    known = [r for r in rows if r.officer_id is not None and value(r) is not None]
    unknown = [r for r in rows if r.officer_id is not None and value(r) is None]
    known.sort(key=lambda r: (value(r), r.name), reverse=direction == "desc")
    unknown.sort(key=lambda r: r.name)
    return known + unknown + [r for r in rows if r.officer_id is None]


def _sort_args() -> tuple[str, str]:
    key = request.args.get("sort", DEFAULT_SORT[0])
    direction = request.args.get("dir", "")
    if key not in COLUMNS:
        return DEFAULT_SORT
    return key, direction if direction in ("asc", "desc") else COLUMNS[key][1]


def home():
    """A supervisor's home: her unit at a glance (also the app's `/` for her)."""
    require(current_user, Action.unit_overview)
    db = get_session()
    try:
        figures = unit_dashboard(
            db, current_user, today=schedule_today(utcnow()), zone=schedule_zone()
        )
    except NotOverseen:
        abort(404)
    key, direction = _sort_args()
    if figures.named():
        audit.record_read(db, user=current_user, page="supervision", people=figures.named())
        db.commit()
    return render_template(
        "supervision/dashboard.html",
        d=figures,
        charts=build_charts(figures),
        phase_label=phase_label,
        FUNNEL_LABELS=FUNNEL_LABELS,
        ON_TIME_DAYS=ON_TIME_DAYS,
        CONTACT_KINDS=CONTACT_KINDS,
        officers=sort_officers(figures.officers, key, direction),
        columns=COLUMNS,
        sort=key,
        direction=direction,
    )


@bp.get("/")
@login_required
def index():
    if can(current_user, Action.city_view) and current_user.unit_id is None:
        return redirect(url_for("dashboard.city"))
    return home()


@bp.get("/officers/<uuid:officer_id>")
@login_required
def officer(officer_id):
    """One officer's due list, most urgent first, a page at a time."""
    require(current_user, Action.unit_overview)
    db = get_session()
    officer = db.get(User, officer_id)
    if officer is None or officer.role != Role.officer or not sees_user(current_user, officer):
        abort(404)
    page = officer_due_page(db, current_user, officer, page=request.args.get("page", 1, int))
    today = schedule_today(utcnow())
    rows = [(person, stored_standing(person).on(today)) for person in page.people]
    if page.people:
        audit.record_read(db, user=current_user, page="supervision.officer", people=page.people)
        db.commit()
    return render_template("supervision/officer.html", officer=officer, page=page, rows=rows)


@bp.get("/city")
@login_required
def city():
    """Every unit's figures side by side: counts only, nobody named."""
    require(current_user, Action.city_view)
    figures = city_view(
        get_session(), current_user, today=schedule_today(utcnow()), zone=schedule_zone()
    )
    return render_template("supervision/city.html", city=figures)
