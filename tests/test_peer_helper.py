"""A peer helper sees what a peer needs, no more: the women paired with her who agreed to a
peer's contact, and of each only her name, phone, agreed contact times and the talks and
check-ins the helper logged herself. Everything through the routes a helper's phone uses."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.demo import DEMO_PASSWORD, load_demo
from app.models import AuditEvent, Consent, Person, StatusChange, User, Visit
from app.policy import Action, can
from tests.conftest import AuthActions, csrf_from
from tests.factories import save_visit, visit_data
from tests.people_world import TODAY, reload
from tests.sync_world import Phone, create_item

ADDRESS = "重庆市渝中区解放碑街道民生路88号"
MOTHER, MOTHER_PHONE = "张桂兰", "13700001234"
OFFICER_NOTES = "民警入户：母亲身体不好，家里经济困难"
OFFICER_TALK = "民警谈心：提到想念孩子"
HELPER_TALK = "互助员谈心：一起散步，聊了找工作的事"
STATUS_NOTE = "社区尿检阳性，本人承认复吸"
RELAPSE_FLAG = "复吸迹象"  # the label of the risk flag relapse_signs


def day(days_ago: int) -> str:
    return f"{TODAY - timedelta(days=days_ago)}T10:30"


def hidden_fields(client, url: str) -> dict:
    """The hidden fields a browser would send back with the form: token, UUID, version."""
    page = client.get(url).text
    fields = dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', page))
    fields |= dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    return {**fields, "csrf_token": csrf_from(page)}


def log_talk(client, person, notes: str):
    """The helper logs a talk through the visit form, as on her phone."""
    url = f"/people/{person.id}/visits/new"
    data = visit_data(person, id=hidden_fields(client, url)["id"], kind="talk", notes=notes)
    data.pop("person_id")
    data["occurred_at"] = day(1)
    return client.post(url, data={**data, "csrf_token": hidden_fields(client, url)["csrf_token"]})


@pytest.fixture
def officer_client(app):
    """A second phone, for the officer who keeps the woman's ledger."""
    client = app.test_client()
    AuthActions(client).login("officer1")
    return client


@pytest.fixture
def full_ledger(world, db, client, auth):
    """张晓梅's ledger as officers keep it, and one talk her peer helper logged herself."""
    person = world.people["mine"]
    person.address = ADDRESS
    person.emergency_contacts = [{"name": MOTHER, "relation": "母亲", "phone": MOTHER_PHONE}]
    person.version += 1
    db.add(
        StatusChange(
            person_id=person.id,
            from_status="active",
            to_status="relapse",
            note=STATUS_NOTE,
            effective_on=TODAY - timedelta(days=5),
            author_id=world.users["officer"].id,
        )
    )
    db.commit()
    officer = world.users["officer"]
    visit = visit_data(
        person, notes=OFFICER_NOTES, risk_flags=["relapse_signs"], occurred_at=day(3)
    )
    assert save_visit(db, officer, visit).saved
    talk = visit_data(person, kind="talk", notes=OFFICER_TALK, occurred_at=day(2))
    assert save_visit(db, officer, talk).saved
    auth.login("helper1")
    assert log_talk(client, person, HELPER_TALK).status_code == 302
    return person


def test_the_helper_sees_her_name_phone_contact_times_and_her_own_talk(client, world, full_ledger):
    person = full_ledger
    page = client.get(f"/people/{person.id}").text
    assert "张晓梅" in page and "13812345678" in page
    assert "方便联系的时间" in page and "工作日晚上七点后" in page
    assert HELPER_TALK in page and "交流谈心" in page
    assert f"/people/{person.id}/visits/new" in page  # a button to log the next one
    shown_nowhere = [
        ADDRESS,
        MOTHER,
        MOTHER_PHONE,
        person.id_number_tail,
        "身份证号",
        OFFICER_NOTES,
        OFFICER_TALK,
        RELAPSE_FLAG,
        STATUS_NOTE,
        "帮扶计划",
        "回归社会心理帮扶申请表",
    ]
    assert [text for text in shown_nowhere if text in page] == []


@pytest.mark.parametrize("who", ["officer1", "supervisor"])
def test_officers_and_supervisors_still_see_the_whole_ledger(app, world, full_ledger, who):
    client = app.test_client()
    AuthActions(client).login(who)
    page = client.get(f"/people/{full_ledger.id}").text
    for text in (ADDRESS, MOTHER, MOTHER_PHONE, OFFICER_NOTES, OFFICER_TALK, HELPER_TALK):
        assert text in page, text
    assert RELAPSE_FLAG in page and STATUS_NOTE in page
    assert "帮扶计划" in page and "回归社会心理帮扶申请表" in page
    assert "500***********" in page and full_ledger.id_number_tail in page


def test_the_peer_view_is_audited_as_a_read_of_her_record(client, world, full_ledger, db):
    client.get(f"/people/{full_ledger.id}", headers={"User-Agent": "HelperPhone/2.0"})
    events = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "person_view", AuditEvent.user_id == world.users["helper"].id
        )
    ).all()
    assert [(e.person_id, e.details) for e in events] == [(full_ledger.id, {"page": "peer_ledger"})]
    assert events[0].ip == "127.0.0.1" and events[0].user_agent == "HelperPhone/2.0"


# a search answers with its results alone, without the box that repeats what was typed
HTMX = {"HX-Request": "true", "HX-Target": "people-results"}


def what_the_helper_sees(client, person) -> dict[str, bool]:
    """Whether she appears on each page and API a helper's phone reads."""
    offline = client.get("/api/v1/offline/pages").json["pages"]
    pull = client.get("/api/v1/sync/pull").json
    ledger = client.get(f"/people/{person.id}")
    visit_form = client.get(f"/people/{person.id}/visits/new")
    search = {"q": person.name}
    return {
        "list": person.name in client.get("/people/").text,
        "search": person.name in client.get("/people/", query_string=search, headers=HTMX).text,
        "today": person.name in client.get("/").text,
        "ledger": ledger.status_code == 200 and person.name in ledger.text,
        "visit form": visit_form.status_code == 200 and person.name in visit_form.text,
        "offline pages": any(page.get("person_id") == str(person.id) for page in offline),
        "pull": str(person.id) in pull["people"],
    }


EVERYWHERE = dict.fromkeys(
    ["list", "search", "today", "ledger", "visit form", "offline pages", "pull"], True
)
NOWHERE = dict.fromkeys(EVERYWHERE, False)


def withdraw(officer_client, person):
    url = f"/people/{person.id}/consent/withdraw"
    token = csrf_from(officer_client.get(url).text)
    return officer_client.post(url, data={"reason": "本人不再需要帮扶", "csrf_token": token})


def sign_without_peer_contact(officer_client, person):
    """A new support application in force that no longer agrees to a peer's contact."""
    url = f"/people/{person.id}/consent"
    data = {
        **hidden_fields(officer_client, url),
        "signed_on": TODAY.isoformat(),
        "consents": ["follow_up_visits", "phone_contact"],
        "preferred_contact_times": "周末上午",
    }
    return officer_client.post(url, data=data)


@pytest.mark.parametrize("change", [withdraw, sign_without_peer_contact])
def test_when_her_consent_to_peer_contact_ends_she_leaves_every_page(
    client, auth, world, db, officer_client, change
):
    person = world.people["mine"]
    auth.login("helper1")
    before = client.get("/api/v1/sync/pull").json["cursor"]
    assert what_the_helper_sees(client, person) == EVERYWHERE
    assert change(officer_client, person).status_code == 302
    assert what_the_helper_sees(client, person) == NOWHERE
    assert "张晓梅" not in client.get(f"/people/{person.id}").text
    assert client.get(f"/people/{person.id}").status_code == 404
    # the phone that kept her is told to forget her
    assert (
        str(person.id)
        in client.get("/api/v1/sync/pull", query_string={"cursor": before}).json["removed"]
    )
    # her officer still keeps her ledger
    assert officer_client.get(f"/people/{person.id}").status_code == 200
    reload(db, person)
    assert can(world.users["officer"], Action.person_view, person)
    assert not can(world.users["helper"], Action.person_view, person)


def test_a_woman_who_never_agreed_to_peer_contact_is_on_none_of_them(client, auth, world, db):
    declined = world.add("declined", "赵敏", officer="officer", helper="helper", peer_contact=False)
    unsigned = world.add("unsigned", "吴倩", officer="officer", helper="helper", consent=False)
    auth.login("helper1")
    assert what_the_helper_sees(client, world.people["mine"]) == EVERYWHERE
    for person in (declined, unsigned):
        assert what_the_helper_sees(client, person) == NOWHERE, person.name
        assert client.get(f"/people/{person.id}").status_code == 404


def test_her_helpers_pages_cost_the_same_queries_for_any_number_of_women(
    client, auth, world, count_queries
):
    auth.login("helper1")
    with count_queries() as one:
        assert "张晓梅" in client.get("/").text
        client.get("/api/v1/offline/pages")
    for n in range(6):
        world.add(f"paired{n}", f"结对{n}", officer="officer", helper="helper")
    with count_queries() as seven:
        assert "结对5" in client.get("/").text
        client.get("/api/v1/offline/pages")
    assert len(seven) == len(one)


def test_the_demo_helper_has_women_who_agreed_and_sees_no_one_else(client, auth, db):
    load_demo(db, environment="development")
    helper = db.exec(select(User).where(User.username == "helper1")).one()
    paired = db.exec(select(Person).where(Person.peer_helper_id == helper.id)).all()
    agreed = set()
    for person in paired:
        consents = db.exec(
            select(Consent.consents)
            .where(Consent.person_id == person.id)
            .order_by(Consent.version.desc())
        ).first()
        if person.consent_withdrawn_at is None and consents["peer_contact"]:
            agreed.add(person.name)
    assert len(agreed) >= 5
    auth.login("helper1", DEMO_PASSWORD)
    page = client.get("/people/").text
    assert {p.name for p in paired if p.name in page} == agreed


def test_a_talk_pushed_for_a_paired_woman_who_did_not_agree_is_refused(client, auth, world, db):
    declined = world.add("declined", "赵敏", officer="officer", helper="helper", peer_contact=False)
    phone = Phone(client, auth).sign_in("helper1")
    mine, theirs = (
        create_item(person, kind="talk", notes=HELPER_TALK, occurred_at=day(1))
        for person in (world.people["mine"], declined)
    )
    assert phone.statuses([mine, theirs]) == ["created", "refused"]
    stored = db.exec(select(Visit.person_id)).all()
    assert stored == [world.people["mine"].id]
