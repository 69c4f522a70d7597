"""Twenty writers on one base version, released together: one wins, nineteen are told why not.

For every versioned write a phone or a form can make, each round gives 20 writers the
same base version and a different value each. Exactly one is told her change was saved,
and the database holds her value; every other is told of the conflict (a kept
`SyncConflict`, or the form answered 409), and the version moves by exactly one. Real
races need PostgreSQL (`TEST_DATABASE_URL`); SQLite serialises the writers, and the
answers must be the same there.
"""

import uuid
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from app.models import (
    Assignment,
    Consent,
    Person,
    StatusChange,
    SupportPlan,
    SyncConflict,
    Visit,
    VisitVersion,
)
from app.people.validation import STATUS_TARGETS
from tests.people_world import TODAY, ZONE
from tests.race import ROUNDS, WRITERS, Writers, answer_label, report, sole_winner, where
from tests.sync_world import contact_item, count, create_item, edit_item, fresh


def _database(app) -> str:
    return "sqlite" if app.config["DATABASE_URL"].startswith("sqlite") else "postgresql"


def _person(db, world) -> Person:
    return fresh(db, Person, world.people["mine"].id)


def _conflicts(db, person: Person) -> list[SyncConflict]:
    db.commit()
    return list(db.exec(select(SyncConflict).where(SyncConflict.person_id == person.id)))


def _phone(round_: int, n: int) -> str:
    return f"1380000{round_:02d}{n:02d}"


def _recent() -> str:
    """A moment an hour ago in her unit's time, as the visit form writes it."""
    return (datetime.now(ZONE) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


# sync push: the loser's change is kept whole as a conflict


def test_racing_contact_corrections_from_phones_keep_one_and_nineteen_conflicts(
    app, db, live_server, world
):
    phones = Writers(live_server, "officer1")
    for round_ in range(ROUNDS):
        person = _person(db, world)
        base, kept_before = person.version, {c.id for c in _conflicts(db, person)}
        sent = [contact_item(person, base, phone=_phone(round_, n)) for n in range(WRITERS)]
        results = phones.push(lambda n, sent=sent: sent[n])
        labels = [r["status"] for r in results]
        report("sync person.contact", round_, labels, _database(app))
        winner = sole_winner(labels, "edited", "conflict")

        person = _person(db, world)
        assert person.version == base + 1
        assert person.phone == sent[winner]["data"]["phone"]
        # the winner is told the version she made; every loser, what the server now holds
        assert results[winner]["version"] == base + 1
        losers = [r for n, r in enumerate(results) if n != winner]
        assert {(r["server"]["phone"], r["server"]["version"]) for r in losers} == {
            (person.phone, base + 1)
        }
        kept = {c.id: c for c in _conflicts(db, person) if c.id not in kept_before}
        assert {uuid.UUID(r["conflict_id"]) for r in losers} == set(kept)
        assert sorted(c.incoming["phone"] for c in kept.values()) == sorted(
            item["data"]["phone"] for n, item in enumerate(sent) if n != winner
        )
        assert all(c.base_version == base for c in kept.values())


def test_racing_visit_corrections_from_phones_keep_one_and_nineteen_conflicts(
    app, db, live_server, world
):
    phones = Writers(live_server, "officer1")
    created = create_item(world.people["mine"], occurred_at=_recent())
    assert phones.push_one(created)["status"] == "created"
    visit_id = uuid.UUID(created["id"])
    for round_ in range(ROUNDS):
        base = fresh(db, Visit, visit_id).version
        versions_before = count(db, VisitVersion, VisitVersion.visit_id == visit_id)
        conflicts_before = count(db, SyncConflict, SyncConflict.record_id == visit_id)
        sent = [
            edit_item(created, base, notes=f"第{round_ + 1}轮第{n + 1}台手机的更正")
            for n in range(WRITERS)
        ]
        results = phones.push(lambda n, sent=sent: sent[n])
        labels = [r["status"] for r in results]
        report("sync visit.edit", round_, labels, _database(app))
        winner = sole_winner(labels, "edited", "conflict")

        visit = fresh(db, Visit, visit_id)
        assert visit.version == base + 1
        assert visit.notes == sent[winner]["data"]["notes"]
        assert count(db, VisitVersion, VisitVersion.visit_id == visit_id) == versions_before + 1
        assert count(db, SyncConflict, SyncConflict.record_id == visit_id) == (
            conflicts_before + WRITERS - 1
        )
        assert [r["version"] for r in results] == [base + 1] * WRITERS
        for n, result in enumerate(results):
            if n != winner:
                assert result["server"]["notes"] == visit.notes
                conflict = fresh(db, SyncConflict, uuid.UUID(result["conflict_id"]))
                assert conflict.incoming["notes"] == sent[n]["data"]["notes"]


# forms: the winner is redirected to the ledger, every other sees the conflict


def test_racing_contact_forms_save_one_and_send_nineteen_to_their_conflict(
    app, db, live_server, world
):
    officers = Writers(live_server, "supervisor")
    person_id = world.people["mine"].id
    for round_ in range(ROUNDS):
        base = officers.opened(f"/people/{person_id}/contact", "base_version")
        assert base == _person(db, world).version
        forms = [
            {
                "phone": _phone(round_, n),
                "address": f"渝中区第{round_ + 1}轮{n + 1}号",
                "item_id": str(uuid.uuid4()),
                "base_version": str(base),
            }
            for n in range(WRITERS)
        ]
        answers = officers.post_forms(f"/people/{person_id}/contact", lambda n, f=forms: f[n])
        labels = [answer_label(a) for a in answers]
        report("contact form", round_, labels, _database(app))
        winner = sole_winner(labels, "302 to people", "302 to conflict")
        assert where(answers[winner]) == f"/people/{person_id}"

        person = _person(db, world)
        assert person.version == base + 1
        assert (person.phone, person.address) == (
            forms[winner]["phone"],
            forms[winner]["address"],
        )
        for n, answer in enumerate(answers):
            if n != winner:
                conflict_id = uuid.UUID(where(answer).rsplit("/", 1)[1])
                conflict = fresh(db, SyncConflict, conflict_id)
                assert conflict.person_id == person_id and conflict.base_version == base
                assert conflict.incoming["phone"] == forms[n]["phone"]
        # the page a loser lands on shows her value beside the saved one
        loser = next(n for n in range(WRITERS) if n != winner)
        page = officers.sessions[loser].get(f"{live_server}{where(answers[loser])}", timeout=60)
        assert page.status_code == 200
        assert forms[loser]["phone"] in page.text and person.phone in page.text


def _person_form(person: Person, **changes) -> dict:
    """The edit form as it opens on her record (as `people.manage_views._fill` fills it)."""
    form = {
        name: getattr(person, name) or ""
        for name in ("name", "phone", "address", "facility", "support_path", "risk_level")
    }
    for name in ("date_of_birth", "admission_date", "release_date"):
        value = getattr(person, name)
        form[name] = value.isoformat() if value else ""
    contact = person.emergency_contacts[0] if person.emergency_contacts else {}
    form.update(
        contact_name=contact.get("name", ""),
        contact_relation=contact.get("relation", ""),
        contact_phone=contact.get("phone") or "",
        id_number="",
        version=str(person.version),
    )
    return {**form, **changes}


def test_racing_person_edit_forms_save_one_and_answer_nineteen_409(app, db, live_server, world):
    supervisors = Writers(live_server, "supervisor")
    person_id = world.people["mine"].id
    for round_ in range(ROUNDS):
        person = _person(db, world)
        base = supervisors.opened(f"/people/{person_id}/edit", "version")
        assert base == person.version
        forms = [_person_form(person, phone=_phone(round_, n)) for n in range(WRITERS)]
        answers = supervisors.post_forms(f"/people/{person_id}/edit", lambda n, f=forms: f[n])
        labels = [answer_label(a) for a in answers]
        report("person edit form", round_, labels, _database(app))
        winner = sole_winner(labels, "302 to people", "409")

        person = _person(db, world)
        assert person.version == base + 1
        assert person.phone == forms[winner]["phone"]
        # each loser's typed value stays on her form, beside the saved one
        for n, answer in enumerate(answers):
            if n != winner:
                assert forms[n]["phone"] in answer.text and person.phone in answer.text


def test_racing_visit_edit_forms_save_one_and_answer_nineteen_409(app, db, live_server, world):
    supervisors = Writers(live_server, "supervisor")
    created = create_item(world.people["mine"], occurred_at=_recent())
    assert supervisors.push_one(created)["status"] == "created"
    visit_id = uuid.UUID(created["id"])
    form = {k: v for k, v in created["data"].items() if k != "person_id"}
    for round_ in range(ROUNDS):
        base = supervisors.opened(f"/visits/{visit_id}/edit", "base_version")
        assert base == fresh(db, Visit, visit_id).version
        versions_before = count(db, VisitVersion, VisitVersion.visit_id == visit_id)
        forms = [
            {**form, "notes": f"第{round_ + 1}轮第{n + 1}位的更正", "base_version": str(base)}
            for n in range(WRITERS)
        ]
        answers = supervisors.post_forms(f"/visits/{visit_id}/edit", lambda n, f=forms: f[n])
        labels = [answer_label(a) for a in answers]
        report("visit edit form", round_, labels, _database(app))
        winner = sole_winner(labels, "302 to people", "409")

        visit = fresh(db, Visit, visit_id)
        assert visit.version == base + 1
        assert visit.notes == forms[winner]["notes"]
        assert count(db, VisitVersion, VisitVersion.visit_id == visit_id) == versions_before + 1
        for n, answer in enumerate(answers):
            if n != winner:
                assert forms[n]["notes"] in answer.text and visit.notes in answer.text


def _versions(db, model, person_id) -> list:
    db.commit()
    return list(db.exec(select(model).where(model.person_id == person_id).order_by(model.version)))


def _plan(round_: int, n: int) -> dict:
    return {
        "goals": f"第{round_ + 1}轮第{n + 1}位写的目标",
        "contact_kinds": ["home_visit"],
        "every_days_0": str(7 + n),
    }


def _consent(round_: int, n: int) -> dict:
    return {
        "signed_on": TODAY.isoformat(),
        "consents": ["follow_up_visits", "phone_contact"],
        "help_requested": ["work"],
        "preferred_contact_times": f"第{round_ + 1}轮第{n + 1}位记下的时间",
    }


@pytest.mark.parametrize(
    ("page", "model", "fill", "typed"),
    [
        ("plan", SupportPlan, _plan, "goals"),
        ("consent", Consent, _consent, "preferred_contact_times"),
    ],
)
def test_racing_versioned_record_forms_save_one_version_and_answer_nineteen_409(
    app, db, live_server, world, page, model, fill, typed
):
    supervisors = Writers(live_server, "supervisor")
    person_id = world.people["mine"].id
    for round_ in range(ROUNDS):
        saved_before = _versions(db, model, person_id)
        base, person_base = saved_before[-1].version, _person(db, world).version
        assert supervisors.opened(f"/people/{person_id}/{page}", "base_version") == base
        forms = [
            {**fill(round_, n), "record_id": str(uuid.uuid4()), "base_version": str(base)}
            for n in range(WRITERS)
        ]
        answers = supervisors.post_forms(f"/people/{person_id}/{page}", lambda n, f=forms: f[n])
        labels = [answer_label(a) for a in answers]
        report(f"{page} form", round_, labels, _database(app))
        winner = sole_winner(labels, "302 to people", "409")

        saved = _versions(db, model, person_id)
        assert [r.version for r in saved] == [r.version for r in saved_before] + [base + 1]
        assert saved[-1].id == uuid.UUID(forms[winner]["record_id"])
        assert getattr(saved[-1], typed) == forms[winner][typed]
        assert _person(db, world).version == person_base + 1
        for n, answer in enumerate(answers):
            if n != winner:
                assert forms[n][typed] in answer.text
                assert forms[winner][typed] in answer.text


def test_racing_assignments_keep_one_history_row_and_answer_nineteen_409(
    app, db, live_server, world, make_user
):
    # each round, two writers hand her to each of ten officers, with a reason of their own:
    # a loser who chose the winner's officer is still told of the conflict
    officers = [world.users["officer"], world.users["other_officer"]] + [
        make_user(f"racer{n}") for n in range(WRITERS // 2 - 1)
    ]
    supervisors = Writers(live_server, "supervisor")
    person_id = world.people["mine"].id
    for round_ in range(ROUNDS):
        person = _person(db, world)
        base, helper = person.version, str(person.peer_helper_id or "")
        assert supervisors.opened(f"/people/{person_id}/assign", "version") == base
        rows_before = {r.id for r in _assignments(db, person_id)}
        others = [o for o in officers if o.id != person.assigned_officer_id]
        chosen = [others[n % (WRITERS // 2)] for n in range(WRITERS)]
        forms = [
            {
                "officer": str(officer.id),
                "peer_helper": helper,
                "reason": f"第{round_ + 1}轮第{n + 1}次改派",
                "version": str(base),
            }
            for n, officer in enumerate(chosen)
        ]
        answers = supervisors.post_forms(f"/people/{person_id}/assign", lambda n, f=forms: f[n])
        labels = [answer_label(a) for a in answers]
        report("assignment form", round_, labels, _database(app))
        winner = sole_winner(labels, "302 to people", "409")

        person = _person(db, world)
        assert person.version == base + 1
        assert person.assigned_officer_id == chosen[winner].id
        rows = _assignments(db, person_id)
        added = [r for r in rows if r.id not in rows_before]
        assert [(r.user_id, r.role, r.reason) for r in added] == [
            (chosen[winner].id, "officer", forms[winner]["reason"])
        ]
        open_officers = [r.user_id for r in rows if r.role == "officer" and r.ended_at is None]
        assert open_officers == [chosen[winner].id]
        for n, answer in enumerate(answers):
            if n != winner:
                assert forms[n]["reason"] in answer.text
                assert chosen[winner].display_name in answer.text


def _assignments(db, person_id) -> list[Assignment]:
    db.commit()
    return list(db.exec(select(Assignment).where(Assignment.person_id == person_id)))


def test_racing_status_changes_keep_one_and_answer_nineteen_409(app, db, live_server, world):
    supervisors = Writers(live_server, "supervisor")
    person_id = world.people["mine"].id
    for round_ in range(ROUNDS):
        person = _person(db, world)
        base, changes_before = person.version, {c.id for c in _status_changes(db, person_id)}
        assert supervisors.opened(f"/people/{person_id}/status", "version") == base
        targets = [s for s in STATUS_TARGETS if s not in (person.status, "closed")]
        forms = [
            {
                "to_status": targets[n % len(targets)],
                "note": f"第{round_ + 1}轮第{n + 1}位记下的原因",
                "effective_on": TODAY.isoformat(),
                "reason": "",
                "version": str(base),
            }
            for n in range(WRITERS)
        ]
        answers = supervisors.post_forms(f"/people/{person_id}/status", lambda n, f=forms: f[n])
        labels = [answer_label(a) for a in answers]
        report("status form", round_, labels, _database(app))
        winner = sole_winner(labels, "302 to people", "409")

        person = _person(db, world)
        assert person.version == base + 1
        assert person.status == forms[winner]["to_status"]
        added = [c for c in _status_changes(db, person_id) if c.id not in changes_before]
        assert [(c.to_status, c.note) for c in added] == [
            (forms[winner]["to_status"], forms[winner]["note"])
        ]
        for n, answer in enumerate(answers):
            if n != winner:
                assert forms[n]["note"] in answer.text


def _status_changes(db, person_id) -> list[StatusChange]:
    db.commit()
    return list(db.exec(select(StatusChange).where(StatusChange.person_id == person_id)))
