import pytest

from app.demo import load_demo


@pytest.fixture
def demo(db):
    """The demo unit loaded into the test database; the session to query it with."""
    load_demo(db, environment="development")
    return db
