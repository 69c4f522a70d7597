"""The audit viewer, its CSV export, and a person's subject-access export.

A supervisor reads her unit's trail (its people and its users), an admin everyone's;
filtered by one person, the viewer shows every row that names her: who has seen her
record. Every page shown and every export is itself audited.
"""

import csv
import io
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy.orm import aliased
from sqlmodel import func, select

from app import audit
from app.crypto import get_cipher
from app.db import get_session
from app.models import AuditEvent, Person, User
from app.people.common import parse_uuid, today, zone
from app.people.ledger import find_person
from app.policy import Action, audit_scope, colleagues_scope, require
from app.subject_access import complete_record, mentions

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50
EXPORT_LIMIT = 20000  # rows in one CSV; narrow the period for more


@dataclass
class AuditFilter:
    person: str = ""
    user: str = ""
    action: str = ""
    start: str = ""  # local dates, as the form sends them
    end: str = ""


def _filters() -> tuple[AuditFilter, Person | None]:
    args = request.args
    filters = AuditFilter(
        **{key: args.get(key, "")[:40] for key in ("person", "user", "action", "start", "end")}
    )
    person = None
    if filters.person:
        person_id = parse_uuid(filters.person)
        person = find_person(get_session(), current_user, person_id) if person_id else None
        if person is None:
            abort(404)
    return filters, person


def _day(value: str, *, after: bool = False) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=after), time(), zone())


def _query(filters: AuditFilter, person: Person | None):
    # her record is seen by anyone who may see her: filtered by her, every row naming her
    query = select(AuditEvent).where(mentions(person.id) if person else audit_scope(current_user))
    if user_id := parse_uuid(filters.user):
        query = query.where(AuditEvent.user_id == user_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if start := _day(filters.start):
        query = query.where(AuditEvent.at >= start)
    if end := _day(filters.end, after=True):
        query = query.where(AuditEvent.at < end)
    return query


def _rows(query, *, offset: int, limit: int):
    actor, subject = aliased(User), aliased(Person)
    page = query.subquery()
    event = aliased(AuditEvent, page)
    return (
        get_session()
        .exec(
            select(event, actor.display_name, actor.username, subject.name)
            .outerjoin(actor, actor.id == event.user_id)
            .outerjoin(subject, subject.id == event.person_id)
            .order_by(event.at.desc(), event.seq.desc())
            .offset(offset)
            .limit(limit)
        )
        .all()
    )


def _people_on(rows) -> list[str]:
    return sorted({str(row[0].person_id) for row in rows if row[0].person_id})


@bp.get("/")
@login_required
def index():
    require(current_user, Action.audit_view)
    filters, person = _filters()
    db = get_session()
    query = _query(filters, person)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = _rows(query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    users = db.exec(
        select(User).where(colleagues_scope(current_user)).order_by(User.display_name)
    ).all()
    actions = db.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    details = {"page": page, "people": _people_on(rows), "filters": asdict(filters)}
    audit.record(db, user=current_user, action="audit_view", person=person, details=details)
    db.commit()
    return render_template(
        "audit/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        person=person,
        users=users,
        actions=actions,
        args={k: v for k, v in asdict(filters).items() if v},
    )


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # a spreadsheet runs a cell that starts like a formula: keep it text
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.get("/export.csv")
@login_required
def export():
    require(current_user, Action.audit_view)
    filters, person = _filters()
    db = get_session()
    rows = _rows(_query(filters, person), offset=0, limit=EXPORT_LIMIT)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["seq", "at", "username", "user", "action", "person_id", "person", "target_type",
         "target_id", "ip", "details"]
    )  # fmt: skip
    for event, display_name, username, person_name in rows:
        writer.writerow(
            _cell(value)
            for value in (
                event.seq, event.at.isoformat(), username, display_name, event.action,
                event.person_id, person_name, event.target_type, event.target_id, event.ip,
                json.dumps(event.details, ensure_ascii=False, sort_keys=True),
            )
        )  # fmt: skip
    details = {"rows": len(rows), "people": _people_on(rows), "filters": asdict(filters)}
    audit.record(db, user=current_user, action="audit_export", person=person, details=details)
    db.commit()
    name = f"audit-{today().isoformat()}.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # the BOM: spreadsheet programs then read UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _subject(person_id: uuid.UUID, form: str) -> tuple[Person, dict]:
    db = get_session()
    person = find_person(db, current_user, person_id)
    if person is None:
        abort(404)
    require(current_user, Action.subject_access, person)
    record = complete_record(db, person, cipher=get_cipher())
    audit.record(
        db, user=current_user, action="subject_access", person=person, target=person,
        details={"format": form},
    )  # fmt: skip
    db.commit()
    return person, record


@bp.get("/people/<uuid:person_id>")
@login_required
def subject_access(person_id: uuid.UUID):
    person, record = _subject(person_id, "page")
    return render_template("audit/subject_access.html", person=person, record=record)


@bp.get("/people/<uuid:person_id>.json")
@login_required
def subject_access_file(person_id: uuid.UUID):
    person, record = _subject(person_id, "json")
    body = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True)
    name = f"subject-access-{person.id}-{today().isoformat()}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
