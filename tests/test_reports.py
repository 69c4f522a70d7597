"""Periodic reports: every figure against a world worked out by hand, the files, who may."""

import csv
import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.audit import verify
from app.models import AuditEvent
from app.supervision.period import Period, PeriodKind
from app.supervision.report import FOLLOW_UP_KINDS, QUERIES, build_report
from tests.report_world import (
    EXPECTED_A,
    EXPECTED_B,
    EXPECTED_BY_OFFICER,
    PERSON_NAMES,
    add_people,
    build_world,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAY = Period(PeriodKind.month, 2026, 5)
MAY_ARGS = {"kind": "month", "year": "2026", "month": "5"}


@pytest.fixture
def report_world(db, unit, make_user):
    return build_world(db, unit, make_user)


def figures_as_dict(f) -> dict:
    return {
        "by_kind": [f.follow_ups_by_kind[k] for k in FOLLOW_UP_KINDS],
        "attempts": f.attempts,
        "people_reached": f.people_reached,
        "applications": f.applications,
        "consents_withdrawn": f.consents_withdrawn,
        "released": f.released,
        "first_contact_in_time": f.first_contact_in_time,
        "lost_contact": f.lost_contact,
        "risk_raised": {str(k): v for k, v in f.risk_flags_raised.items()},
        "risk_handled": {str(k): v for k, v in f.risk_flags_handled.items()},
        "helpers_active": f.helpers_active,
        "helper_talks": f.helper_talks,
        "helper_check_ins": f.helper_check_ins,
    }


def added(a: dict, b: dict) -> dict:
    def add(x, y):
        if isinstance(x, dict):
            return {k: x[k] + y[k] for k in x}
        if isinstance(x, list):
            return [i + j for i, j in zip(x, y, strict=True)]
        return x + y

    return {key: add(a[key], b[key]) for key in a}


# --- periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "start", "end", "key"),
    [
        (Period(PeriodKind.month, 2026, 2), date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        (Period(PeriodKind.month, 2026, 12), date(2026, 12, 1), date(2026, 12, 31), "2026-12"),
        (Period(PeriodKind.quarter, 2026, 2), date(2026, 4, 1), date(2026, 6, 30), "2026-Q2"),
        (Period(PeriodKind.quarter, 2026, 4), date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        (Period(PeriodKind.year, 2024), date(2024, 1, 1), date(2024, 12, 31), "2024"),
    ],
)
def test_a_period_is_whole_calendar_days(period, start, end, key):
    assert (period.start, period.end, period.key) == (start, end, key)


def test_the_default_period_is_last_month():
    assert Period.previous_month(date(2026, 6, 15)) == MAY
    assert Period.previous_month(date(2026, 1, 1)) == Period(PeriodKind.month, 2025, 12)


def test_a_month_begins_and_ends_at_local_midnight():
    start, until = MAY.bounds(SHANGHAI)
    assert start.isoformat() == "2026-04-30T16:00:00+00:00"
    assert until.isoformat() == "2026-05-31T16:00:00+00:00"


@pytest.mark.parametrize(
    ("kind", "year", "number"), [("month", 2026, 13), ("quarter", 2026, 5), ("month", 1999, 1)]
)
def test_no_such_period(kind, year, number):
    with pytest.raises(ValueError):
        Period(PeriodKind(kind), year, number)


# --- the figures ----------------------------------------------------------------------------


def test_a_supervisor_gets_her_units_figures_by_hand(db, report_world):
    report = build_report(db, report_world.users["supervisor"], MAY, zone=SHANGHAI)
    assert [u.name for u in report.units] == ["测试工作室"]
    assert figures_as_dict(report.units[0].figures) == EXPECTED_A
    assert figures_as_dict(report.total) == EXPECTED_A
    assert report.total.follow_ups == 9
    assert report.total.first_contact_share == 0.5


def test_follow_ups_by_officer_name_staff_and_add_up_the_peer_helpers(db, report_world):
    report = build_report(db, report_world.users["supervisor"], MAY, zone=SHANGHAI)
    rows = [(row.name, list(row.by_kind.values())) for row in report.by_officer]
    assert rows == EXPECTED_BY_OFFICER
    assert [row.group for row in report.by_officer][-1] == "peer_helpers"
    assert sum(row.total for row in report.by_officer) == report.total.follow_ups


def test_a_director_sees_every_unit_and_their_total_and_no_officer(db, report_world):
    report = build_report(db, report_world.users["director"], MAY, zone=SHANGHAI)
    assert [u.name for u in report.units] == ["另一个工作室", "测试工作室"]
    assert figures_as_dict(report.units[0].figures) == EXPECTED_B
    assert figures_as_dict(report.units[1].figures) == EXPECTED_A
    assert figures_as_dict(report.total) == added(EXPECTED_A, EXPECTED_B)
    assert report.by_officer is None


def test_a_director_may_ask_for_one_unit(db, report_world):
    report = build_report(
        db, report_world.users["director"], MAY, zone=SHANGHAI, unit_id=report_world.other_unit.id
    )
    assert [u.name for u in report.units] == ["另一个工作室"]
    assert figures_as_dict(report.total) == EXPECTED_B
    # a director sees units, never an officer, even for one unit
    assert report.by_officer is None


def test_a_supervisor_cannot_ask_for_another_unit(db, report_world):
    report = build_report(
        db, report_world.users["supervisor"], MAY, zone=SHANGHAI, unit_id=report_world.other_unit.id
    )
    assert report.units == []


def test_the_first_contact_window_is_a_parameter(db, report_world):
    # p6 was reached on day 7 and p4 on day 6: with five days neither counts
    report = build_report(
        db, report_world.users["director"], MAY, zone=SHANGHAI, first_contact_days=5
    )
    assert report.total.first_contact_in_time == 1


def test_a_quarter_adds_up_its_months(db, report_world):
    director = report_world.users["director"]
    quarter = build_report(db, director, Period(PeriodKind.quarter, 2026, 2), zone=SHANGHAI)
    months = [
        build_report(db, director, Period(PeriodKind.month, 2026, m), zone=SHANGHAI)
        for m in (4, 5, 6)
    ]
    assert quarter.total.follow_ups == sum(m.total.follow_ups for m in months) == 11 + 4
    assert quarter.total.released == sum(m.total.released for m in months)


def test_a_visit_late_on_the_last_day_belongs_to_that_month(db, report_world):
    june = build_report(
        db, report_world.users["supervisor"], Period(PeriodKind.month, 2026, 6), zone=SHANGHAI
    )
    kinds = june.total.follow_ups_by_kind
    # 00:30 on 1 June (16:30 UTC on 31 May) and 23:30 on 1 June (15:30 UTC that day)
    assert (kinds["home_visit"], kinds["phone_consultation"]) == (1, 1)
    assert june.total.follow_ups == 2
    assert june.total.released == 0


@pytest.mark.parametrize("size", [10, 60])
def test_the_report_costs_a_fixed_number_of_queries(db, report_world, count_queries, size):
    add_people(db, report_world.unit, report_world.users["officer1"], size)
    director = report_world.users["director"]
    with count_queries() as statements:
        report = build_report(db, director, MAY, zone=SHANGHAI)
    assert len(statements) == QUERIES == 8
    assert report.total.follow_ups == 11 + 3 * size
    assert report.total.risk_flags_raised_total == 5 + size


# --- the page and the files ----------------------------------------------------------------


def signed_in(auth, report_world, who: str):
    auth.login(report_world.users[who].username)


def test_the_report_page_shows_the_figures_and_no_person(client, auth, report_world):
    signed_in(auth, report_world, "supervisor")
    page = client.get("/reports/", query_string=MAY_ARGS)
    assert page.status_code == 200
    html = page.text
    assert "2026-05-01 – 2026-05-31" in html
    assert "李警官" in html and "陈警官" in html
    assert "测试工作室" in html and "另一个工作室" not in html
    assert "css/reports.css" in html
    # strict CSP: no style attributes, no inline script
    assert 'style="' not in html and "<script>" not in html
    for name in PERSON_NAMES + ["互助员小周"]:
        assert name not in html


def test_the_page_shows_last_month_by_default(client, auth, report_world):
    signed_in(auth, report_world, "supervisor")
    html = client.get("/reports/").text
    today = date.today()
    last = Period.previous_month(today)
    assert f"{last.start.isoformat()} – {last.end.isoformat()}" in html


def test_a_director_sees_every_unit_side_by_side_and_no_name(client, auth, report_world):
    signed_in(auth, report_world, "director")
    html = client.get("/reports/", query_string=MAY_ARGS).text
    assert "测试工作室" in html and "另一个工作室" in html
    for name in PERSON_NAMES + ["李警官", "陈警官", "王主任", "赵警官", "互助员小周"]:
        assert name not in html


@pytest.mark.parametrize("who", ["officer1", "helper"])
@pytest.mark.parametrize("path", ["/reports/", "/reports/report.xlsx", "/reports/report.csv"])
def test_officers_and_peer_helpers_may_not_read_reports(client, auth, report_world, who, path):
    signed_in(auth, report_world, who)
    assert client.get(path, query_string=MAY_ARGS).status_code == 403


def test_a_wrong_period_is_a_bad_request(client, auth, report_world):
    signed_in(auth, report_world, "supervisor")
    answer = client.get("/reports/", query_string={"kind": "month", "year": "2026", "month": "x"})
    assert answer.status_code == 400


def xlsx_sheet(answer):
    return load_workbook(io.BytesIO(answer.data)).active


def find_row(sheet, label: str) -> int:
    for row in sheet.iter_rows(min_col=1, max_col=1):
        if row[0].value == label:
            return row[0].row
    raise AssertionError(f"no row {label!r}")


def test_a_supervisor_downloads_last_months_spreadsheet_whose_totals_match(
    client, auth, db, report_world
):
    signed_in(auth, report_world, "supervisor")
    answer = client.get("/reports/report.xlsx", query_string=MAY_ARGS)
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="report-2026-05.xlsx"'
    sheet = xlsx_sheet(answer)
    assert sheet["A1"].value == "Periodic report"
    assert sheet["B3"].value == "测试工作室"
    assert sheet.freeze_panes == "B6"
    assert sheet.column_dimensions["A"].width == 36
    # follow-ups by kind: a header row, nine kinds, a totals row summing them
    head = find_row(sheet, "Follow-ups by kind (person-times)") + 1
    assert [c.value for c in sheet[head]][:2] == ["Kind of contact", "测试工作室"]
    kinds = [sheet.cell(head + 1 + i, 2).value for i in range(len(FOLLOW_UP_KINDS))]
    assert kinds == EXPECTED_A["by_kind"]
    total_row = head + 1 + len(FOLLOW_UP_KINDS)
    assert sheet.cell(total_row, 1).value == "Total"
    assert sheet.cell(total_row, 2).value == f"=SUM(B{head + 1}:B{total_row - 1})"
    database_total = build_report(
        db, report_world.users["supervisor"], MAY, zone=SHANGHAI
    ).total.follow_ups
    assert sum(kinds) == database_total == 9
    # by officer: each row's total adds up its kinds, each column sums down
    officer_head = find_row(sheet, "Follow-ups by officer") + 1
    first = officer_head + 1
    last = first + len(EXPECTED_BY_OFFICER) - 1
    assert sheet.cell(first, 1).value == "李警官"
    assert sheet.cell(first, 11).value == "=" + "+".join(f"{c}{first}" for c in "BCDEFGHIJ")
    assert sheet.cell(last + 1, 11).value == f"=SUM(K{first}:K{last})"
    assert sheet.cell(last, 1).value == "Peer helpers (together)"
    assert sum(sheet.cell(r, c).value for r in range(first, last + 1) for c in range(2, 11)) == 9
    # the share of people first contacted in time is a formula over its two rows
    released = find_row(sheet, "People released")
    assert sheet.cell(released, 2).value == 4
    share = find_row(sheet, "Share first contacted within 7 days")
    assert sheet.cell(share, 2).value == f'=IF(B{released}=0,"",B{released + 1}/B{released})'
    # risk flags: raised and handled, totals summed
    risk_head = find_row(sheet, "Risk flags raised and handled") + 1
    risk_total = risk_head + 7
    assert sheet.cell(risk_total, 2).value == f"=SUM(B{risk_head + 1}:B{risk_total - 1})"
    raised = sum(sheet.cell(r, 2).value for r in range(risk_head + 1, risk_total))
    handled = sum(sheet.cell(r, 3).value for r in range(risk_head + 1, risk_total))
    assert (raised, handled) == (5, 3)


def test_a_directors_spreadsheet_sums_the_units_across(client, auth, report_world):
    signed_in(auth, report_world, "director")
    sheet = xlsx_sheet(client.get("/reports/report.xlsx", query_string=MAY_ARGS))
    head = find_row(sheet, "Follow-ups by kind (person-times)") + 1
    assert [c.value for c in sheet[head]][:4] == [
        "Kind of contact",
        "另一个工作室",
        "测试工作室",
        "Total",
    ]
    phone = head + 1
    assert sheet.cell(phone, 4).value == f"=B{phone}+C{phone}"
    assert (sheet.cell(phone, 2).value, sheet.cell(phone, 3).value) == (1, 1)
    assert find_row(sheet, "People reached")
    with pytest.raises(AssertionError):
        find_row(sheet, "Follow-ups by officer")
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    for name in PERSON_NAMES + ["李警官", "陈警官", "王主任", "赵警官"]:
        assert not any(name in cell for cell in cells)


def test_the_csv_starts_with_the_bom_and_holds_each_section(client, auth, report_world):
    signed_in(auth, report_world, "supervisor")
    answer = client.get("/reports/report.csv", query_string=MAY_ARGS)
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.data.startswith("\ufeff".encode())
    text = answer.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Periodic report"
    at = rows.index(["Follow-ups by kind (person-times)"])
    assert rows[at + 1] == ["Kind of contact", "测试工作室"]
    assert [int(r[1]) for r in rows[at + 2 : at + 11]] == EXPECTED_A["by_kind"]
    assert rows[at + 11] == ["Total", "9"]
    reached = next(r for r in rows if r and r[0] == "People reached")
    assert reached == ["People reached", "4"]
    share = next(r for r in rows if r and r[0] == "Share first contacted within 7 days")
    assert share == ["Share first contacted within 7 days", "0.500"]
    for name in PERSON_NAMES:
        assert name not in text


def test_downloads_are_audited_as_aggregates(client, auth, db, report_world):
    signed_in(auth, report_world, "director")
    client.get("/reports/report.xlsx", query_string=MAY_ARGS)
    client.get("/reports/report.csv", query_string=MAY_ARGS)
    db.rollback()
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "report_download")).all()
    assert sorted(e.details["format"] for e in events) == ["csv", "xlsx"]
    assert {e.details["period"] for e in events} == {"2026-05"}
    assert all(e.person_id is None and len(e.details["units"]) == 2 for e in events)
    assert verify(db).finding is None


def test_headers_are_in_her_language(client, auth, db, report_world):
    supervisor = report_world.users["supervisor"]
    supervisor.locale = "zh_Hans"
    db.add(supervisor)
    db.commit()
    signed_in(auth, report_world, "supervisor")
    sheet = xlsx_sheet(client.get("/reports/report.xlsx", query_string=MAY_ARGS))
    assert sheet["B1"].value == "2026年5月"
    # row 7 is the first section's title, row 8 its header, then the kinds
    assert [sheet.cell(row, 1).value for row in (9, 10)] == ["电话咨询", "家访面谈"]


def test_a_name_that_looks_like_a_formula_stays_text(client, auth, db, report_world):
    officer = report_world.users["officer1"]
    officer.display_name = '=HYPERLINK("http://example.com","x")'
    db.add(officer)
    db.commit()
    signed_in(auth, report_world, "supervisor")
    sheet = xlsx_sheet(client.get("/reports/report.xlsx", query_string=MAY_ARGS))
    row = find_row(sheet, officer.display_name)
    assert sheet.cell(row, 1).data_type == "s"
    text = client.get("/reports/report.csv", query_string=MAY_ARGS).data.decode("utf-8-sig")
    labels = [row[0] for row in csv.reader(io.StringIO(text)) if row]
    assert "'" + officer.display_name in labels
    assert officer.display_name not in labels


def test_a_director_picks_one_unit_and_a_supervisor_keeps_hers(client, auth, report_world):
    other = str(report_world.other_unit.id)
    signed_in(auth, report_world, "director")
    csv_text = client.get("/reports/report.csv", query_string={**MAY_ARGS, "unit": other}).text
    assert "另一个工作室" in csv_text and "测试工作室" not in csv_text
    assert client.get("/reports/", query_string={**MAY_ARGS, "unit": "nope"}).status_code == 400
    unknown = {**MAY_ARGS, "unit": "00000000-0000-0000-0000-000000000000"}
    assert client.get("/reports/", query_string=unknown).status_code == 404
    auth.logout()
    signed_in(auth, report_world, "supervisor")
    csv_text = client.get("/reports/report.csv", query_string={**MAY_ARGS, "unit": other}).text
    assert "测试工作室" in csv_text and "另一个工作室" not in csv_text


@pytest.mark.parametrize(
    ("args", "name", "follow_ups"),
    [
        # May's 9, one on 30 April (23:00 local) and two on 1 June (local) in unit A
        ({"kind": "quarter", "year": "2026", "quarter": "2"}, "report-2026-Q2.csv", "12"),
        ({"kind": "year", "year": "2026"}, "report-2026.csv", "12"),
    ],
)
def test_quarterly_and_yearly_reports(client, auth, report_world, args, name, follow_ups):
    signed_in(auth, report_world, "supervisor")
    answer = client.get("/reports/report.csv", query_string=args)
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    at = rows.index(["Follow-ups by kind (person-times)"])
    assert rows[at + 11] == ["Total", follow_ups]
