"""A unit with people in it, for the people tests: fixtures and small helpers."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app import idcard
from app.accounts import create_unit
from app.crypto import IdCipher
from app.due import refresh_next_due
from app.models import Consent, Person
from app.people.service import first_plan
from app.search_keys import name_search_keys
from tests.factories import NOW, TODAY

ZONE = ZoneInfo("Asia/Shanghai")


def valid_id(born=date(1985, 3, 14), seq="024", area="500103"):
    first17 = area + born.strftime("%Y%m%d") + seq
    return first17 + idcard.check_char(first17)


class World:
    """Two units, a user of every role, and helpers to add people to them."""

    def __init__(self, app, db, unit, other_unit, users):
        self.db, self.unit, self.other_unit, self.users = db, unit, other_unit, users
        self.cipher = IdCipher.from_config(app.config)
        self.people: dict[str, Person] = {}
        self._seq = 0

    def add(
        self,
        key,
        name,
        *,
        officer=None,
        helper=None,
        unit=None,
        consent=True,
        peer_contact=None,
        **fields,
    ):
        """A person as registration leaves her: encrypted ID, first plan, consent, due date.

        Paired with a helper, she agrees to a peer's contact unless `peer_contact=False`.
        """
        self._seq += 2
        number = valid_id(seq=f"{self._seq:03d}")
        unit = unit or self.unit
        person = Person(
            unit_id=unit.id,
            name=name,
            search_keys=name_search_keys(name),
            assigned_officer_id=self.users[officer].id if officer else None,
            peer_helper_id=self.users[helper].id if helper else None,
            id_number_encrypted=self.cipher.encrypt(number),
            id_number_hash=self.cipher.digest(number),
            id_number_tail=number[-4:],
            date_of_birth=date(1985, 3, 14),
            **{"status": "active", "release_date": TODAY - timedelta(days=30), **fields},
        )
        self.db.add(person)
        self.db.flush()
        author = self.users["supervisor"]
        self.db.add(first_plan(person=person, unit=unit, author=author, today=TODAY))
        if consent:
            self.db.add(
                Consent(
                    person_id=person.id,
                    signed_on=TODAY - timedelta(days=200),
                    consents={
                        "follow_up_visits": True,
                        "phone_contact": True,
                        "peer_contact": bool(helper) if peer_contact is None else peer_contact,
                    },
                    preferred_contact_times="工作日晚上七点后",
                    taken_by_id=author.id,
                )
            )
        self.db.flush()
        refresh_next_due(self.db, person, today=TODAY)
        self.db.commit()
        self.people[key] = person
        return person


@pytest.fixture
def studio_clock(request):
    """The process's clock set to the tests' NOW (noon at the studio) and running on, so
    "today at 10:30" is always past and a run across midnight keeps one today.

    Not in a browser test: Chromium keeps the machine's time, and would find the cookies
    of a server living in another month expired.
    """
    if request.node.get_closest_marker("browser"):
        yield None
        return
    with time_machine.travel(NOW, tick=True):
        yield NOW


@pytest.fixture
def world(studio_clock, app, db, unit, make_user):
    other_unit = create_unit(db, name="另一个工作室")
    db.commit()
    users = {
        "admin": make_user("admin", role="admin"),
        "supervisor": make_user("supervisor", role="supervisor", display_name="李静"),
        "other_supervisor": make_user("sup2", role="supervisor", unit_id=other_unit.id),
        "officer": make_user("officer1", display_name="陈雪梅"),
        "other_officer": make_user("officer2", display_name="刘芳"),
        "helper": make_user("helper1", role="peer_helper", display_name="周小燕"),
    }
    w = World(app, db, unit, other_unit, users)
    w.add("mine", "张晓梅", officer="officer", helper="helper", phone="13812345678")
    w.add("colleague", "李红", officer="other_officer", phone="13900001111")
    w.add("elsewhere", "王芳", unit=other_unit)
    return w


def reload(db, record):
    """The record as the database has it now, past the test session's read snapshot."""
    db.rollback()
    db.refresh(record)
    return record
