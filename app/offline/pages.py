"""The pages of a caseload kept on the phone for offline use."""

from math import ceil

from flask import current_app, request, url_for
from sqlmodel import Session, func, select

from app.caseload import caseload, caseload_query
from app.models import Person, User
from app.offline.versions import page_versions
from app.people.listing import PAGE_SIZE
from app.policy import Action, can

# a supervisor's unit can be large: the phone keeps the ledgers longest without contact
LEDGER_LIMIT = 300
# the pages kept on the phone, by the view that renders them
PAGE_KINDS = {
    "today.index": "today",
    "people.index": "people",
    "people.ledger": "ledger",
    "visits.new": "visit_form",
    "groups.new": "group_form",
    "settings.index": "settings",
}


def offline_pages(*, session: Session, user: User) -> dict:
    """The pages to keep for this user, Today first: the one list offline pages come from.

    Each page carries its `version`: the phone downloads only those whose version moved.
    """
    people = [person for person, _last_contact in caseload(session, user)]
    everyone = caseload_query(user, include_closed=True).subquery()
    listed = session.exec(select(func.count()).select_from(everyone)).one()
    pages = [{"kind": "today", "url": url_for("today.index")}]
    page_size = current_app.config.get("PEOPLE_PAGE_SIZE", PAGE_SIZE)
    for number in range(1, max(ceil(listed / page_size), 1) + 1):
        url = url_for("people.index", page=number if number > 1 else None)
        pages.append({"kind": "people", "url": url})
    for person in people[:LEDGER_LIMIT]:
        url = url_for("people.ledger", person_id=person.id)
        pages.append({"kind": "ledger", "url": url, "person_id": str(person.id)})
        # the visit form too, so a visit can be recorded with no signal
        if can(user, Action.visit_create, person):
            url = url_for("visits.new", person_id=person.id)
            pages.append({"kind": "visit_form", "url": url, "person_id": str(person.id)})
    # the group session form, its checkboxes her caseload: its version moves with everyone's
    if can(user, Action.group_record):
        pages.append({"kind": "group_form", "url": url_for("groups.new")})
    # Settings last: her sign-out works with no signal (sw.js ends the server session later)
    pages.append({"kind": "settings", "url": url_for("settings.index")})
    page_versions(session, user, pages, people[:LEDGER_LIMIT])
    return {"pages": pages, "truncated": len(people) > LEDGER_LIMIT}


def requested_page_version(*, session: Session, user: User) -> str | None:
    """The version of the kept page this request renders, as the listing would give it.

    Worked out before the page is rendered, so it is never newer than what the page shows.
    """
    kind = PAGE_KINDS.get(request.endpoint or "")
    if kind is None:
        return None
    url = request.full_path.rstrip("?")
    person_id = (request.view_args or {}).get("person_id")
    if person_id is None:
        people = [person for person, _last_contact in caseload(session, user)]
        page = {"kind": kind, "url": url}
    else:
        person = session.get(Person, person_id)
        if person is None:
            return None
        people, page = [person], {"kind": kind, "url": url, "person_id": str(person_id)}
    page_versions(session, user, [page], people[:LEDGER_LIMIT])
    return page["version"]
