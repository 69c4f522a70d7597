"""Release preparation (出所准备): six items on her ledger from six months before release,
ticked and unticked by her officer or supervisor, the unfinished on Today, the prepared
counted in the periodic report."""

import csv
import io
import re
import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.models import AuditEvent, ReleaseItem, ReleasePreparation
from app.supervision.period import Period, PeriodKind
from app.supervision.report import QUERIES, build_report
from tests.conftest import AuthActions, csrf_from
from tests.people_world import TODAY, reload

ITEMS = [item.value for item in ReleaseItem]
STALE = "在你打开页面之后，有人已经标记了这一项，所以没有保存。"


def add_inside(world, key="inside", *, days=60, **fields):
    """A woman still inside, released `days` from today, her officer officer1."""
    fields.setdefault("status", "pre_release")
    release = TODAY + timedelta(days=days)
    return world.add(key, f"出所{key}", officer="officer", release_date=release, **fields)


def item_form(html: str, item: str) -> dict:
    """The fields of one item's form on her ledger, as the browser would send them."""
    block = html[html.index(f'id="release-{item}"') :]
    block = block[: block.index("</li>")]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', block))
    fields["note"] = re.search(r'name="note" maxlength="200" value="([^"]*)"', block).group(1)
    return fields


def opened(client, person, item: str) -> dict:
    return item_form(client.get(f"/people/{person.id}").text, item)


def post(client, person, form: dict, **changes):
    return client.post(f"/people/{person.id}/release-preparation", data={**form, **changes})


def rows(db, person) -> list[ReleasePreparation]:
    db.rollback()
    query = select(ReleasePreparation).where(ReleasePreparation.person_id == person.id)
    return list(db.exec(query.order_by(ReleasePreparation.item)))


def marks(db) -> list[dict]:
    db.rollback()
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "release_prepare"))
    return [e.details for e in events]


@pytest.mark.parametrize(
    ("days", "status", "shown"),
    [
        (180, "pre_release", True),  # six months before: open
        (181, "pre_release", False),  # the day before: not yet
        (1, "active", True),
        (0, "active", False),  # released today, her status moved on: done
        (-5, "pre_release", True),  # past the date, still inside by her status
    ],
)
def test_the_checklist_shows_from_six_months_before_release_and_not_before(
    client, auth, world, db, days, status, shown
):
    person = add_inside(world, days=days, status=status)
    auth.login("officer1")
    html = client.get(f"/people/{person.id}").text
    assert ('id="release"' in html) is shown
    assert ("出所准备" in html) is shown
    if shown:
        for label in ("帮扶申请已签署", "已联系家属", "住房落实", "就业或培训安排"):
            assert label in html
        assert "社区康复交接" in html and "出所当周首次联系已预约" in html
        return
    # nor can an item be ticked outside the window
    form = {"id": str(uuid.uuid4()), "item": "housing", "state": "done", "version": "0"}
    answer = post(client, person, {**form, "note": "", "csrf_token": csrf_from(html)})
    assert answer.status_code == 403
    assert rows(db, person) == []


def test_an_officer_ticks_and_unticks_an_item_and_each_mark_is_kept(client, auth, world, db):
    person = add_inside(world)
    officer = world.users["officer"]
    auth.login("officer1")
    form = opened(client, person, "housing")
    assert (form["state"], form["version"]) == ("done", "0")
    answer = post(client, person, form, note="暂住姐姐家")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#release")
    [row] = rows(db, person)
    assert (row.item, row.done, row.note, row.version) == ("housing", True, "暂住姐姐家", 1)
    assert (row.marked_by_id, row.marked_on, str(row.id)) == (officer.id, TODAY, form["id"])
    page = client.get(f"/people/{person.id}").text
    assert "已标记完成：住房落实。" in page and "已完成 1 / 6 项" in page
    assert "暂住姐姐家" in page and "陈雪梅" in page
    # unticked: allowed, the row's next version, and recorded too
    form = item_form(page, "housing")
    assert (form["state"], form["version"], form["id"]) == ("not_done", "1", str(row.id))
    assert post(client, person, form, note="房东反悔").status_code == 302
    [row] = rows(db, person)
    assert (row.done, row.note, row.version) == (False, "房东反悔", 2)
    assert marks(db) == [
        {"item": "housing", "done": True, "version": 1},
        {"item": "housing", "done": False, "version": 2},
    ]
    assert "已标记未完成：住房落实。" in client.get(f"/people/{person.id}").text


def test_the_same_mark_sent_twice_is_stored_once(client, auth, world, db):
    person = add_inside(world)
    auth.login("officer1")
    form = opened(client, person, "family_contact")
    assert post(client, person, form).status_code == 302
    assert post(client, person, form).status_code == 302  # a double tap, a resend
    [row] = rows(db, person)
    assert (row.done, row.version) == (True, 1)
    untick = opened(client, person, "family_contact")
    assert post(client, person, untick).status_code == 302
    assert post(client, person, untick).status_code == 302
    [row] = rows(db, person)
    assert (row.done, row.version) == (False, 2)
    assert len(marks(db)) == 2


def test_a_stale_version_is_refused_with_its_reason_and_nothing_changes(
    client, auth, world, db, app
):
    person = add_inside(world)
    auth.login("officer1")
    officers = opened(client, person, "work_or_training")
    # her supervisor ticks the same item first, from her own phone
    supervisor = app.test_client()
    AuthActions(supervisor).login("supervisor")
    first = opened(supervisor, person, "work_or_training")
    assert post(supervisor, person, first, note="培训班").status_code == 302
    answer = post(client, person, officers, note="另一份工作")
    assert answer.status_code == 409
    assert STALE in answer.text
    [row] = rows(db, person)
    assert (row.done, row.note, row.version) == (True, "培训班", 1)
    assert row.marked_by_id == world.users["supervisor"].id
    # a form opened at version 1 after a change to version 2: refused alike
    at_one = opened(client, person, "work_or_training")
    untick = opened(supervisor, person, "work_or_training")
    assert post(supervisor, person, untick, note="").status_code == 302
    answer = post(client, person, at_one, note="改了备注")
    assert answer.status_code == 409 and STALE in answer.text
    [row] = rows(db, person)
    assert (row.done, row.note, row.version) == (False, "", 2)
    assert len(marks(db)) == 2


def test_a_form_that_sends_nonsense_is_refused_and_stores_nothing(client, auth, world, db):
    person = add_inside(world)
    auth.login("officer1")
    form = opened(client, person, "housing")
    for changes in ({"item": "passport"}, {"state": "maybe"}, {"id": "x"}, {"note": "长" * 201}):
        assert post(client, person, form, **changes).status_code == 422
    assert rows(db, person) == [] and marks(db) == []


@pytest.mark.parametrize(
    ("who", "status"),
    [("officer2", 404), ("sup2", 404), ("helper1", 403), ("admin", 403)],
)
def test_only_her_officer_and_supervisor_may_tick(client, auth, world, db, app, who, status):
    person = add_inside(world, helper="helper")
    officers = app.test_client()
    AuthActions(officers).login("officer1")
    form = opened(officers, person, "housing")
    auth.login(who)
    token = csrf_from(client.get("/settings/").text)
    answer = post(client, person, form, csrf_token=token)
    assert answer.status_code == status
    assert rows(db, person) == [] and marks(db) == []
    if who == "helper1":  # her peer view shows no checklist
        assert 'id="release"' not in client.get(f"/people/{person.id}").text


def test_a_closed_ledger_or_withdrawn_consent_shows_no_form(client, auth, world, db):
    person = add_inside(world)
    auth.login("officer1")
    form = opened(client, person, "housing")
    person.consent_withdrawn_at = person.created_at
    db.add(person)
    db.commit()
    html = client.get(f"/people/{person.id}").text
    assert 'id="release"' in html and 'name="item"' not in html
    assert post(client, person, form).status_code == 403
    assert rows(db, person) == []


def today_section(html: str) -> str:
    start = html.index('id="release-preparation"')
    return html[start : html.index("</section>", start)]


def test_today_lists_her_people_whose_preparation_is_open_and_unfinished(
    client, auth, world, db, count_queries
):
    soon = add_inside(world, "soon", days=30)
    add_inside(world, "later", days=170)
    add_inside(world, "far", days=200)  # not yet open
    done = add_inside(world, "done", days=40)
    add_inside(world, "paused", days=50, status="paused")
    for item in ITEMS:
        db.add(
            ReleasePreparation(
                id=uuid.uuid4(),
                person_id=done.id,
                item=item,
                done=True,
                marked_by_id=world.users["officer"].id,
                marked_on=TODAY,
            )
        )
    db.add(
        ReleasePreparation(
            id=uuid.uuid4(),
            person_id=soon.id,
            item="housing",
            done=True,
            marked_by_id=world.users["officer"].id,
            marked_on=TODAY,
        )
    )
    db.commit()
    auth.login("officer1")
    with count_queries() as before:
        html = client.get("/").text
    section = today_section(html)
    assert "出所准备" in section
    assert section.index("出所soon") < section.index("出所later")
    assert "还剩 5 项" in section and "还剩 6 项" in section
    for key in ("far", "done", "paused"):
        assert f"出所{key}" not in section
    assert f"/people/{soon.id}#release" in section
    # the list costs one query, however many people are on it
    for n in range(8):
        add_inside(world, f"more{n}", days=20 + n)
    with count_queries() as after:
        html = client.get("/").text
    assert "出所more7" in today_section(html)
    assert len(after) == len(before)


def test_a_peer_helpers_today_has_no_preparation_list(client, auth, world):
    add_inside(world, helper="helper")
    auth.login("helper1")
    assert 'id="release-preparation"' not in client.get("/").text


# --- the periodic report: 出所前完成准备的人数 and its share ---

MARCH = Period(PeriodKind.month, 2026, 3)
MARCH_ARGS = {"kind": "month", "year": "2026", "month": "3"}
LABEL = "其中出所前完成准备的人数（六项全部完成）"
SHARE = "出所前完成准备的比例"


def prepare(db, person, author, *, marked_on: date, done=ITEMS, undone=()):
    for item in done:
        db.add(
            ReleasePreparation(
                id=uuid.uuid4(),
                person_id=person.id,
                item=item,
                done=item not in undone,
                marked_by_id=author.id,
                marked_on=marked_on,
            )
        )


@pytest.fixture
def released_in_march(world, db):
    """Four women released in March 2026 (one prepared in time) and one in April."""
    officer = world.users["officer"]
    march = {key: date(2026, 3, day) for key, day in (("a", 10), ("b", 12), ("c", 20), ("d", 31))}
    people = {
        key: world.add(key, f"三月{key}", officer="officer", release_date=day, status="active")
        for key, day in march.items()
    }
    prepare(db, people["a"], officer, marked_on=date(2026, 2, 1))  # all six, in time
    prepare(db, people["b"], officer, marked_on=date(2026, 3, 12))  # on release day: late
    prepare(db, people["c"], officer, marked_on=date(2026, 2, 1), undone=("housing",))
    april = world.add("e", "四月e", officer="officer", release_date=date(2026, 4, 2))
    prepare(db, april, officer, marked_on=date(2026, 3, 1))  # prepared, but not released in March
    db.commit()
    return people


def test_the_report_counts_those_prepared_before_release(db, world, released_in_march):
    report = build_report(db, world.users["supervisor"], MARCH, zone=ZoneInfo("Asia/Shanghai"))
    assert (report.total.released, report.total.prepared_before_release) == (4, 1)
    assert report.total.prepared_share == 0.25
    # by hand from the rows: released in May with six items done before their release day
    db.rollback()
    counted = 0
    for person in released_in_march.values():
        items = rows(db, person)
        in_time = [i for i in items if i.done and i.marked_on < person.release_date]
        counted += len(in_time) == len(ITEMS)
    assert counted == 1


def test_the_report_query_count_is_unchanged(db, world, released_in_march, count_queries):
    with count_queries() as statements:
        build_report(db, world.users["supervisor"], MARCH, zone=ZoneInfo("Asia/Shanghai"))
    assert len(statements) == QUERIES


def test_the_page_the_spreadsheet_and_the_csv_agree(client, auth, world, released_in_march):
    auth.login("supervisor")
    html = client.get("/reports/", query_string=MARCH_ARGS).text
    row = html[html.index(LABEL) :]
    assert re.match(rf"{LABEL}</th>\s*<td>1</td>", row), row[:200]
    share = html[html.index(SHARE) :]
    assert re.match(rf"{SHARE}</th>\s*<td>25.0%</td>", share), share[:200]
    for name in ("三月a", "三月b", "三月c", "三月d", "四月e"):
        assert name not in html
    sheet = load_workbook(
        io.BytesIO(client.get("/reports/report.xlsx", query_string=MARCH_ARGS).data)
    ).active
    labels = {row[0].value: row[0].row for row in sheet.iter_rows(min_col=1, max_col=1)}
    released, prepared = labels["出所人数"], labels[LABEL]
    assert (sheet.cell(released, 2).value, sheet.cell(prepared, 2).value) == (4, 1)
    assert sheet.cell(labels[SHARE], 2).value == (f'=IF(B{released}=0,"",B{prepared}/B{released})')
    text = client.get("/reports/report.csv", query_string=MARCH_ARGS).data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert [LABEL, "1"] in lines and [SHARE, "0.250"] in lines
    assert not any("三月" in cell for line in lines for cell in line)


def test_demo_people_inside_have_a_partly_done_checklist(db, app):
    from app.demo import load_demo
    from app.models import Person

    load_demo(db, environment="development")
    db.rollback()
    inside = db.exec(select(Person).where(Person.status == "pre_release")).all()
    assert inside
    for person in inside:
        items = rows(db, person)
        assert 1 <= sum(i.done for i in items) < 6


def test_her_complete_record_holds_her_preparation(client, auth, world, db):
    person = add_inside(world)
    auth.login("officer1")
    assert post(client, person, opened(client, person, "housing"), note="暂住").status_code == 302
    from app.subject_access import complete_record

    record = complete_record(db, reload(db, person), cipher=world.cipher)
    assert [r["item"] for r in record["release_preparation"]] == ["housing"]
