from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlmodel import SQLModel

from app.demo import load_demo

# a busy machine slows Chromium and the live server down: give a state 20 s to show before
# calling it missing, not Playwright's 5 (a state that shows sooner ends the wait sooner)
expect.set_options(timeout=20_000)

# the demo's rows, table by table, by database and by the day it was loaded for
_DEMO_ROWS: dict[tuple[str, object], dict[str, list[dict]]] = {}


@pytest.fixture
def demo(app, db):
    """The demo unit loaded into the test database; the session to query it with.

    Loaded once a day per process (its dates count from today at the studio); a later
    test gets the same rows written back, which costs a tenth of loading it anew.
    """
    engine = app.extensions["clover_engine"]
    day = datetime.now(ZoneInfo(app.config["CLOVER_TIMEZONE"])).date()
    key = (app.config["DATABASE_URL"], day)
    tables = SQLModel.metadata.sorted_tables  # parents first
    if key in _DEMO_ROWS:
        with engine.begin() as connection:
            for table in tables:
                if rows := _DEMO_ROWS[key][table.name]:
                    connection.execute(table.insert(), rows)
        return db
    load_demo(db, environment="development")
    with engine.connect() as connection:
        _DEMO_ROWS[key] = {
            table.name: [dict(row) for row in connection.execute(table.select()).mappings()]
            for table in tables
        }
    return db
