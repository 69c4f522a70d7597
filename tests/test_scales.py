"""Standard scales: scored by the published rules, entered on one screen, charted on her
ledger; PHQ-9 item 9 above 0 raises the self-harm flag and alert a visit's flag raises."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from app.due import check_due, schedule_today
from app.models import AuditEvent, Reminder, ScaleResult
from app.offline.versions import person_stamps
from app.scales.definitions import GAD7, PHQ9, SCALES
from app.types import utcnow
from tests.conftest import AuthActions
from tests.factories import save_visit, visit_data
from tests.people_world import ZONE, reload


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_totals_fall_in_the_published_severity_bands(total, band):
    assert PHQ9.band_of(total).code == band


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_totals_fall_in_the_published_severity_bands(total, band):
    assert GAD7.band_of(total).code == band


def test_each_scale_has_its_published_shape():
    assert (len(PHQ9.items), PHQ9.lowest, PHQ9.highest) == (9, 0, 27)
    assert (len(GAD7.items), GAD7.lowest, GAD7.highest) == (7, 0, 21)
    assert [value for value, _ in PHQ9.answers] == [0, 1, 2, 3]
    assert (SCALES["craving"].lowest, SCALES["craving"].highest) == (0, 10)
    assert (SCALES["mood"].lowest, SCALES["mood"].highest) == (1, 5)


def answers_for(total: int, items: int = 9, *, last: int | None = None) -> list[int]:
    """Answers (0..3 each) that add up to `total`; the last item's answer fixed if given."""
    fixed = [] if last is None else [last]
    rest, left = [], total - sum(fixed)
    for _ in range(items - len(fixed)):
        rest.append(min(3, left))
        left -= rest[-1]
    assert left == 0
    return rest + fixed


def entry_page(client, person, code="phq9", **query):
    url = f"/people/{person.id}/scales/{code}/new"
    page = client.get(url, query_string=query)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    scale_id = re.search(r'name="id" value="([^"]+)"', page.text).group(1)
    return url, {"csrf_token": token, "id": scale_id, "visit_id": query.get("visit_id", "")}


def post_scale(client, person, answers, code="phq9", **query):
    url, form = entry_page(client, person, code, **query)
    form.update({f"q{i + 1}": str(a) for i, a in enumerate(answers) if a is not None})
    return client.post(url, data=form), form


def stored(db):
    db.rollback()
    return db.exec(select(ScaleResult)).all()


@pytest.mark.parametrize(("total", "band"), [(4, "minimal"), (5, "mild"), (14, "moderate")])
def test_an_officer_enters_a_phq9_and_the_app_scores_it(client, auth, world, db, total, band):
    mine = world.people["mine"]
    auth.login("officer1")
    answer, _form = post_scale(client, mine, answers_for(total, last=0))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#scales")
    [result] = stored(db)
    assert (result.scale, result.total, result.band) == ("phq9", total, band)
    assert result.answers == answers_for(total, last=0) and result.visit_id is None
    assert (result.person_id, result.author_id) == (mine.id, world.users["officer"].id)
    audit = db.exec(select(AuditEvent).where(AuditEvent.action == "scale_record")).one()
    assert (audit.person_id, audit.target_id) == (mine.id, str(result.id))
    flashed = client.get(f"/people/{mine.id}").text
    assert f"PHQ-9（抑郁）已保存：总分 {total}" in flashed


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([1, 1, 1, 1, 1, 1, 1, 1, None], "请为这道题选择一个答案。"),
        ([1, 1, 4, 1, 1, 1, 1, 1, 0], "这个答案不在选项之中。"),
        ([1, 1, "x", 1, 1, 1, 1, 1, 0], "这个答案不在选项之中。"),
        ([1, 1, -1, 1, 1, 1, 1, 1, 0], "这个答案不在选项之中。"),
    ],
)
def test_an_unanswered_or_out_of_range_item_is_refused_and_nothing_stored(
    client, auth, world, db, answers, message
):
    mine = world.people["mine"]
    auth.login("officer1")
    answer, _form = post_scale(client, mine, answers)
    assert answer.status_code == 422
    assert "尚未保存" in answer.text and message in answer.text
    assert stored(db) == []
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "scale_record")).all() == []
    # what was answered stays chosen
    assert re.search(r'name="q1" value="1"\s+checked', answer.text)


def test_the_same_post_twice_stores_one_result(client, auth, world, db):
    mine = world.people["mine"]
    auth.login("officer1")
    url, form = entry_page(client, mine, "gad7")
    form.update({f"q{i}": "2" for i in range(1, 8)})
    assert client.post(url, data=form).status_code == 302
    again = client.post(url, data=form, follow_redirects=True)
    assert again.status_code == 200 and "这份量表已经保存过了。" in again.text
    [result] = stored(db)
    assert (result.total, result.band) == (14, "moderate")
    # the same id with other answers changes nothing
    other = client.post(url, data={**form, "q1": "0"})
    assert other.status_code == 409
    assert [r.total for r in stored(db)] == [14]


def test_item_9_above_0_raises_the_self_harm_flag_and_alerts_the_supervisor(
    client, auth, world, db
):
    mine = world.people["mine"]
    auth.login("officer1")
    assert post_scale(client, mine, answers_for(6, last=1))[0].status_code == 302
    [result] = stored(db)
    assert result.risk_flags == ["self_harm"]
    [alert] = db.exec(select(Reminder)).all()
    assert (alert.kind, alert.ref, alert.user_id) == (
        "alert",
        str(result.id),
        world.users["supervisor"].id,
    )
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "risk_alert")).one()
    # followed up within the unit's risk hours, first on her due list, as a visit's flag is
    person = reload(db, mine)
    assert person.due_reason == "risk"
    ledger = client.get(f"/people/{mine.id}").text
    assert 'id="open-risk"' in ledger and "自伤风险" in ledger
    assert 'id="risk"' in client.get("/").text
    assert check_due(db, today=schedule_today()).differences == []
    # and waits on her supervisor's dashboard, self-harm first
    db.rollback()
    supervisor = client.application.test_client()
    AuthActions(supervisor).login("supervisor")
    risks = supervisor.get("/supervision/").text
    risks = risks[risks.index('id="risks"') : risks.index("</section>", risks.index('id="risks"'))]
    assert "张晓梅" in risks and "PHQ-9（抑郁）" in risks and "#scale-phq9" in risks
    # a completed contact after it clears it
    db.rollback()
    later = utcnow() + timedelta(minutes=5)
    occurred = later.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")
    save_visit(db, world.users["officer"], visit_data(mine, occurred_at=occurred), now=later)
    assert reload(db, mine).due_reason != "risk"


def test_item_9_at_0_raises_no_flag_and_no_alert(client, auth, world, db):
    mine = world.people["mine"]
    auth.login("officer1")
    assert post_scale(client, mine, answers_for(20, last=0))[0].status_code == 302
    [result] = stored(db)
    assert (result.band, result.risk_flags) == ("severe", [])
    assert db.exec(select(Reminder)).all() == []
    assert reload(db, mine).due_reason != "risk"


@pytest.mark.parametrize("username", ["officer2", "helper1"])
def test_someone_who_may_not_record_her_visits_cannot_enter_a_scale(
    client, auth, world, db, username
):
    mine = world.people["mine"]
    auth.login(username)
    url = f"/people/{mine.id}/scales/phq9/new"
    assert client.get(url).status_code in (403, 404)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/").text).group(1)
    data = {"csrf_token": token, "id": str(uuid.uuid4()), **{f"q{i}": "1" for i in range(1, 10)}}
    assert client.post(url, data=data).status_code in (403, 404)
    assert stored(db) == []


def test_her_ledger_charts_each_scale_beside_its_table(client, auth, world, db):
    mine = world.people["mine"]
    auth.login("officer1")
    for total in (16, 11, 3):
        post_scale(client, mine, answers_for(total, last=0))
    post_scale(client, mine, [7], code="craving")
    ledger = client.get(f"/people/{mine.id}").text
    section = ledger[ledger.index('id="scales"') : ledger.index('id="timeline"')]
    assert '<svg class="chart chart-line" id="chart-phq9"' in section
    assert section.count('class="band-level-') >= 5 + 4  # PHQ-9's bands and craving's
    assert section.count('<circle class="chart-point"') == 4
    assert " style=" not in section
    assert "最近一次：3，无或极轻微抑郁" in section
    rows = re.findall(r"<tr><td>[^<]+</td><td>(\d+)</td><td>([^<]+)</td></tr>", section)
    assert rows[:3] == [("3", "无或极轻微抑郁"), ("11", "中度抑郁"), ("16", "中重度抑郁")]
    assert ("7", "强烈渴求") in rows
    # a supervisor reads them too; the peer helper's view shows none
    db.rollback()
    auth.logout()
    auth.login("supervisor")
    assert 'id="chart-phq9"' in client.get(f"/people/{mine.id}").text
    auth.logout()
    auth.login("helper1")
    peer_view = client.get(f"/people/{mine.id}").text
    assert 'id="scales"' not in peer_view and "chart-phq9" not in peer_view


def test_a_scale_reached_from_a_saved_visit_is_recorded_against_it(client, auth, world, db):
    mine = world.people["mine"]
    auth.login("officer1")
    visit_id = str(uuid.uuid4())
    saved = save_visit(db, world.users["officer"], visit_data(mine, id=visit_id))
    ledger = client.get(f"/people/{mine.id}?saved={visit_id}").text
    assert f"/people/{mine.id}/scales/new?visit_id={visit_id}" in ledger
    choose = client.get(f"/people/{mine.id}/scales/new?visit_id={visit_id}").text
    assert f"/people/{mine.id}/scales/mood/new?visit_id={visit_id}" in choose
    assert post_scale(client, mine, [2], code="mood", visit_id=visit_id)[0].status_code == 302
    [result] = stored(db)
    assert (result.visit_id, result.band) == (saved.record.id, "low")
    assert result.taken_at == saved.record.occurred_at


def test_the_english_page_asks_in_the_original_wording(client, auth, world, db):
    user = world.users["officer"]
    user.locale = "en"
    db.add(user)
    db.commit()
    auth.login("officer1")
    page = client.get(f"/people/{world.people['mine'].id}/scales/phq9/new").text
    assert "Over the last 2 weeks, how often have you been bothered by any of the following" in page
    assert "Thoughts that you would be better off dead" in page and "Nearly every day" in page


def test_the_chinese_page_asks_in_the_published_chinese_wording(client, auth, world):
    auth.login("officer1")
    page = client.get(f"/people/{world.people['mine'].id}/scales/gad7/new").text
    assert "在过去的两周里，您有多少时间受到以下问题的困扰？" in page
    assert "感觉紧张，焦虑或急切" in page and "一半以上的天数" in page
    # seven questions of four answers each
    assert page.count('type="radio"') == 28


def test_a_new_scale_moves_her_ledger_kept_on_the_phone(client, auth, world, db):
    mine = world.people["mine"]
    before = person_stamps(db, [mine])[mine.id]
    auth.login("officer1")
    post_scale(client, mine, [3], code="craving")
    db.rollback()
    assert person_stamps(db, [reload(db, mine)])[mine.id] != before


def test_her_complete_record_for_a_subject_access_request_holds_her_scales(client, auth, world, db):
    mine = world.people["mine"]
    auth.login("officer1")
    post_scale(client, mine, answers_for(7, items=7), code="gad7")
    auth.logout()
    auth.login("supervisor")
    record = json.loads(client.get(f"/audit/people/{mine.id}.json").data)
    [scale] = record["scale_results"]
    assert (scale["scale"], scale["total"], scale["band"]) == ("gad7", 7, "mild")
    page = client.get(f"/audit/people/{mine.id}").text
    assert "<h2>量表</h2>" in page and "gad7" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "", "这份量表没有有效的编号，请重新加载表单。"),
        ("id", "not-a-uuid", "这份量表没有有效的编号，请重新加载表单。"),
        ("visit_id", "not-a-uuid", "这不是有效的标识符。"),
        ("visit_id", "colleague", "这次走访不是她的记录。"),
    ],
)
def test_a_broken_form_is_refused_with_its_reason_and_nothing_stored(
    client, auth, world, db, field, value, message
):
    mine = world.people["mine"]
    if value == "colleague":  # a visit with another woman
        other = save_visit(db, world.users["other_officer"], visit_data(world.people["colleague"]))
        value = str(other.record.id)
    auth.login("officer1")
    url, form = entry_page(client, mine, "mood")
    answer = client.post(url, data={**form, "q1": "3", field: value})
    assert answer.status_code == 422 and message in answer.text
    assert stored(db) == []
