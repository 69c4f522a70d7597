"""A world for the access matrix: two units, every role, and records in and out of scope.

Each role gets the record of each kind she should reach (`home`) and the nearest one she
should not (`away`), as HOME and AWAY below name them.
"""

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from sqlmodel import func, select

from app.contract import commit
from app.models import (
    Assignment,
    Consent,
    DeviceKey,
    Person,
    PushSubscription,
    StatusChange,
    SupportPlan,
    SyncConflict,
    Unit,
    User,
    UserSession,
    Visit,
    VisitVersion,
)
from app.sync.push import push_items
from tests.conftest import AuthActions, csrf_from
from tests.group_world import create_group_item
from tests.people_world import TODAY, World
from tests.sync_world import create_item, edit_item

ROLES = ("anonymous", "helper", "officer", "other_officer", "supervisor", "admin")
# who signs in for each role of the matrix (None: nobody)
USERNAMES = {
    "anonymous": None,
    "helper": "helper1",
    "officer": "officer1",
    "other_officer": "officer9",
    "supervisor": "supervisor",
    "admin": "admin",
}
# for each role: a person, the author of a visit and a conflict, the holder of a device and
# a session, and a user. Home: hers to reach. Away: the nearest she must not reach (for a
# peer helper, a paired woman who did not agree to a peer's contact, and the officer's
# visit to the woman she is paired with); an admin reaches both.
HOME = {
    "anonymous": ("mine", "officer", "officer", "officer"),
    "helper": ("mine", "helper", "helper", "helper"),
    "officer": ("mine", "officer", "officer", "officer"),
    "other_officer": ("elsewhere", "other_officer", "other_officer", "other_officer"),
    "supervisor": ("mine", "officer", "supervisor", "officer"),
    "admin": ("mine", "officer", "admin", "officer"),
}
AWAY = {
    "anonymous": ("elsewhere", "other_officer", "other_officer", "other_officer"),
    "helper": ("unpaired", "officer", "officer", "officer"),
    "officer": ("colleague", "colleague", "colleague", "colleague"),
    "other_officer": ("mine", "officer", "officer", "officer"),
    "supervisor": ("elsewhere", "other_officer", "other_supervisor", "other_officer"),
    "admin": ("elsewhere", "other_officer", "other_supervisor", "other_officer"),
}
NAMES = {"mine": "张晓梅", "unpaired": "赵丽", "colleague": "李红", "elsewhere": "王芳"}


class AccessWorld:
    """Units, users, people, visits, conflicts and devices, with home and away ids per role."""

    def __init__(self, app, db, unit, other_unit, make_user):
        self.db, self.unit, self.other_unit = db, unit, other_unit
        self.users: dict[str, User] = {
            "admin": make_user("admin", role="admin"),
            "supervisor": make_user("supervisor", role="supervisor"),
            "officer": make_user("officer1"),
            "colleague": make_user("officer2"),
            "helper": make_user("helper1", role="peer_helper"),
            "other_officer": make_user("officer9", unit_id=other_unit.id),
            "other_supervisor": make_user("supervisor9", role="supervisor", unit_id=other_unit.id),
        }
        world = World(app, db, unit, other_unit, self.users)
        self.people = {
            "mine": self._person(world, "mine", officer="officer", helper="helper", peer=True),
            # paired with the helper, but her application does not agree to a peer's contact
            "unpaired": self._person(world, "unpaired", officer="officer", helper="helper"),
            "colleague": self._person(world, "colleague", officer="colleague"),
            "elsewhere": self._person(world, "elsewhere", officer="other_officer", unit=other_unit),
        }
        self.visits = {
            "officer": self._visit("officer", "mine", "home_visit"),
            "helper": self._visit("helper", "mine", "talk"),
            "colleague": self._visit("colleague", "colleague", "home_visit"),
            "other_officer": self._visit("other_officer", "elsewhere", "home_visit"),
        }
        self.groups = {
            "officer": self._group("officer", "mine", "group_counselling"),
            "helper": self._group("helper", "mine", "talk"),
            "colleague": self._group("colleague", "colleague", "group_counselling"),
            "other_officer": self._group("other_officer", "elsewhere", "group_counselling"),
        }
        self.conflicts = {
            author: self._conflict(author, self.visits[author]) for author in self.visits
        }
        self.devices = {key: self._device(user) for key, user in self.users.items()}
        # a second device signed in, besides the one the matrix walks with
        self.sessions = {key: self._session(user) for key, user in self.users.items()}
        db.flush()  # the sessions before the keys that name them
        # that device's key for her offline store, as the phone names it
        self.device_keys = {key: self._device_key(user, key) for key, user in self.users.items()}
        db.commit()
        self.scopes = self._scopes()

    def _person(self, world: World, key: str, *, peer: bool = False, **fields) -> Person:
        """A registered person with her support application; `peer`: she agrees to a peer."""
        person = world.add(key, NAMES[key], consent=False, **fields)
        consents = {"follow_up_visits": True, "phone_contact": True, "peer_contact": peer}
        self.db.add(
            Consent(
                person_id=person.id,
                signed_on=TODAY - timedelta(days=200),
                consents=consents,
                taken_by_id=self.users["supervisor"].id,
            )
        )
        self.db.commit()
        return person

    def _visit(self, author: str, person: str, kind: str) -> dict:
        """A visit recorded yesterday through the write path; the item that carried it."""
        occurred = (TODAY - timedelta(days=1)).isoformat() + "T10:30"
        notes = f"notes by {author}"  # whose words a page shows, when a test needs to know
        item = create_item(self.people[person], kind=kind, occurred_at=occurred, notes=notes)
        [answer] = push_items(session=self.db, user=self.users[author], items=[item])
        assert answer.status == "created", answer
        commit(self.db)
        return item

    def _group(self, author: str, person: str, kind: str) -> uuid.UUID:
        """A group session held yesterday with her, recorded through the sync push."""
        occurred = (TODAY - timedelta(days=1)).isoformat() + "T15:00"
        item = create_group_item([self.people[person]], kind=kind, occurred_at=occurred)
        [answer] = push_items(session=self.db, user=self.users[author], items=[item])
        assert answer.status == "created", answer
        commit(self.db)
        return uuid.UUID(item["record_id"])

    def _conflict(self, author: str, item: dict) -> uuid.UUID:
        """Two corrections of one visit from the same base version: the second is kept aside."""
        user = self.users[author]
        first = edit_item(item, 1, notes=f"first correction by {author}")
        second = edit_item(item, 1, notes=f"second correction by {author}")
        answers = push_items(session=self.db, user=user, items=[first, second])
        assert [a.status for a in answers] == ["edited", "conflict"], answers
        commit(self.db)
        return answers[1].conflict_id

    def _device(self, user: User) -> uuid.UUID:
        device = PushSubscription(
            user_id=user.id,
            endpoint=f"https://push.example.test/{user.username}",
            p256dh="B" + "A" * 86,
            auth="A" * 22,
            label="phone",
        )
        self.db.add(device)
        return device.id

    def _session(self, user: User) -> uuid.UUID:
        row = UserSession(user_id=user.id, label="Android", ip="127.0.0.1")
        self.db.add(row)
        return row.id

    def _device_key(self, user: User, key: str) -> uuid.UUID:
        row = DeviceKey(user_id=user.id, device_id=uuid.uuid4(), session_id=self.sessions[key])
        self.db.add(row)
        return row.device_id

    def _scopes(self) -> dict[str, dict[str, dict[str, uuid.UUID]]]:
        """For each role, the ids of each kind she should reach (home) and not (away)."""

        def ids(person: str, author: str, holder: str, user: str) -> dict[str, uuid.UUID]:
            return {
                "person_id": self.people[person].id,
                "unit_id": self.people[person].unit_id,
                "visit_id": uuid.UUID(self.visits[author]["record_id"]),
                "group_id": self.groups[author],
                "conflict_id": self.conflicts[author],
                "subscription_id": self.devices[holder],
                # her own other device in Settings; the user's, in user management
                "session_id": self.sessions[holder],
                "device_id": self.device_keys[holder],
                "user_session_id": self.sessions[user],
                "user_id": self.users[user].id,
                "code": "phq9",  # a scale
                "token": "x" * 43,  # a check-in link nobody was given
            }

        scopes = {role: {"home": ids(*HOME[role]), "away": ids(*AWAY[role])} for role in ROLES}
        for role in ROLES:  # an officer's due list: one of her own unit's, one elsewhere
            scopes[role]["home"]["officer_id"] = self.users["officer"].id
            scopes[role]["away"]["officer_id"] = self.users["other_officer"].id
        return scopes

    def ids(self, role: str, scope: str, endpoint: str) -> dict:
        """The ids to put in an endpoint's URL: a session is the user's in user management."""
        ids = dict(self.scopes[role][scope])
        if endpoint.startswith("admin."):
            ids["session_id"] = ids["user_session_id"]
        return ids


def ledger_state(db) -> dict:
    """What the ledgers hold now: every row's version, the number of each kind of record."""
    db.rollback()  # a fresh snapshot: requests committed since
    db.expire_all()
    return {
        "people": {p.id: p.version for p in db.exec(select(Person))},
        "visits": {v.id: v.version for v in db.exec(select(Visit))},
        "conflicts": {c.id: c.resolved_at for c in db.exec(select(SyncConflict))},
        **{
            model.__name__: db.exec(select(func.count()).select_from(model)).one()
            for model in (Assignment, Consent, StatusChange, SupportPlan, Unit, VisitVersion)
        },
    }


def account_state(db) -> dict:
    """Each account as sign-in sees it: active, role, unit, a forced change, a second factor."""
    db.rollback()
    db.expire_all()
    return {
        user.username: (
            user.active,
            user.role,
            user.unit_id,
            user.must_change_password,
            user.totp_secret_encrypted is not None,
        )
        for user in db.exec(select(User))
    }


def sign_in(client, role: str) -> str:
    """Sign in as the role's user through the real forms; the CSRF token her pages carry."""
    username = USERNAMES[role]
    if username is None:
        return csrf_from(client.get("/auth/login").text)
    answer = AuthActions(client).login(username)
    assert answer.status_code == 302, f"{username} could not sign in: {answer.status_code}"
    assert urlsplit(answer.headers["Location"]).path == "/", answer.headers["Location"]
    return csrf_from(client.get("/settings/").text)
