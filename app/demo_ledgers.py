"""Demonstration ledgers: ID numbers, support applications, plans, assignments, statuses.

Drawn from a random generator of its own, so the people and visits of `app.demo`
stay what they were before ledgers existed.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app import idcard
from app.crypto import IdCipher
from app.models import (
    CONSENT_KEYS,
    Assignment,
    CloseReason,
    Consent,
    Person,
    PersonStatus,
    Role,
    StatusChange,
    SupportPlan,
    Unit,
    User,
    Visit,
    VisitKind,
)

# Chongqing's district codes: 渝中, 大渡口, 江北, 沙坪坝, 九龙坡, 南岸, 北碚, 渝北, 巴南
AREA_CODES = (
    "500103",
    "500104",
    "500105",
    "500106",
    "500107",
    "500108",
    "500109",
    "500112",
    "500113",
)
HELP = ("family", "work", "housing", "health", "documents", "psychological")
GOALS = (
    "巩固戒毒内驱力，修复与母亲的关系，三个月内找到稳定工作。",
    "稳定情绪和睡眠，按时参加社区尿检，逐步恢复与孩子的联系。",
    "解决户籍和身份证补办问题，申请公租房，保持每周一次电话联系。",
)
STATUS_NOTES = {
    PersonStatus.lost_contact: "连续多次电话未接通，家访未见本人。",
    PersonStatus.paused: "本人外出务工，约定返回后恢复回访。",
    PersonStatus.relapse: "社区尿检阳性，本人承认复吸，加强回访频次。",
    PersonStatus.closed: "帮扶期满，经评估结案。",
}
PEER_KINDS = (VisitKind.talk, VisitKind.online_check_in)


@dataclass
class DemoTeam:
    unit: Unit
    officers: list[User]
    helper: User | None  # a unit may have no peer helper
    supervisor: User


def id_number(born: date, index: int, rng: random.Random) -> str:
    """An invented, valid number: a Chongqing district, her birth date, an even (female) digit."""
    first17 = (
        rng.choice(AREA_CODES) + born.strftime("%Y%m%d") + f"{index:02d}" + rng.choice("02468")
    )
    return first17 + idcard.check_char(first17)


def _at(day: date, zone: ZoneInfo, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


def _assignments(person, team, officer, previous, began, switched):
    """Her officers (the first one ended when she was reassigned) and her peer helper."""
    if previous is not None:
        yield Assignment(
            person_id=person.id,
            user_id=previous.id,
            role=Role.officer,
            started_at=began,
            created_at=began,
            ended_at=switched,
            assigned_by_id=team.supervisor.id,
            reason="初始分配",
        )
    yield Assignment(
        person_id=person.id,
        user_id=officer.id,
        role=Role.officer,
        started_at=switched or began,
        created_at=switched or began,
        assigned_by_id=team.supervisor.id,
        reason="工作调整，重新分配" if previous else "初始分配",
    )
    if person.peer_helper_id:
        yield Assignment(
            person_id=person.id,
            user_id=team.helper.id,
            role=Role.peer_helper,
            started_at=began,
            created_at=began,
            assigned_by_id=team.supervisor.id,
            reason="结对帮扶",
        )


def _consent(person, officer, today, zone, rng, withdrawn):
    signed = min(person.release_date - timedelta(days=150), today - timedelta(days=3))
    consents = {key: True for key in CONSENT_KEYS}
    consents["family_contact"] = rng.random() < 0.8
    # a woman is paired with a peer helper because she agreed to a peer's contact
    consents["peer_contact"] = person.peer_helper_id is not None
    consent = Consent(
        person_id=person.id,
        version=1,
        signed_on=signed,
        consents=consents,
        help_requested=sorted(rng.sample(HELP, rng.randint(1, 3))),
        preferred_contact_times=rng.choice(["工作日晚上七点后", "周末上午", "随时可以", ""]),
        taken_by_id=officer.id,
        created_at=_at(signed, zone),
    )
    if withdrawn:
        consent.withdrawn_at = _at(today - timedelta(days=rng.randint(5, 30)), zone, 15)
        consent.withdrawn_reason = "本人表示不再需要帮扶，申请退出"
        person.consent_withdrawn_at = consent.withdrawn_at
    return consent


def _plans(person, team, officer, today, zone, rng, revised):
    begun = max(person.release_date - timedelta(days=150), today - timedelta(days=400))
    first = SupportPlan(
        person_id=person.id,
        version=1,
        goals=rng.choice(GOALS),
        focus_areas=sorted(rng.sample(HELP, 2)) + ["drug_free_will"],
        cadence=[dict(phase) for phase in team.unit.default_cadence],
        contact_kinds=["home_visit", "phone_consultation", "follow_up"],
        review_on=person.release_date + timedelta(days=90),
        author_id=officer.id,
        created_at=_at(min(begun, today), zone),
    )
    if not revised:
        return [first]
    second = SupportPlan(
        person_id=person.id,
        version=2,
        goals=first.goals + "复吸风险较高，前三个月每周联系。",
        focus_areas=first.focus_areas,
        contact_kinds=[*first.contact_kinds, "family_therapy"],
        cadence=[{"until_day": 90, "every_days": 7}, *first.cadence[1:]],
        review_on=today + timedelta(days=60),
        author_id=team.supervisor.id,
        created_at=_at(today - timedelta(days=rng.randint(10, 60)), zone),
    )
    return [first, second]


def _status_changes(person, officer, last_visit_day, today, zone, index):
    changes = []
    if person.release_date <= today:
        changes.append(
            StatusChange(
                person_id=person.id,
                from_status=PersonStatus.pre_release,
                to_status=PersonStatus.active,
                note="解除强制隔离，回归社会",
                effective_on=person.release_date,
                author_id=officer.id,
                created_at=_at(person.release_date, zone),
            )
        )
    if person.status in STATUS_NOTES:
        closing = person.status == PersonStatus.closed
        effective = min(today, (last_visit_day or today) + timedelta(days=14))
        changes.append(
            StatusChange(
                person_id=person.id,
                from_status=PersonStatus.active,
                to_status=person.status,
                reason=list(CloseReason)[index % len(CloseReason)] if closing else "",
                note=STATUS_NOTES[person.status],
                effective_on=effective,
                author_id=officer.id,
                created_at=_at(effective, zone, 16),
            )
        )
    return changes


def furnish(
    session: Session,
    *,
    person: Person,
    team: DemoTeam,
    visits: list[Visit],
    index: int,
    today: date,
    zone: ZoneInfo,
    cipher: IdCipher,
    rng: random.Random,
    relapsed: bool,
) -> None:
    """Give a demo person everything a real ledger has, then add her visits."""
    number = id_number(person.date_of_birth, index, rng)
    person.id_number_encrypted = cipher.encrypt(number)
    person.id_number_hash = cipher.digest(number)
    person.id_number_tail = number[-4:]
    if relapsed:
        person.status = PersonStatus.relapse
    officer = next(o for o in team.officers if o.id == person.assigned_officer_id)
    began = _at(person.release_date - timedelta(days=180), zone, 9)
    previous = switched = None
    if index % 6 == 5 and person.release_date + timedelta(days=30) < today:
        previous = team.officers[(team.officers.index(officer) + 1) % len(team.officers)]
        switched = _at(person.release_date + timedelta(days=rng.randint(20, 30)), zone, 14)
        for visit in visits:  # what happened before the switch was the earlier officer's
            if visit.occurred_at < switched and visit.kind not in PEER_KINDS:
                visit.author_id = previous.id
    session.add_all(_assignments(person, team, officer, previous, began, switched))
    withdrawn = index % 13 == 4 and person.status != PersonStatus.closed
    session.add(_consent(person, previous or officer, today, zone, rng, withdrawn))
    plans = _plans(person, team, previous or officer, today, zone, rng, revised=index % 5 == 0)
    session.add_all(plans)
    last_visit_day = max((v.occurred_at.astimezone(zone).date() for v in visits), default=None)
    session.add_all(_status_changes(person, officer, last_visit_day, today, zone, index))
    session.add_all(visits)
    session.add(person)


# a few group sessions of the studio: (days ago, leader, kind, topic, online, place, how many)
GROUP_SESSIONS = (
    (40, "officer", "group_counselling", "情绪管理与应对渴求", False, "工作室团体辅导室", 8),
    (26, "officer", "psychological_training", "正念放松训练", False, "社区康复站活动室", 6),
    (12, "officer", "family_therapy", "家属支持小组", False, "工作室会谈室", 4),
    (5, "officer", "group_counselling", "求职面试准备", True, "", 5),
    (9, "helper", "talk", "同伴交流：第一年怎么过", False, "社区康复站", 3),
)


def hold_group_sessions(session: Session, team: DemoTeam, today: date, zone: ZoneInfo) -> int:
    """A few group sessions of the team's first officer (and its peer helper's peer group
    talk), recorded through the group write path as a phone would; how many were saved."""
    # imported here: the write path imports the models this module is loaded beside
    from app.groups.service import record_group_session
    from app.policy import people_scope

    saved = 0
    for days, leader, kind, topic, online, place, size in GROUP_SESSIONS:
        user = team.officers[0] if leader == "officer" else team.helper
        if user is None:
            continue
        people = session.exec(
            select(Person.id)
            .where(people_scope(user), Person.status.in_(("active", "relapse")))
            .where(Person.consent_withdrawn_at.is_(None))
            .order_by(Person.name)
            .limit(size)
        ).all()
        if not people:
            continue
        data = {
            "id": str(uuid.uuid5(team.unit.id, f"group:{days}:{topic}")),
            "kind": kind,
            "occurred_at": _at(today - timedelta(days=days), zone, hour=14).isoformat(),
            "duration_minutes": "90",
            "online": online,
            "place": place,
            "topic": topic,
            "notes": "小组讨论顺利，成员彼此分享经验。",
            "attendees": [str(person_id) for person_id in people],
        }
        result = record_group_session(session=session, user=user, data=data)
        saved += result.outcome == "created"
    return saved
