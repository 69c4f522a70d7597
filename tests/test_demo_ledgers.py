"""The demo's ledgers: valid encrypted ID numbers, consents, plans and assignment history."""

from collections import Counter

from sqlmodel import select

from app import idcard
from app.crypto import IdCipher
from app.demo import load_demo
from app.models import Assignment, Consent, Person, StatusChange, SupportPlan


def test_every_demo_person_has_a_full_ledger(app, db):
    load_demo(db, environment="development")
    cipher = IdCipher.from_config(app.config)
    people = db.exec(select(Person)).all()
    numbers = [cipher.decrypt(p.id_number_encrypted) for p in people]
    assert all(idcard.is_valid(n) and n.startswith("500") for n in numbers)
    assert all(
        idcard.birth_date(n) == p.date_of_birth for n, p in zip(numbers, people, strict=True)
    )
    assert all(int(n[16]) % 2 == 0 for n in numbers)  # women
    assert len({p.id_number_hash for p in people}) == 82
    assert all(p.id_number_hash == cipher.digest(n) for n, p in zip(numbers, people, strict=True))

    consents = db.exec(select(Consent)).all()
    assert Counter(c.person_id for c in consents) == Counter({p.id: 1 for p in people})
    withdrawn = [p for p in people if p.consent_withdrawn_at is not None]
    assert 2 <= len(withdrawn) <= 8 and all(p.next_due_on is None for p in withdrawn)
    plans = Counter(plan.person_id for plan in db.exec(select(SupportPlan)))
    assert set(plans) == {p.id for p in people} and max(plans.values()) == 2

    assert {p.status for p in people} >= {"relapse", "closed", "lost_contact", "paused"}
    open_people = [p for p in people if p.status not in ("closed", "paused")]
    assert all(p.next_due_on for p in open_people if p.consent_withdrawn_at is None)
    ended = db.exec(select(Assignment).where(Assignment.ended_at.is_not(None))).all()
    assert ended and all(a.role == "officer" for a in ended)
    current = db.exec(select(Assignment).where(Assignment.ended_at.is_(None))).all()
    assert {(a.person_id, a.user_id) for a in current if a.role == "officer"} == {
        (p.id, p.assigned_officer_id) for p in people
    }
    closing = db.exec(select(StatusChange).where(StatusChange.to_status == "closed")).all()
    assert len(closing) == 8 and all(c.reason for c in closing)
