"""The people list and the ledger page."""

import uuid

from flask import current_app, render_template, request
from flask_login import current_user, login_required

from app import audit
from app.crypto import get_cipher
from app.db import get_session
from app.people import bp
from app.people.common import is_htmx, parse_uuid, person_or_404, today
from app.people.ledger import age_on, load_ledger, load_peer_ledger
from app.people.listing import PAGE_SIZE, PeopleFilter, officer_choices, people_page
from app.people.service import reveal_id_number
from app.policy import Action, can, require
from app.release.checklist import release_panel
from app.scales.ledger import scale_panels
from app.supervision.dashboard import phase_on, phases_of
from app.supervision.dashboard_views import phase_label


@bp.get("/")
@login_required
def index():
    require(current_user, Action.person_list)
    db = get_session()
    filters = PeopleFilter(
        q=request.args.get("q", "")[:60],
        status=request.args.get("status", ""),
        officer_id=parse_uuid(request.args.get("officer")),
        page=max(request.args.get("page", 1, type=int), 1),
    )
    page_size = current_app.config.get("PEOPLE_PAGE_SIZE", PAGE_SIZE)
    rows, total = people_page(session=db, user=current_user, filters=filters, page_size=page_size)
    pages = max((total + page_size - 1) // page_size, 1)
    # a page of names and phone numbers is a read of each person on it
    page = "search" if filters.q or filters.status or filters.officer_id else "list"
    audit.record_read(db, user=current_user, page=page, people=[row[0] for row in rows])
    db.commit()
    context = {"rows": rows, "total": total, "filters": filters, "pages": pages, "today": today()}
    if is_htmx() and request.headers.get("HX-Target") == "people-results":
        return render_template("people/_results.html", **context)
    officers = officer_choices(db, current_user) if can(current_user, Action.person_assign) else []
    return render_template("people/index.html", officers=officers, **context)


@bp.get("/<uuid:person_id>")
@login_required
def ledger(person_id: uuid.UUID):
    person = person_or_404(person_id)
    require(current_user, Action.person_view, person)
    db = get_session()
    if can(current_user, Action.person_records, person):
        number = max(request.args.get("page", 1, type=int), 1)
        page = load_ledger(session=db, person=person, cipher=get_cipher(), page=number)
        details = {"page": page.page} if page.page > 1 else None
    else:  # a peer helper: what a peer needs, no more
        page = load_peer_ledger(session=db, person=person, helper=current_user)
        details = {"page": "peer_ledger"}
    audit.record(
        db, user=current_user, action="person_view", person=person, target=person, details=details
    )
    db.commit()
    return ledger_page(page)


def ledger_page(ledger, **context):
    """Her ledger page (a peer helper's view of her, for a peer helper)."""
    if ledger.peer:
        return render_template("people/ledger.html", ledger=ledger, today=today(), **context)
    on = today()
    cadence = (ledger.plan.cadence if ledger.plan else None) or ledger.unit.default_cadence
    phase = phase_on(phases_of(cadence or []), ledger.person.release_date, on)
    return render_template(
        "people/ledger.html",
        ledger=ledger,
        today=on,
        age_on=age_on,
        phase=phase_label(phase),
        scales=scale_panels(get_session(), ledger.person),
        release=release_panel(get_session(), ledger.person, on),
        **context,
    )


@bp.post("/<uuid:person_id>/id-number")
@login_required
def reveal(person_id: uuid.UUID):
    person = person_or_404(person_id)
    db = get_session()
    number = reveal_id_number(session=db, user=current_user, person=person, cipher=get_cipher())
    db.commit()
    if is_htmx():
        return render_template("people/_id_number.html", person=person, revealed=number)
    page = load_ledger(session=db, person=person, cipher=get_cipher())
    return ledger_page(page, revealed=number)
