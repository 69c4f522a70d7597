"""A sender killed between the claim and the send: the next run after the lease sends it once."""

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from app.models import Reminder, ReminderDelivery
from app.reminders import sending
from app.reminders.messages import topic_for
from tests.reminders.conftest import CHONGQING_EIGHT, TODAY, senders_at_once

ROOT = Path(__file__).resolve().parents[2]
LEASE = timedelta(minutes=5)
# `flask reminders send --at` in a process of its own that SIGKILLs itself the moment the
# claim has committed, before anything is sent: a server losing power at the worst time
CRASHING_SENDER = """
import json, os, signal, sys
from app import create_app
from app.reminders import sending

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

sending.deliver = die
app = create_app(json.loads(os.environ["CRASH_CONFIG"]))
app.test_cli_runner().invoke(args=["reminders", "send", "--at", sys.argv[1]])
raise SystemExit("the sender was not killed")
"""


@pytest.fixture
def officer(make_user):
    return make_user("officer1", timezone="Asia/Chongqing")


@pytest.fixture
def crashed(push_app, officer, due_person, subscribe, db):
    """The morning digest claimed at 08:00 by a sender that died before sending it."""
    due_person(officer)
    browser = subscribe(officer)
    keys = ("DATABASE_URL", "CLOVER_VAPID_PRIVATE_KEY", "CLOVER_VAPID_PUBLIC_KEY")
    config = {"TESTING": True, **{key: push_app.config[key] for key in keys}}
    config["CLOVER_VAPID_SUBJECT"] = push_app.config["CLOVER_VAPID_SUBJECT"]
    process = subprocess.run(
        [sys.executable, "-c", CRASHING_SENDER, "2026-03-03T08:00+0800"],
        cwd=ROOT,
        env={
            **os.environ,
            "CRASH_CONFIG": json.dumps(config),
            "CLOVER_REMINDER_LEASE_SECONDS": str(int(LEASE.total_seconds())),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr
    db.expire_all()
    [claimed] = db.exec(select(Reminder)).all()
    assert claimed.status == "sending"
    assert claimed.lease_until == CHONGQING_EIGHT + LEASE
    return browser


def test_a_claim_whose_sender_died_is_sent_once_after_its_lease(crashed, push_service, sender, db):
    assert push_service.received == []
    assert sender(CHONGQING_EIGHT + LEASE - timedelta(seconds=1)) == {}  # still held
    assert push_service.received == []
    assert sender(CHONGQING_EIGHT + LEASE + timedelta(seconds=1)) == {("digest", "sent"): 1}
    assert sender(CHONGQING_EIGHT + 3 * LEASE) == {}
    [received] = push_service.received
    assert received.path == crashed.path
    assert received.payload["tag"] == "digest"
    db.expire_all()
    [reminder] = db.exec(select(Reminder)).all()
    assert reminder.status == "sent"
    assert received.headers["topic"] == topic_for(reminder)
    deliveries = db.exec(select(ReminderDelivery)).all()
    assert [d.outcome for d in deliveries] == ["delivered"]


def test_two_senders_after_the_lease_send_it_once(app, crashed, push_service, sender, monkeypatch):
    both_ready = threading.Barrier(2, timeout=30)
    claim_pending = sending.claim_pending

    def claim_together(*args, **kwargs):
        both_ready.wait()
        return claim_pending(*args, **kwargs)

    monkeypatch.setattr(sending, "claim_pending", claim_together)

    results = senders_at_once(app, sender, CHONGQING_EIGHT + 2 * LEASE)
    assert sorted(results, key=len) == [{}, {("digest", "sent"): 1}]
    assert len(push_service.received) == 1


def test_a_claim_with_a_delivery_recorded_is_not_sent_again(
    officer, due_person, subscribe, push_service, sender, db
):
    due_person(officer)
    subscribe(officer)
    reminder = Reminder(
        user_id=officer.id,
        kind="digest",
        day=TODAY,
        not_before=CHONGQING_EIGHT,
        lease_until=CHONGQING_EIGHT + LEASE,
    )
    db.add(reminder)
    db.flush()
    db.add(
        ReminderDelivery(
            reminder_id=reminder.id,
            channel="webpush",
            target=str(uuid.uuid4()),
            outcome="delivered",
        )
    )
    db.commit()
    assert sender(CHONGQING_EIGHT + 2 * LEASE) == {}
    assert push_service.received == []


def test_the_topic_names_the_reminder_in_32_url_safe_characters(officer):
    digest = Reminder(user_id=officer.id, kind="digest", day=TODAY)
    again = Reminder(user_id=officer.id, kind="digest", day=TODAY)
    tomorrow = Reminder(user_id=officer.id, kind="digest", day=TODAY + timedelta(days=1))
    alert = Reminder(user_id=officer.id, kind="alert", day=TODAY, ref=uuid.uuid4().hex)
    assert topic_for(digest) == topic_for(again)
    assert len({topic_for(r) for r in (digest, tomorrow, alert)}) == 3
    for reminder in (digest, alert):
        topic = topic_for(reminder)
        assert len(topic) == 32
        assert set(topic) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
