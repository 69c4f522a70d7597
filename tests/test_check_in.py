"""Self check-in: her officer gives her a link; behind it one form writes a check-in to her
ledger, shows nothing of her record, and stops working when expired, revoked or replaced."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.crypto import get_cipher
from app.due import check_due
from app.models import AuditEvent, CheckInLink, Visit
from app.supervision.period import Period, PeriodKind
from app.supervision.report import build_report
from tests.conftest import AuthActions, csrf_from
from tests.factories import save_visit, visit_data
from tests.people_world import TODAY, reload
from tests.reminders.standins import SmsGatewayStandIn
from tests.test_risk_follow_up import section, sections

GONE = "此链接已失效，请联系你的帮扶干部。"
# what her record holds that her page must never show (test people_world: 张晓梅)
HERS = ("张晓梅", "13812345678", "陈雪梅", "Zhang")
LINK = re.compile(r"/c/([A-Za-z0-9_-]{43})")


def give_link(client, auth, person, username="officer1") -> str:
    """Her officer signs in and creates her link; the token it shows once."""
    auth.login(username)
    page = auth.post_form(f"/people/{person.id}/check-in-link", {}, page=f"/people/{person.id}")
    assert page.status_code == 200, page.status_code
    (token,) = set(LINK.findall(page.text))
    assert "<svg" in page.text  # the QR code, drawn on the server
    auth.logout()
    return token


def check_in(app, token: str, **answers):
    """She opens the link in a browser with no account and sends the form."""
    browser = app.test_client()
    form = browser.get(f"/c/{token}")
    data = {"mood": "4", "craving": "2", "talk": "no", "note": "今天还好", **answers}
    if form.status_code != 200:
        return form
    return browser.post(f"/c/{token}", data={**data, "csrf_token": csrf_from(form.text)})


def check_ins(db, person) -> list[Visit]:
    db.rollback()
    query = select(Visit).where(Visit.person_id == person.id, Visit.check_in_link_id.is_not(None))
    return list(db.exec(query))


def at_moment(monkeypatch, moment: datetime) -> None:
    """The check-in pages see this moment as now."""
    monkeypatch.setattr("app.checkin.views.utcnow", lambda: moment)


def test_a_link_is_shown_once_and_only_its_keyed_hash_is_kept(app, client, auth, world, db):
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    db.rollback()
    (link,) = db.exec(select(CheckInLink).where(CheckInLink.person_id == mine.id))
    assert link.token_hash == get_cipher().digest(token) and token not in link.token_hash
    assert link.issued_by_id == world.users["officer"].id
    days = (link.expires_at - link.created_at).days
    assert days == app.config["CLOVER_CHECKIN_DAYS"] == 90
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "check_in_link_issue")).all()
    assert len(events) == 1 and token not in str(events[0].details)
    # her ledger says the link is in force, and never shows it again
    auth.login("officer1")
    ledger = client.get(f"/people/{mine.id}").text
    assert "线上打卡链接" in ledger and "有效期至" in ledger and token not in ledger


def test_her_check_in_is_written_to_her_ledger_and_her_page_shows_nothing_of_her(
    app, client, auth, world, db
):
    mine = world.people["mine"]
    before = reload(db, mine)
    due_on, last_contact = before.next_due_on, before.last_contact_at
    token = give_link(client, auth, mine)
    page = app.test_client().get(f"/c/{token}")
    assert page.status_code == 200 and "我想找人聊聊" in page.text
    assert not [word for word in HERS if word in page.text]
    sent = check_in(app, token, mood="2", craving="7", note="有点想家")
    assert sent.status_code == 303
    done = app.test_client().get(sent.headers["Location"])
    assert "打卡已收到" in done.text and not [word for word in HERS if word in done.text]

    (visit,) = check_ins(db, mine)
    assert (visit.kind, visit.mood, visit.craving, visit.notes) == (
        "online_check_in",
        2,
        7,
        "有点想家",
    )
    assert visit.author_id == world.users["officer"].id and not visit.asked_to_talk
    # a sign of life, not an officer's contact: her due date and last contact stay put
    person = reload(db, mine)
    assert (person.next_due_on, person.last_contact_at) == (due_on, last_contact)
    assert check_due(db, today=TODAY).differences == []
    event = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "visit_create", AuditEvent.target_id == str(visit.id)
        )
    ).one()
    assert event.details["via"] == "check_in_link" and token not in str(event.details)

    auth.login("officer1")
    ledger = client.get(f"/people/{mine.id}").text
    assert "本人打卡" in ledger and "有点想家" in ledger and "最近一次打卡" in ledger


def test_the_fourth_check_in_of_a_day_is_refused_and_nothing_is_stored(
    app, client, auth, world, db, monkeypatch
):
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    for _ in range(3):
        assert check_in(app, token).status_code == 303
    refused = check_in(app, token, note="第四次")
    assert refused.status_code == 429 and "今天已经打卡3次了" in refused.text
    assert len(check_ins(db, mine)) == 3 and "第四次" not in {v.notes for v in check_ins(db, mine)}
    # the next local day she may check in again
    at_moment(monkeypatch, datetime.now(UTC) + timedelta(days=1))
    assert check_in(app, token).status_code == 303
    assert len(check_ins(db, mine)) == 4


def test_the_same_form_sent_twice_is_one_check_in(app, client, auth, world, db):
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    browser = app.test_client()
    form = browser.get(f"/c/{token}").text
    (form_id,) = re.findall(r'name="id" type="hidden" value="([0-9a-f-]{36})"', form)
    data = {"mood": "3", "talk": "yes", "id": form_id, "csrf_token": csrf_from(form)}
    # a double tap, then a resend after the answer was lost, even past the day's count
    for _ in range(2):
        assert browser.post(f"/c/{token}", data=data).status_code == 303
    assert check_in(app, token).status_code == 303 and check_in(app, token).status_code == 303
    assert browser.post(f"/c/{token}", data=data).status_code == 303
    assert len(check_ins(db, mine)) == 3
    # a fresh form is a fresh check-in: that one is the fourth of the day
    assert check_in(app, token).status_code == 429
    # a form naming someone else's record writes its own check-in, never touches that one
    other = save_visit(db, world.users["officer"], visit_data(mine)).record
    assert browser.post(f"/c/{token}", data={**data, "id": str(other.id)}).status_code == 429
    assert db.get(Visit, other.id).check_in_link_id is None


@pytest.mark.parametrize("why", ["unknown", "expired", "revoked", "replaced"])
def test_a_link_that_does_not_write_gets_the_one_plain_page(
    app, client, auth, world, db, monkeypatch, why
):
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    if why == "unknown":
        token = token[:-4] + "AAAA"
    elif why == "expired":
        at_moment(monkeypatch, datetime.now(UTC) + timedelta(days=90, minutes=1))
    elif why == "revoked":
        auth.login("supervisor")
        answer = auth.post_form(
            f"/people/{mine.id}/check-in-link/revoke", {}, page=f"/people/{mine.id}"
        )
        assert answer.status_code == 303
        auth.logout()
    else:
        give_link(client, auth, mine)
    page = app.test_client().get(f"/c/{token}")
    assert page.status_code == 404 and GONE in page.text
    assert not [word for word in HERS if word in page.text]
    posted = app.test_client().post(f"/c/{token}", data={"mood": "3"})
    assert posted.status_code in (400, 404)  # no form to take a token from: nothing written
    assert check_ins(db, mine) == []
    unknown = app.test_client().get("/c/" + "x" * 43)
    assert unknown.text == page.text  # the same page, whether it existed or not


def test_a_link_still_valid_one_minute_before_it_expires(app, client, auth, world, monkeypatch):
    token = give_link(client, auth, world.people["mine"])
    at_moment(monkeypatch, datetime.now(UTC) + timedelta(days=90, minutes=-1))
    assert check_in(app, token).status_code == 303


def test_asking_to_talk_puts_her_first_on_today_until_an_officer_contact_follows(
    app, client, auth, world, db
):
    officer, mine = world.users["officer"], world.people["mine"]
    token = give_link(client, auth, mine)
    assert check_in(app, token, talk="yes").status_code == 303
    person = reload(db, mine)
    assert person.due_reason == "asked_to_talk" and person.next_due_on <= TODAY + timedelta(days=2)
    assert check_due(db, today=TODAY).differences == []

    auth.login("officer1")
    today = client.get("/").text
    assert sections(today)[0] == "risk" and "需要您马上跟进" in today
    assert "张晓梅" in section(today, "risk") and "她想找人聊聊" in section(today, "risk")
    assert "想找人聊聊" in client.get(f"/people/{mine.id}").text

    # another check-in of hers is no contact: she still waits for one
    assert check_in(app, token, talk="no").status_code == 303
    assert reload(db, mine).due_reason == "asked_to_talk"
    # an officer's call clears it
    save_visit(
        db,
        officer,
        visit_data(mine, kind="phone_consultation", occurred_at=datetime.now(UTC).isoformat()),
    )
    person = reload(db, mine)
    assert person.due_reason != "asked_to_talk" and person.next_due_on > TODAY
    assert "risk" not in sections(client.get("/").text)
    assert check_due(db, today=TODAY).differences == []


def test_the_report_counts_a_check_in_as_online_check_in(app, client, auth, world, db):
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    assert check_in(app, token).status_code == 303
    db.rollback()
    period = Period(PeriodKind.month, TODAY.year, TODAY.month)
    report = build_report(db, world.users["supervisor"], period, zone=ZoneInfo("Asia/Shanghai"))
    assert report.total.follow_ups_by_kind.get("online_check_in") == 1


def test_her_ledger_says_how_many_days_she_has_not_checked_in(app, client, auth, world, db):
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    assert check_in(app, token).status_code == 303
    db.rollback()
    (visit,) = check_ins(db, mine)
    visit.occurred_at = datetime.now(UTC) - timedelta(days=10)
    db.add(visit)
    db.commit()
    auth.login("officer1")
    ledger = client.get(f"/people/{mine.id}").text
    assert "已 10 天未打卡" in ledger


def test_with_no_sms_provider_there_is_no_send_button_and_the_page_says_so(
    app, client, auth, world
):
    mine = world.people["mine"]
    auth.login("officer1")
    ledger = client.get(f"/people/{mine.id}").text
    assert "未配置短信服务" in ledger and f"/people/{mine.id}/check-in-link/sms" not in ledger
    answer = auth.post_form(f"/people/{mine.id}/check-in-link/sms", {}, page=f"/people/{mine.id}")
    assert answer.status_code == 409


@pytest.fixture
def sms_gateway():
    gateway = SmsGatewayStandIn()
    yield gateway
    gateway.close()


def test_the_link_goes_by_text_message_with_nothing_of_her_but_the_link(
    app, client, auth, world, db, sms_gateway
):
    app.config.update(CLOVER_SMS_URL=sms_gateway.url, CLOVER_BASE_URL="https://clover.example.org")
    mine = world.people["mine"]
    auth.login("officer1")
    ledger = client.get(f"/people/{mine.id}").text
    assert f"/people/{mine.id}/check-in-link/sms" in ledger
    answer = auth.post_form(f"/people/{mine.id}/check-in-link/sms", {}, page=f"/people/{mine.id}")
    assert answer.status_code == 303
    assert "新的打卡链接已发送到 138****5678" in client.get(answer.headers["Location"]).text
    (received,) = sms_gateway.received
    body = received.body
    assert body["phone"] == "13812345678" and body["template"] == "check_in_link"
    (token,) = LINK.findall(body["text"])
    assert "https://clover.example.org/c/" in body["text"]
    assert not [word for word in HERS[:1] + HERS[2:] if word in str(body)]
    # the link texted is the one in force, and the audit keeps no token
    assert check_in(app, token).status_code == 303
    events = db.exec(select(AuditEvent).where(AuditEvent.action.like("check_in_link%"))).all()
    assert {e.action for e in events} == {"check_in_link_issue", "check_in_link_sms"}
    assert not [e for e in events if token in str(e.details)]


def test_a_refused_text_message_leaves_her_link_as_it_was(
    app, client, auth, world, db, sms_gateway
):
    app.config.update(CLOVER_SMS_URL=sms_gateway.url)
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    sms_gateway.statuses["/sms/send"] = [400]
    auth.login("officer1")
    answer = auth.post_form(f"/people/{mine.id}/check-in-link/sms", {}, page=f"/people/{mine.id}")
    assert "短信未能发送" in client.get(answer.headers["Location"]).text
    assert check_in(app, token).status_code == 303  # the link she had still works


def test_only_her_officer_and_supervisor_give_her_a_link(app, client, world):
    mine = world.people["mine"]
    for username, status in [("officer2", 404), ("helper1", 403), ("admin", 403)]:
        auth = AuthActions(app.test_client())
        auth.login(username)
        answer = auth.post_form(f"/people/{mine.id}/check-in-link", {}, page="/settings/")
        assert answer.status_code == status, username


def test_a_link_stops_when_her_officer_no_longer_follows_her(app, client, auth, world, db):
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    db.rollback()
    person = reload(db, mine)
    person.assigned_officer_id = world.users["other_officer"].id
    db.add(person)
    db.commit()
    page = app.test_client().get(f"/c/{token}")
    assert page.status_code == 404 and GONE in page.text


def test_the_public_page_is_limited_per_address(app, client, auth, world):
    app.config["CLOVER_CHECKIN_LIMITS"] = "2 per minute"
    browser = app.test_client()
    answers = [browser.get("/c/" + "y" * 43).status_code for _ in range(3)]
    assert answers == [404, 404, 429]


def test_nobody_corrects_her_check_in(app, client, auth, world, db):
    mine = world.people["mine"]
    token = give_link(client, auth, mine)
    assert check_in(app, token, note="她自己写的").status_code == 303
    (visit,) = check_ins(db, mine)
    for username in ("officer1", "supervisor"):
        auth.login(username)
        assert f"/visits/{visit.id}/edit" not in client.get(f"/people/{mine.id}").text
        assert client.get(f"/visits/{visit.id}/edit").status_code == 403
        auth.logout()
