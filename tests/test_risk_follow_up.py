"""A self-harm or relapse flag reaches her case officer: first on Today, due within the
unit's risk hours, shown at the top of her ledger, until a completed contact follows."""

import re
from datetime import timedelta

from app.due import check_due
from tests.conftest import AuthActions
from tests.factories import save_visit, visit_data
from tests.people_world import TODAY, reload
from tests.test_peer_helper import log_talk


def at(days_ago: int) -> str:
    return f"{TODAY - timedelta(days=days_ago)}T10:30"


def sections(html: str) -> list[str]:
    """The ids of Today's due sections, top to bottom."""
    return re.findall(r'<section class="card[^"]*" id="(\w+)"', html)


def section(html: str, name: str) -> str:
    start = html.index(f'id="{name}"')
    return html[start : html.index("</section>", start)]


def test_a_flagged_contact_puts_her_first_on_today_until_a_contact_follows(client, auth, world, db):
    officer, mine = world.users["officer"], world.people["mine"]
    world.add("calm", "王小红", officer="officer", phone="13700002222")
    # 王小红 was last met long ago: overdue, but no risk
    save_visit(db, officer, visit_data(world.people["calm"], occurred_at=at(60)))
    save_visit(db, officer, visit_data(mine, occurred_at=at(1), risk_flags=["self_harm"]))
    person = reload(db, mine)
    assert (person.due_reason, person.next_due_on) == ("risk", TODAY + timedelta(days=1))

    auth.login("officer1")
    today = client.get("/").text
    assert sections(today)[0] == "risk"
    assert "张晓梅" in section(today, "risk") and "需要您马上跟进" in today
    assert "王小红" in section(today, "overdue") and "王小红" not in section(today, "risk")
    ledger = client.get(f"/people/{mine.id}").text
    assert "未解除的风险" in section_text(ledger, "open-risk")
    assert "自伤风险" in section_text(ledger, "open-risk")

    # a failed attempt is no contact: the risk stays
    db.rollback()  # past the snapshot the pages' audit rows were written after
    save_visit(
        db,
        officer,
        visit_data(mine, kind="attempt", occurred_at=at(0), failure_reason="no_answer"),
    )
    assert reload(db, mine).due_reason == "risk"
    # a completed contact clears it; her rhythm takes over again
    save_visit(db, officer, visit_data(mine, kind="phone_consultation", occurred_at=at(0)))
    person = reload(db, mine)
    assert person.due_reason != "risk" and person.next_due_on > TODAY
    assert "risk" not in sections(client.get("/").text)
    assert 'id="open-risk"' not in client.get(f"/people/{mine.id}").text
    assert check_due(db, today=TODAY).differences == []


def test_a_relapse_flag_from_her_peer_helper_reaches_her_case_officer(app, client, auth, world, db):
    mine = world.people["mine"]
    auth.login("helper1")
    assert log_talk(client, mine, "聊到最近又想用药").status_code == 302
    # the talk carried no flag: her rhythm only
    assert reload(db, mine).due_reason != "risk"
    talk = visit_data(mine, kind="talk", occurred_at=at(0), risk_flags=["relapse_signs"])
    save_visit(db, world.users["helper"], talk)
    assert reload(db, mine).due_reason == "risk"

    officer = app.test_client()
    AuthActions(officer).login("officer1")
    today = officer.get("/").text
    assert "张晓梅" in section(today, "risk") and "风险跟进" in section(today, "risk")
    assert "复吸迹象" in section_text(officer.get(f"/people/{mine.id}").text, "open-risk")


def test_the_units_risk_hours_set_how_soon_and_english_says_so(client, auth, world, db):
    world.unit.risk_follow_up_hours = 96
    officer = world.users["officer"]
    officer.locale = "en"
    db.add_all([world.unit, officer])
    db.commit()
    mine = world.people["mine"]
    save_visit(db, officer, visit_data(mine, occurred_at=at(0), risk_flags=["self_harm"]))
    person = reload(db, mine)
    assert (person.due_reason, person.next_due_on) == ("risk", TODAY + timedelta(days=4))
    auth.login("officer1")
    today = client.get("/").text
    assert "Needs you now" in today and "Risk follow-up" in section(today, "risk")
    ledger = client.get(f"/people/{mine.id}").text
    assert "Open risk" in section_text(ledger, "open-risk")


def section_text(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</p>", start)]
