"""The report laid out once, in the reader's language, for the page, the .xlsx and the CSV.

`layout(report)` turns a `Report` into titled sections of rows; the page, the spreadsheet
and the CSV all render those sections, so they cannot disagree. In the spreadsheet a
totals row is a SUM over the cells above it and a total column a sum of the unit columns,
so the file stays right when someone edits a figure; shares are formulas too.

The CSV is one block per section: the section's title on a line of its own, its header
row, its rows (totals included, as numbers), then an empty line. It is UTF-8 with a BOM so
Excel reads the Chinese correctly.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_skeleton
from flask_babel import format_percent
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.i18n import VISIT_KIND_LABELS, current_locale
from app.supervision.period import PeriodKind
from app.supervision.report import FOLLOW_UP_KINDS, RISK_FLAGS, Report
from app.visits.labels import RISK_FLAG_LABELS

SKELETONS = {PeriodKind.month: "yMMMM", PeriodKind.quarter: "yQQQQ", PeriodKind.year: "y"}


@dataclass
class Row:
    label: str
    values: list  # one per column after the label: ints, or a share (0 to 1) or None
    # a share row: the indices (in the section's rows) of its numerator and denominator
    share_of: tuple[int, int] | None = None


@dataclass
class Section:
    title: str
    head: list[str]  # the label column's header, then one per value column
    rows: list[Row]
    totals_row: bool = False
    # value column index -> the value column indices it adds up (a total column)
    total_columns: dict[int, list[int]] = field(default_factory=dict)

    def totals(self) -> list[int]:
        """The totals row's values: each column added up over the rows."""
        return [sum(row.values[i] for row in self.rows) for i in range(len(self.head) - 1)]


def period_label(report: Report) -> str:
    """'2026年5月', 'May 2026', '2026年第2季度' ... in the reader's language."""
    period = report.period
    return format_skeleton(SKELETONS[period.kind], period.start, locale=current_locale())


def unit_label(report: Report) -> str:
    if len(report.units) == 1:
        return report.units[0].name
    return _("All units (%(num)d)", num=len(report.units))


def layout(report: Report) -> list[Section]:
    """The report's sections, in the reader's language."""
    units = report.units
    several = len(units) > 1
    columns = [u.name for u in units] + ([_("Total")] if several else [])
    per_unit = [u.figures for u in units] + ([report.total] if several else [])
    sums = {len(units): list(range(len(units)))} if several else {}

    def unit_row(label: str, value) -> Row:
        return Row(label, [value(f) for f in per_unit])

    sections = [
        Section(
            _("Follow-ups by kind (person-times)"),
            [_("Kind of contact"), *columns],
            [
                unit_row(str(VISIT_KIND_LABELS[kind]), lambda f, k=kind: f.follow_ups_by_kind[k])
                for kind in FOLLOW_UP_KINDS
            ],
            totals_row=True,
            total_columns=sums,
        )
    ]
    if report.by_officer is not None:
        kinds = len(FOLLOW_UP_KINDS)
        sections.append(
            Section(
                _("Follow-ups by officer"),
                [
                    _("Recorded by"),
                    *(str(VISIT_KIND_LABELS[k]) for k in FOLLOW_UP_KINDS),
                    _("Total"),
                ],
                [
                    Row(_officer_label(row), [*row.by_kind.values(), row.total])
                    for row in report.by_officer
                ],
                totals_row=True,
                total_columns={kinds: list(range(kinds))},
            )
        )
    days = report.first_contact_days
    people = [
        unit_row(_("People reached"), lambda f: f.people_reached),
        unit_row(_("Failed attempts (not counted as follow-ups)"), lambda f: f.attempts),
        unit_row(_("Support applications received"), lambda f: f.applications),
        unit_row(_("Consents withdrawn"), lambda f: f.consents_withdrawn),
        unit_row(_("People released"), lambda f: f.released),
        unit_row(
            _("Of them, first contacted within %(days)d days", days=days),
            lambda f: f.first_contact_in_time,
        ),
        Row(
            _("Share first contacted within %(days)d days", days=days),
            [f.first_contact_share for f in per_unit],
            share_of=(5, 4),
        ),
        unit_row(
            _("Of them, prepared before release (all six items done)"),
            lambda f: f.prepared_before_release,
        ),
        Row(
            _("Share prepared before release"),
            [f.prepared_share for f in per_unit],
            share_of=(7, 4),
        ),
        unit_row(_("People marked lost contact"), lambda f: f.lost_contact),
        unit_row(_("Group sessions held (sessions)"), lambda f: f.group_sessions),
    ]
    sections.append(Section(_("People and support"), [_("Figure"), *columns], people, False, sums))
    sections.append(_risk_section(report))
    helpers = [
        unit_row(_("Peer helpers active"), lambda f: f.helpers_active),
        unit_row(_("Heart-to-heart talks they logged"), lambda f: f.helper_talks),
        unit_row(_("Online check-ins they logged"), lambda f: f.helper_check_ins),
        unit_row(_("Group sessions they led"), lambda f: f.helper_group_sessions),
    ]
    sections.append(Section(_("Peer helpers"), [_("Figure"), *columns], helpers, False, sums))
    return sections


def _officer_label(row) -> str:
    if row.group == "peer_helpers":
        return _("Peer helpers (together)")
    if row.group == "other_staff":
        return _("Staff of other units (together)")
    return row.name


def _risk_section(report: Report) -> Section:
    """Flags raised and handled, two columns per unit (and two for the total)."""
    units = report.units
    several = len(units) > 1
    head = [_("Risk flag")]
    for unit in units:
        head += [_("%(unit)s: raised", unit=unit.name), _("%(unit)s: handled", unit=unit.name)]
    per_unit = [u.figures for u in units]
    sums = {}
    if several:
        head += [_("Total raised"), _("Total handled")]
        per_unit.append(report.total)
        n = len(units)
        sums = {2 * n: [2 * i for i in range(n)], 2 * n + 1: [2 * i + 1 for i in range(n)]}
    rows = [
        Row(
            str(RISK_FLAG_LABELS[code]),
            [v for f in per_unit for v in (f.risk_flags_raised[code], f.risk_flags_handled[code])],
        )
        for code in RISK_FLAGS
    ]
    return Section(_("Risk flags raised and handled"), head, rows, True, sums)


# --- the spreadsheet ----------------------------------------------------------------------

BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDEBDD")
PERCENT = "0.0%"


def to_xlsx(report: Report, sections: list[Section], *, generated: datetime) -> bytes:
    """The report as an .xlsx workbook: title, period, unit, then each section."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Report")[:31]
    period = report.period
    _text_row(sheet, 1, [_("Periodic report"), period_label(report)], Font(bold=True, size=14))
    _text_row(sheet, 2, [_("Period"), f"{period.start.isoformat()} – {period.end.isoformat()}"])
    _text_row(sheet, 3, [_("Unit"), unit_label(report)])
    _text_row(sheet, 4, [_("Generated"), generated.strftime("%Y-%m-%d %H:%M")])
    _text_row(sheet, 5, [_("Figures are counts only: no person is named.")])
    # the title block and the label column stay in view
    sheet.freeze_panes = "B6"
    at = 7  # an empty row before each section
    for section in sections:
        _text_row(sheet, at, [section.title], Font(bold=True, size=12))
        _text_row(sheet, at + 1, section.head, BOLD)
        for cell in sheet[at + 1]:
            cell.fill = HEAD_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        first = at + 2
        for index, row in enumerate(section.rows):
            _write_row(sheet, section, row, first + index, first)
        at = first + len(section.rows)
        if section.totals_row:
            _text_row(sheet, at, [_("Total")], BOLD)
            for column in range(2, len(section.head) + 1):
                letter = get_column_letter(column)
                cell = sheet.cell(at, column, f"=SUM({letter}{first}:{letter}{at - 1})")
                cell.font = BOLD
            at += 1
        at += 1
    sheet.column_dimensions["A"].width = 36
    for column in range(2, max(len(s.head) for s in sections) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_row(sheet, at: int, values: list[str], font: Font | None = None) -> None:
    for column, value in enumerate(values, start=1):
        _text(sheet.cell(at, column), value)
        if font is not None:
            sheet.cell(at, column).font = font


def _text(cell, value: str) -> None:
    """Text stays text: a name that starts with = is not a formula."""
    cell.value = value
    cell.data_type = "s"


def _write_row(sheet, section: Section, row: Row, at: int, first: int) -> None:
    _text(sheet.cell(at, 1), row.label)
    for index, value in enumerate(row.values):
        cell = sheet.cell(at, index + 2)
        letter = get_column_letter(index + 2)
        if row.share_of is not None:
            numerator, denominator = (f"{letter}{first + i}" for i in row.share_of)
            cell.value = f'=IF({denominator}=0,"",{numerator}/{denominator})'
            cell.number_format = PERCENT
        elif index in section.total_columns:
            cell.value = "=" + "+".join(
                f"{get_column_letter(c + 2)}{at}" for c in section.total_columns[index]
            )
        else:
            cell.value = value


# --- the CSV ------------------------------------------------------------------------------


def to_csv(report: Report, sections: list[Section]) -> str:
    """The report as CSV text, one block per section, starting with the BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    period = report.period
    writer.writerow([_("Periodic report"), period_label(report)])
    writer.writerow([_("Period"), period.start.isoformat(), period.end.isoformat()])
    writer.writerow([_("Unit"), _csv_text(unit_label(report))])
    for section in sections:
        writer.writerow([])
        writer.writerow([section.title])
        writer.writerow([_csv_text(head) for head in section.head])
        for row in section.rows:
            values = (_csv_value(row, v) for v in row.values)
            writer.writerow([_csv_text(row.label), *values])
        if section.totals_row:
            writer.writerow([_("Total"), *section.totals()])
    return "\ufeff" + out.getvalue()


def _csv_text(text: str) -> str:
    # a spreadsheet runs a cell that starts like a formula: a unit or officer name stays text
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _csv_value(row: Row, value) -> object:
    if row.share_of is None:
        return value
    return "" if value is None else f"{value:.3f}"


def share_text(value: float | None) -> str:
    """A share for the page: '66.7%', or a dash when nobody was released."""
    return "—" if value is None else format_percent(value, "#,##0.0%")
