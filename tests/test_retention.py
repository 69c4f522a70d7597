"""Retention (PIPL): a closed person is anonymised after her unit's retention period."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app import audit
from app.models import (
    AuditEvent,
    Consent,
    Person,
    StatusChange,
    SupportPlan,
    Visit,
    VisitVersion,
)
from app.retention import ANONYMISED
from app.types import utcnow


def close(db, world, key: str, *, years_ago: int) -> Person:
    """Close her ledger `years_ago` years ago, with a visit and a corrected version of it."""
    person = world.people[key]
    officer, supervisor = world.users["officer"], world.users["supervisor"]
    closed_on = utcnow().date() - timedelta(days=365 * years_ago + 3)
    visit = Visit(
        id=uuid.uuid4(),
        person_id=person.id,
        author_id=officer.id,
        kind="home_visit",
        occurred_at=datetime.now(UTC) - timedelta(days=365 * years_ago + 30),
        notes="她说住在南岸区的姐姐家",
        agreed_actions="下周去社区医院",
    )
    db.add(visit)
    db.flush()
    db.add(
        VisitVersion(
            visit_id=visit.id,
            version=1,
            content={"notes": "初稿：她姐姐的电话 13700000000", "kind": "home_visit"},
            author_id=officer.id,
            saved_at=visit.occurred_at,
        )
    )
    db.add(
        StatusChange(
            person_id=person.id,
            from_status=person.status,
            to_status="closed",
            reason="completed",
            note="帮扶期满",
            effective_on=closed_on,
            author_id=supervisor.id,
        )
    )
    person.status = "closed"
    db.add(person)
    audit.record(db, user=officer, action="person_view", person=person, details={"page": "x"})
    audit.record(
        db, user=officer, action="person_contact", person=person, details={"phone": "13812345678"}
    )
    db.commit()
    return person


def test_dry_run_reports_and_the_run_anonymises_only_those_past_retention(db, runner, world):
    old = close(db, world, "mine", years_ago=11)
    recent = close(db, world, "colleague", years_ago=2)
    before = len(db.exec(select(AuditEvent)).all())

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would anonymise {old.id}" in dry.output and str(recent.id) not in dry.output
    assert "张晓梅" not in dry.output  # a report names nobody
    db.rollback()
    assert db.get(Person, old.id).name == "张晓梅"
    assert len(db.exec(select(AuditEvent)).all()) == before

    run = runner.invoke(args=["retention", "run"])
    assert run.exit_code == 0, run.output
    assert f"anonymised {old.id}" in run.output and "1 people anonymised" in run.output
    db.rollback()
    person = db.get(Person, old.id)
    assert person.name == ANONYMISED
    assert (person.phone, person.address, person.id_number_encrypted) == (None, None, None)
    assert person.emergency_contacts == [] and person.search_keys == ""
    visit = db.exec(select(Visit).where(Visit.person_id == old.id)).one()
    assert visit.notes == "" and visit.agreed_actions == "" and visit.kind == "home_visit"
    version = db.exec(select(VisitVersion).where(VisitVersion.visit_id == visit.id)).one()
    assert version.content == {"notes": "", "agreed_actions": "", "kind": "home_visit"}
    assert all(
        p.goals == "" for p in db.exec(select(SupportPlan).where(SupportPlan.person_id == old.id))
    )
    consent = db.exec(select(Consent).where(Consent.person_id == old.id)).one()
    assert consent.preferred_contact_times == ""
    assert db.get(Person, recent.id).name == "李红"

    # her audit rows are kept, their details scrubbed, and the run says it did so
    rows = db.exec(select(AuditEvent).where(AuditEvent.person_id == old.id)).all()
    (done,) = [row for row in rows if row.action == audit.RETENTION_ACTION]
    assert done.user_id is None and done.details["audit_rows_scrubbed"] == 2
    scrubbed = [row for row in rows if row.action in ("person_view", "person_contact")]
    assert len(scrubbed) == 2
    assert all(set(row.details) == {audit.REDACTED} for row in scrubbed)
    assert "13812345678" not in str([row.details for row in rows])
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "(2 scrubbed by retention)" in verify.output

    again = runner.invoke(args=["retention", "run"])
    assert "nobody is due for anonymising" in again.output


def test_a_scrubbed_row_not_vouched_for_by_retention_fails_verify(db, runner, world):
    event = audit.record(db, user=world.users["officer"], action="person_view", details={"a": 1})
    db.commit()
    forged = {
        audit.REDACTED: {"digest": audit.details_digest(event.details), "by": str(uuid.uuid4())}
    }
    with audit.retention_window(db):
        event.details = forged
        db.add(event)
    db.commit()
    answer = runner.invoke(args=["audit", "verify"])
    assert (
        answer.exit_code == 1 and f"row {event.id} (seq {event.seq}) was altered" in answer.output
    )
