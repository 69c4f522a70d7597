"""Group sessions under racing writers: one correction of a version wins, one create is
stored once. Real races need PostgreSQL (`TEST_DATABASE_URL`); SQLite serialises the
writers, and the answers must be the same there."""

import uuid
from datetime import datetime, timedelta

from app.models import GroupSession, GroupSessionVersion, SyncConflict, Visit
from tests.group_world import create_group_item, edit_group_item, group_data
from tests.people_world import ZONE
from tests.race import ROUNDS, WRITERS, Writers, report, sole_winner, where
from tests.sync_world import count, fresh


def _database(app) -> str:
    return "sqlite" if app.config["DATABASE_URL"].startswith("sqlite") else "postgresql"


def _recent() -> str:
    return (datetime.now(ZONE) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def test_racing_group_corrections_keep_one_and_nineteen_conflicts(app, db, live_server, world):
    phones = Writers(live_server, "officer1")
    created = create_group_item([world.people["mine"]], occurred_at=_recent())
    assert phones.push_one(created)["status"] == "created"
    group_id = uuid.UUID(created["record_id"])
    for round_ in range(ROUNDS):
        base = fresh(db, GroupSession, group_id).version
        versions_before = count(db, GroupSessionVersion)
        conflicts_before = count(db, SyncConflict, SyncConflict.record_id == group_id)
        sent = [
            edit_group_item(
                created, base, topic=f"第{round_ + 1}轮第{n + 1}台手机", duration_minutes=str(n + 1)
            )
            for n in range(WRITERS)
        ]
        results = phones.push(lambda n, sent=sent: sent[n])
        labels = [r["status"] for r in results]
        report("sync group.edit", round_, labels, _database(app))
        winner = sole_winner(labels, "edited", "conflict")

        group = fresh(db, GroupSession, group_id)
        assert group.version == base + 1 and group.topic == sent[winner]["data"]["topic"]
        assert count(db, GroupSessionVersion) == versions_before + 1
        assert count(db, SyncConflict, SyncConflict.record_id == group_id) == (
            conflicts_before + WRITERS - 1
        )
        # her visit follows the winner, and only the winner
        [visit] = db.exec(Visit.__table__.select().where(Visit.group_session_id == group_id))
        assert visit.duration_minutes == winner + 1
        for n, result in enumerate(results):
            if n != winner:
                assert result["server"]["topic"] == group.topic


def test_the_same_group_sent_at_once_is_stored_once(app, db, live_server, world):
    phones = Writers(live_server, "officer1")
    for round_ in range(ROUNDS):
        item = create_group_item([world.people["mine"]], occurred_at=_recent())
        results = phones.push(lambda n, item=item: item)
        labels = [r["status"] for r in results]
        report("sync group.create", round_, labels, _database(app))
        sole_winner(labels, "created", "duplicate")
        group_id = uuid.UUID(item["record_id"])
        assert count(db, GroupSession, GroupSession.id == group_id) == 1
        assert count(db, Visit, Visit.group_session_id == group_id) == 1


def test_the_same_group_form_posted_at_once_is_stored_once(app, db, live_server, world):
    officers = Writers(live_server, "officer1")
    for round_ in range(ROUNDS):
        form = group_data([world.people["mine"]], occurred_at=_recent())
        answers = officers.post_forms("/groups/new", lambda n, form=form: form)
        report("form group.new", round_, [str(a.status_code) for a in answers], _database(app))
        assert [a.status_code for a in answers] == [302] * WRITERS
        assert {where(a) for a in answers} == {f"/groups/{form['id']}"}
        group_id = uuid.UUID(form["id"])
        assert count(db, GroupSession, GroupSession.id == group_id) == 1
        assert count(db, Visit, Visit.group_session_id == group_id) == 1
