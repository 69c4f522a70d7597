"""Today: the home page, the caseload of the signed-in user."""

from itertools import groupby

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlmodel import select

from app.caseload import caseload
from app.db import get_session
from app.due import count_due, due_items
from app.models import Role, User
from app.schedule import local_date
from app.types import utcnow

bp = Blueprint("today", __name__)


@bp.get("/")
@login_required
def index():
    db = get_session()
    rows = caseload(db, current_user)
    groups = None
    if current_user.role in (Role.supervisor, Role.admin):
        ids = {row[0].assigned_officer_id for row in rows}
        officers = {u.id: u for u in db.exec(select(User).where(User.id.in_(ids)))}
        rows = sorted(rows, key=lambda row: str(row[0].assigned_officer_id or ""))
        groups = [
            (officers.get(officer_id), list(items))
            for officer_id, items in groupby(rows, key=lambda row: row[0].assigned_officer_id)
        ]
    today = local_date(utcnow(), current_user.timezone)
    due_counts = count_due(due_items(db, current_user, today=today, timezone=current_user.timezone))
    return render_template("today/index.html", rows=rows, groups=groups, due_counts=due_counts)
