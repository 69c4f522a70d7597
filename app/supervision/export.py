"""A supervisor's export of her unit's people and visits, after she states why.

Two sheets in one .xlsx, headers in her language:

- People: name, ID number (masked to its last four characters, as `mask_id_number` shows
  it without the full number), status, support path, officer, phone, address, release date,
  last contact (local date).
- Visits: person, kind of contact, when (local time), recorded by, outcome (contact, or why
  an attempt failed), duration in minutes, risk flags, notes.

Every person of her unit is in it (closed ones too: the status says so), with every visit
of theirs. The view audits the export with her reason, the row counts and the people's ids.
"""

import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.crypto import mask_id_number
from app.i18n import STATUS_LABELS, SUPPORT_PATH_LABELS, VISIT_KIND_LABELS
from app.models import Person, User, Visit
from app.policy import people_scope
from app.visits.labels import FAILURE_REASON_LABELS, RISK_FLAG_LABELS

REASON_MIN = 10  # characters: a reason, not "ok"
REASON_MAX = 500


@dataclass(frozen=True)
class PersonalExport:
    people: list[tuple[Person, str | None]]  # each person and her officer's display name
    visits: list[tuple[Visit, str, str]]  # each visit, the person's name, its author's name


def personal_export(session: Session, user: User) -> PersonalExport:
    """Her unit's people and their visits, in two queries."""
    officer, author = aliased(User), aliased(User)
    people = session.exec(
        select(Person, officer.display_name)
        .outerjoin(officer, officer.id == Person.assigned_officer_id)
        .where(people_scope(user))
        .order_by(Person.name, Person.id)
    ).all()
    visits = session.exec(
        select(Visit, Person.name, author.display_name)
        .join(Person, Person.id == Visit.person_id)
        .join(author, author.id == Visit.author_id)
        .where(people_scope(user))
        .order_by(Person.name, Person.id, Visit.occurred_at)
    ).all()
    return PersonalExport(people=list(people), visits=list(visits))


def _label(labels: dict, code: str | None) -> str:
    return str(labels[code]) if code in labels else (code or "")


def _text(value) -> str:
    """Text stays text: an entry starting with = is never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def export_xlsx(data: PersonalExport, *, zone: ZoneInfo) -> bytes:
    """The two sheets as an .xlsx workbook."""
    book = Workbook(write_only=True)
    people = _sheet(book, _("People"), (14, 22, 12, 18, 14, 14, 30, 12, 12))
    people.append(
        _bold(
            people,
            [
                _("Name"),
                _("ID number (masked)"),
                _("Status"),
                _("Support path"),
                _("Officer"),
                _("Phone"),
                _("Address"),
                _("Release date"),
                _("Last contact"),
            ],
        )
    )
    for person, officer in data.people:
        last = person.last_contact_at.astimezone(zone).date() if person.last_contact_at else None
        people.append(
            [
                _text(person.name),
                mask_id_number(None, person.id_number_tail) if person.id_number_tail else "",
                _label(STATUS_LABELS, person.status),
                _label(SUPPORT_PATH_LABELS, person.support_path),
                _text(officer),
                _text(person.phone),
                _text(person.address),
                person.release_date,
                last,
            ]
        )
    visits = _sheet(book, _("Visits"), (14, 16, 17, 14, 16, 10, 20, 50))
    visits.append(
        _bold(
            visits,
            [
                _("Person"),
                _("Kind of contact"),
                _("When"),
                _("Recorded by"),
                _("Outcome"),
                _("Duration (minutes)"),
                _("Risk flags"),
                _("Notes"),
            ],
        )
    )
    for visit, name, author in data.visits:
        when = visit.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        outcome = (
            _label(FAILURE_REASON_LABELS, visit.failure_reason)
            if visit.failure_reason
            else _("Contact")
        )
        flags = "、".join(_label(RISK_FLAG_LABELS, code) for code in visit.risk_flags or [])
        visits.append(
            [
                _text(name),
                _label(VISIT_KIND_LABELS, visit.kind),
                when,
                _text(author),
                outcome,
                visit.duration_minutes,
                flags,
                _text(visit.notes),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: Workbook, title: str, widths: tuple[int, ...]):
    """A write-only sheet with its column widths and a frozen header (set before any row)."""
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return sheet


def _bold(sheet, values: list[str]) -> list:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells
