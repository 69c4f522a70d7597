"""People and their ledgers."""

import uuid

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlmodel import func, select

from app import audit
from app.caseload import caseload_query
from app.db import get_session
from app.models import Person, User, Visit
from app.policy import Action, require

bp = Blueprint("people", __name__)
PAGE_SIZE = 30


@bp.get("/")
@login_required
def index():
    require(current_user, Action.person_list)
    db = get_session()
    page = max(request.args.get("page", 1, type=int), 1)
    query = caseload_query(current_user, include_closed=True)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    rows = db.exec(
        query.order_by(Person.name).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template("people/index.html", rows=rows, page=page, pages=pages, total=total)


@bp.get("/<uuid:person_id>")
@login_required
def ledger(person_id: uuid.UUID):
    db = get_session()
    person = db.get(Person, person_id)
    if person is None:
        abort(404)
    require(current_user, Action.person_view, person)
    visits = db.exec(
        select(Visit, User)
        .join(User, User.id == Visit.author_id)
        .where(Visit.person_id == person.id)
        .order_by(Visit.occurred_at.desc())
    ).all()
    officer = db.get(User, person.assigned_officer_id) if person.assigned_officer_id else None
    audit.record(db, user=current_user, action="person_view", person=person, target=person)
    db.commit()
    return render_template("people/ledger.html", person=person, visits=visits, officer=officer)
