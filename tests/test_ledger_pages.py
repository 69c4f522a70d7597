"""Her ledger at a glance: a summary of where she stands, links to its parts, and the
timeline a page of visits at a time, newest first, with nothing lost between pages."""

import re
from datetime import timedelta

from sqlmodel import select

from app.models import AuditEvent, StatusChange
from app.people.ledger import TIMELINE_PAGE
from tests.factories import save_visit, visit_data
from tests.people_world import TODAY


def notes_on(html: str) -> list[str]:
    """The notes of the visits on the page, top to bottom."""
    return re.findall(r"第(\d+)次回访", html)


def test_the_summary_says_where_she_stands_and_links_to_each_part(client, auth, world, db):
    mine = world.people["mine"]
    auth.login("officer1")
    html = client.get(f"/people/{mine.id}").text
    summary = html[html.index('id="summary"') : html.index("</dl>", html.index('id="summary"'))]
    # released 30 days ago under the default cadence: her first phase, every 14 days
    assert "出所第 0–89 天" in summary
    assert "每 14 天" in summary
    assert "签署于" in summary
    for anchor in ("#plan", "#consent", "#timeline"):
        assert f'href="{anchor}"' in html


def test_a_long_ledger_comes_a_page_at_a_time_with_every_entry_once(
    client, auth, world, db, count_queries
):
    mine, officer = world.people["mine"], world.users["officer"]
    total = TIMELINE_PAGE * 2 + 5
    for n in range(total):
        day = TODAY - timedelta(days=total - n)
        save_visit(db, officer, visit_data(mine, occurred_at=f"{day}T10:30", notes=f"第{n}次回访"))
    # a status change among the older visits shows on the page whose span holds it
    paused_on = TODAY - timedelta(days=total - 2)  # between the 3rd and the 4th visit
    db.add(
        StatusChange(
            person_id=mine.id,
            author_id=officer.id,
            from_status="active",
            to_status="paused",
            effective_on=paused_on,
            note="住院",
        )
    )
    db.commit()
    auth.login("officer1")
    pages = [client.get(f"/people/{mine.id}?page={n}").text for n in (1, 2, 3)]
    seen = [int(n) for page in pages for n in notes_on(page)]
    assert seen == list(range(total - 1, -1, -1))  # newest first, each once
    assert [len(notes_on(page)) for page in pages] == [TIMELINE_PAGE, TIMELINE_PAGE, 5]
    assert "第 1 页，共 3 页" in pages[0]
    assert ["住院" in page for page in pages] == [False, False, True]
    assert "较早的记录" in pages[0] and "较新的记录" not in pages[0]
    assert "较新的记录" in pages[2] and "较早的记录" not in pages[2]
    # a page past the end is the last one; a later page's read is audited with its number
    assert notes_on(client.get(f"/people/{mine.id}?page=9").text) == notes_on(pages[2])
    views = db.exec(select(AuditEvent).where(AuditEvent.action == "person_view")).all()
    assert {event.details.get("page") for event in views} >= {2, 3}
    # the first page costs the same queries whatever the length of her ledger
    with count_queries() as statements:
        client.get(f"/people/{mine.id}")
    long_ledger = len(statements)
    other = world.people["colleague"]
    auth.logout()
    auth.login("officer2")
    with count_queries() as statements:
        client.get(f"/people/{other.id}")
    assert len(statements) == long_ledger
