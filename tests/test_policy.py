"""The policy module: who sees whom, and what a refusal reveals."""

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select
from werkzeug.exceptions import Forbidden, NotFound

from app.accounts import create_unit
from app.models import Consent, Person, Unit, User
from app.policy import Action, can, colleagues_scope, people_scope, require, units_scope


def consent(person, author, *, version=1, withdrawn=False, **consents):
    return Consent(
        person_id=person.id,
        version=version,
        signed_on=date(2026, 1, 5),
        consents={"follow_up_visits": True, **consents},
        taken_by_id=author.id,
        withdrawn_at=datetime(2026, 3, 1, tzinfo=UTC) if withdrawn else None,
    )


@pytest.fixture
def world(db, unit, make_user):
    """Two units; an officer, a peer helper and people with and without them.

    Of the women paired with the helper only 张晓梅 agrees to a peer's contact now.
    """
    other_unit = create_unit(db, name="另一个工作室")
    db.commit()
    users = {
        "admin": make_user("admin", role="admin"),
        "supervisor": make_user("supervisor", role="supervisor"),
        "other_supervisor": make_user("sup2", role="supervisor", unit_id=other_unit.id),
        "officer": make_user("officer1"),
        "other_officer": make_user("officer2"),
        "helper": make_user("helper1", role="peer_helper"),
        "director": make_user("director", role="director"),
    }

    def paired(name):
        return Person(
            unit_id=unit.id,
            name=name,
            assigned_officer_id=users["officer"].id,
            peer_helper_id=users["helper"].id,
        )

    people = {
        "mine": paired("张晓梅"),
        "declined": paired("赵敏"),
        "withdrawn": paired("孙丽"),
        "changed_mind": paired("周琳"),
        "no_application": paired("吴倩"),
        "colleague": Person(
            unit_id=unit.id, name="李红", assigned_officer_id=users["other_officer"].id
        ),
        "elsewhere": Person(unit_id=other_unit.id, name="王芳"),
    }
    db.add_all(people.values())
    db.flush()
    author = users["officer"]
    people["withdrawn"].consent_withdrawn_at = datetime(2026, 3, 1, tzinfo=UTC)
    db.add_all(
        [
            consent(people["mine"], author, peer_contact=True),
            consent(people["declined"], author, peer_contact=False),
            consent(people["withdrawn"], author, withdrawn=True, peer_contact=True),
            # the version in force no longer agrees; the first one did
            consent(people["changed_mind"], author, peer_contact=True),
            consent(people["changed_mind"], author, version=2),
            consent(people["colleague"], author, peer_contact=True),
        ]
    )
    db.commit()
    return users, people


PAIRED = {"mine", "declined", "withdrawn", "changed_mind", "no_application"}
VISIBLE = {
    "admin": PAIRED | {"colleague", "elsewhere"},
    "supervisor": PAIRED | {"colleague"},
    "other_supervisor": {"elsewhere"},
    "officer": PAIRED,
    "other_officer": {"colleague"},
    "helper": {"mine"},
    "director": set(),
}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_scope_and_can_agree_on_who_is_visible(db, world, who):
    users, people = world
    user = users[who]
    names_by_key = {person.name: key for key, person in people.items()}
    in_scope = {names_by_key[p.name] for p in db.exec(select(Person).where(people_scope(user)))}
    assert in_scope == VISIBLE[who]
    allowed = {key for key, person in people.items() if can(user, Action.person_view, person)}
    assert allowed == VISIBLE[who]


@pytest.mark.parametrize(
    ("who", "action", "allowed"),
    [
        ("admin", Action.user_manage, True),
        ("supervisor", Action.user_manage, False),
        ("officer", Action.unit_manage, False),
        ("supervisor", Action.person_create, True),
        ("officer", Action.person_create, False),
        ("helper", Action.person_create, False),
        ("supervisor", Action.report_view, True),
        ("officer", Action.report_view, False),
        ("director", Action.report_view, True),
        ("director", Action.city_view, True),
        ("supervisor", Action.city_view, False),
        ("director", Action.person_list, False),
        ("director", Action.user_view, False),
        ("director", Action.audit_view, False),
        ("supervisor", Action.personal_export, True),
        ("director", Action.personal_export, False),
        ("officer", Action.personal_export, False),
        ("helper", Action.personal_export, False),
        ("admin", Action.personal_export, False),
    ],
)
def test_role_actions(world, who, action, allowed):
    users, _ = world
    assert can(users[who], action) is allowed


def test_officer_may_record_only_for_her_people(world):
    users, people = world
    assert can(users["officer"], Action.visit_create, people["mine"])
    assert not can(users["officer"], Action.visit_create, people["colleague"])


def test_refusal_on_a_person_is_not_found_and_elsewhere_forbidden(world):
    users, people = world
    with pytest.raises(NotFound):
        require(users["officer"], Action.person_view, people["colleague"])
    with pytest.raises(Forbidden):
        require(users["officer"], Action.user_manage)


def test_deactivated_user_sees_nobody(db, world):
    users, people = world
    officer = users["officer"]
    officer.active = False
    assert not can(officer, Action.person_view, people["mine"])
    assert db.exec(select(Person).where(people_scope(officer))).all() == []


def test_anonymous_may_do_nothing(world):
    _, people = world
    assert not can(None, Action.person_view, people["mine"])


def test_officer_asking_for_someone_elses_ledger_gets_404(client, auth, world):
    _, people = world
    auth.login("officer1")
    response = client.get(f"/people/{people['colleague'].id}")
    assert response.status_code == 404
    assert "李红" not in response.text
    assert client.get(f"/people/{uuid.uuid4()}").status_code == 404
    assert "张晓梅" in client.get(f"/people/{people['mine'].id}").text


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("officer1", {"张晓梅"}, {"李红", "王芳"}),
        ("helper1", {"张晓梅"}, {"李红", "王芳"}),
        ("supervisor", {"张晓梅", "李红"}, {"王芳"}),
        ("admin", {"张晓梅", "李红", "王芳"}, set()),
    ],
)
def test_people_list_shows_only_the_users_people(client, auth, world, who, shown, hidden):
    auth.login(who)
    page = client.get("/people/").text
    assert all(name in page for name in shown)
    assert not any(name in page for name in hidden)


def test_viewing_a_ledger_is_audited(client, auth, world, db):
    from app.models import AuditEvent

    _, people = world
    auth.login("officer1")
    client.get(f"/people/{people['mine'].id}")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "person_view")).one()
    assert event.person_id == people["mine"].id
    assert event.user_agent is not None


def test_a_helpers_check_follows_her_consent_once_a_change_is_committed(db, world):
    users, people = world
    helper, person, officer = users["helper"], people["mine"], users["officer"]
    assert can(helper, Action.person_view, person)
    db.add(consent(person, officer, version=2))  # the new version leaves peer contact out
    db.commit()
    assert not can(helper, Action.person_view, person)
    assert not can(helper, Action.visit_create, person)
    db.add(consent(person, officer, version=3, peer_contact=True))
    db.commit()
    assert can(helper, Action.visit_create, person)
    # a person never stored has no application in force
    stranger = Person(unit_id=person.unit_id, name="新人", peer_helper_id=helper.id)
    assert not can(helper, Action.person_view, stranger)


@pytest.mark.parametrize("who", ["admin", "supervisor", "officer"])
def test_those_who_keep_her_ledger_read_the_officers_records(world, who):
    users, people = world
    assert can(users[who], Action.person_records, people["mine"])


def test_a_helper_is_refused_the_officers_records_of_a_woman_she_sees(world):
    users, people = world
    helper = users["helper"]
    assert can(helper, Action.person_view, people["mine"])
    assert not can(helper, Action.person_records, people["mine"])
    with pytest.raises(Forbidden):  # she may see her, so the refusal reveals nothing
        require(helper, Action.person_records, people["mine"])
    with pytest.raises(NotFound):
        require(helper, Action.person_records, people["declined"])


@pytest.mark.parametrize(
    ("who", "units"),
    [
        ("supervisor", {"测试工作室"}),
        ("other_supervisor", {"另一个工作室"}),
        ("director", {"测试工作室", "另一个工作室"}),
        ("admin", {"测试工作室", "另一个工作室"}),
        ("officer", set()),
        ("helper", set()),
    ],
)
def test_figures_scope_by_unit(db, world, who, units):
    users, _ = world
    query = select(Unit.name).where(units_scope(users[who], Unit.id))
    assert set(db.exec(query)) == units


def test_a_director_sees_no_colleague_by_name(db, world):
    users, _ = world
    assert list(db.exec(select(User).where(colleagues_scope(users["director"])))) == []
