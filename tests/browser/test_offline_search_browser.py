"""With no connection, the people search runs on the phone over her kept list, and finds
who the server would find, in the same order: by name, pinyin initials and phone."""

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.models import User
from app.people.listing import PeopleFilter, people_page
from tests.browser.offline import sign_in, wait_until_saved

pytestmark = pytest.mark.browser


def server_finds(db, user: User, q: str) -> list[str]:
    """The names the server's search lists for her, in its order."""
    rows, _total = people_page(session=db, user=user, filters=PeopleFilter(q=q), page_size=1000)
    return [row[0].name for row in rows]


def test_the_search_offline_finds_what_the_server_finds(app, page, context, live_server, demo):
    app.config["PEOPLE_PAGE_SIZE"] = 4  # her list on several pages, each kept on the phone
    officer = demo.exec(select(User).where(User.username == "officer1")).one()
    rows, total = people_page(session=demo, user=officer, filters=PeopleFilter(), page_size=1000)
    someone = rows[len(rows) // 2][0]
    initials = min((key for key in someone.search_keys.split() if key.isascii()), key=len)
    queries = [
        someone.name,
        initials,  # pinyin initials, as the server keeps them
        someone.name[0],  # her surname: several people
        someone.phone[-4:],  # the last digits of her phone
        "qqq",  # nobody
    ]
    sign_in(page, live_server, "officer1")
    wait_until_saved(page)

    context.set_offline(True)
    page.goto(f"{live_server}/people/")
    expect(page.get_by_role("heading", name="帮扶对象", level=1)).to_be_visible()
    names = page.locator("#people-results li.person-row .name")
    for q in queries:
        expected = server_finds(demo, officer, q)
        page.get_by_label("搜索").fill(q)
        expect(page.locator("#people-count")).to_have_text(f"本机找到 {len(expected)} 人")
        assert names.all_inner_texts() == expected, q
    # cleared, everyone on her list again: every page of it, not only the first
    assert total > 4
    page.get_by_label("搜索").fill("")
    expect(names).to_have_count(total)
