"""Personal-data exports: a supervisor's unit only, with a stated reason, audited, masked."""

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.audit import verify
from app.idcard import check_char
from app.models import AuditEvent
from tests.conftest import csrf_from
from tests.report_world import A_NAMES, B_NAMES, build_world

REASON = "市局季度核查，需核对本单位帮扶对象名单"
# every visit of unit A's five people in the world, whenever it happened
UNIT_A_VISITS = 14


@pytest.fixture
def report_world(db, unit, make_user):
    return build_world(db, unit, make_user)


def post_export(client, data: dict):
    token = csrf_from(client.get("/reports/export").text)
    return client.post("/reports/export", data={**data, "csrf_token": token})


def exports(db) -> list[AuditEvent]:
    db.rollback()
    return db.exec(select(AuditEvent).where(AuditEvent.action == "personal_export")).all()


def test_the_form_asks_why_and_says_what_the_file_holds(client, auth, report_world):
    auth.login("sup1")
    page = client.get("/reports/export")
    assert page.status_code == 200
    assert "<textarea" in page.text and 'name="reason"' in page.text
    assert "ID number (last four characters only)" in page.text
    assert "kept in the audit trail" in page.text


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("", "State why you need this personal data."),
        ("   ", "State why you need this personal data."),
        ("核查", "Write the reason in 10 to 500 characters."),
        ("x" * 501, "Write the reason in 10 to 500 characters."),
    ],
)
def test_no_export_without_a_reason(client, auth, db, report_world, reason, error):
    auth.login("sup1")
    answer = post_export(client, {"reason": reason})
    assert answer.status_code == 400
    assert answer.mimetype == "text/html"
    assert error in answer.text
    assert exports(db) == []


def test_no_export_without_the_forms_token(client, auth, db, report_world):
    auth.login("sup1")
    answer = client.post("/reports/export", data={"reason": REASON})
    assert answer.status_code == 400
    assert exports(db) == []


def test_a_supervisor_exports_her_units_people_and_visits(client, auth, db, report_world):
    auth.login("sup1")
    answer = post_export(client, {"reason": REASON})
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="personal-data-')
    book = load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["People", "Visits"]
    people = [[c.value for c in row] for row in book["People"].iter_rows()]
    assert people[0] == [
        "Name", "ID number (masked)", "Status", "Support path", "Officer", "Phone", "Address",
        "Release date", "Last contact",
    ]  # fmt: skip
    assert sorted(row[0] for row in people[1:]) == sorted(A_NAMES)
    assert book["People"].freeze_panes == "A2"
    by_name = {row[0]: row for row in people[1:]}
    assert by_name["张晓梅"][1] == "*" * 14 + "1230"
    assert by_name["张晓梅"][4] == "李警官"
    visits = [[c.value for c in row] for row in book["Visits"].iter_rows()]
    assert visits[0][:4] == ["Person", "Kind of contact", "When", "Recorded by"]
    assert len(visits) - 1 == UNIT_A_VISITS
    # her visit at 16:30 UTC on 31 May is 00:30 on 1 June in the city
    assert ["张晓梅", "Home visit", "2026-06-01 00:30", "李警官", "Contact"] in [
        row[:5] for row in visits
    ]
    assert ["张晓梅", "Attempt, no contact", "2026-05-20 11:00", "李警官", "No answer"] in [
        row[:5] for row in visits
    ]
    text = " ".join(str(c) for row in people + visits for c in row)
    for name in B_NAMES:
        assert name not in text


def test_the_export_is_audited_with_the_reason_and_the_counts(client, auth, db, report_world):
    auth.login("sup1")
    post_export(client, {"reason": f"  {REASON}  "})
    (event,) = exports(db)
    assert event.user_id == report_world.users["supervisor"].id
    assert event.details["reason"] == REASON
    assert event.details["people_count"] == len(A_NAMES)
    assert event.details["visit_count"] == UNIT_A_VISITS
    ids = {str(p.id) for key, p in report_world.people.items() if key != "p4"}
    assert set(event.details["people"]) == ids
    assert event.details["unit"] == str(report_world.unit.id)
    assert verify(db).finding is None


def test_a_full_id_number_never_leaves_in_the_file(app, client, auth, db, report_world):
    first17 = "50010319900101002"
    number = first17 + check_char(first17)
    person = report_world.people["p2"]
    person.id_number_encrypted = app.extensions["clover_cipher"].encrypt(number)
    person.id_number_tail = number[-4:]
    db.add(person)
    db.commit()
    auth.login("sup1")
    book = load_workbook(io.BytesIO(post_export(client, {"reason": REASON}).data))
    cells = [str(c.value) for row in book["People"].iter_rows() for c in row]
    assert "*" * 14 + number[-4:] in cells
    assert not any(number in cell or number[:6] in cell for cell in cells)


@pytest.mark.parametrize("who", ["officer1", "helper1", "director", "admin"])
def test_only_a_supervisor_may_export(client, auth, db, report_world, who):
    auth.login(who)
    assert client.get("/reports/export").status_code == 403
    token = csrf_from(client.get("/settings/").text)
    answer = client.post("/reports/export", data={"reason": REASON, "csrf_token": token})
    assert answer.status_code == 403
    assert exports(db) == []


def test_the_report_page_offers_the_export_to_a_supervisor_only(client, auth, report_world):
    auth.login("sup1")
    assert "/reports/export" in client.get("/reports/").text
    auth.logout()
    auth.login("director")
    assert "/reports/export" not in client.get("/reports/").text
