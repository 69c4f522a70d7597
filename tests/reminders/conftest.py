"""Fixtures for reminders: the stand-ins, people who are due, a sender (VAPID keys and the
app with them: tests/conftest.py)."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from sqlmodel import Session

from app.models import Person, PushSubscription, SupportPlan
from app.reminders.channels import build_channels
from app.reminders.sending import send_reminders
from tests.conftest import SUBJECT
from tests.reminders.standins import PushServiceStandIn, SmsGatewayStandIn

# 08:00 in Chongqing (UTC+8) on 3 March 2026
CHONGQING_EIGHT = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
TODAY = date(2026, 3, 3)


@pytest.fixture
def push_service(vapid_keys):
    service = PushServiceStandIn(vapid_public_key=vapid_keys[1], subject=SUBJECT)
    yield service
    service.close()
    assert service.errors == [], "the push service refused what was sent"


@pytest.fixture
def sms_gateway():
    gateway = SmsGatewayStandIn()
    yield gateway
    gateway.close()


@pytest.fixture
def sender(push_app, db):
    """Run the sender as `flask reminders send` would at `now`; pauses are recorded, not slept."""
    pauses: list[float] = []

    def send(now: datetime, session=None):
        with push_app.app_context(), requests.Session() as http:
            channels = build_channels(push_app.config, http)
            return send_reminders(
                session or db,
                now=now,
                lease=push_app.config["CLOVER_REMINDER_LEASE"],
                channels=channels,
                sleep=pauses.append,
            )

    send.pauses = pauses
    return send


@pytest.fixture
def subscribe(db, push_service):
    """A browser subscription of the push service stand-in, saved for a user."""

    def make(user):
        browser = push_service.subscribe()
        keys = browser.as_json()["keys"]
        db.add(
            PushSubscription(
                user_id=user.id,
                endpoint=browser.endpoint,
                p256dh=keys["p256dh"],
                auth=keys["auth"],
                label="Android · Chrome",
            )
        )
        db.commit()
        return browser

    return make


@pytest.fixture
def due_person(db):
    """A person in the officer's caseload whose first contact is due `due_in` days from `today`."""
    counter = iter(range(1000))

    def make(officer, *, due_in: int = 0, today: date = TODAY, home_visit: bool = False):
        person = Person(
            unit_id=officer.unit_id,
            name=f"张晓梅{next(counter)}",
            address="重庆市渝中区解放碑街道民族路 8 号",
            status="active",
            release_date=today + timedelta(days=due_in - 7),
            assigned_officer_id=officer.id,
        )
        db.add(person)
        db.flush()
        kinds = ["home_visit", "phone_consultation"] if home_visit else ["phone_consultation"]
        db.add(SupportPlan(person_id=person.id, contact_kinds=kinds, author_id=officer.id))
        db.commit()
        return person

    return make


def senders_at_once(app, sender, at: datetime, *, count: int = 2) -> list:
    """`count` senders run at `at` in threads at once, each in its own session: what each
    returned (none may raise)."""
    results, failures = [], []

    def run():
        with Session(app.extensions["clover_engine"], expire_on_commit=False) as session:
            try:
                results.append(sender(at, session=session))
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return results
