"""Demonstration data: two realistic units with invented people and a year of visits.

The studio (three officers at clearly different paces, a peer helper) and a community
station (two officers), a supervisor for each, and a read-only director for the bureau.
"""

import random
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from app import accounts
from app.accounts import create_unit, create_user
from app.auth.totp import set_secret
from app.contract import commit
from app.crypto import IdCipher, get_cipher
from app.demo_ledgers import DemoTeam, furnish, hold_group_sessions
from app.due import refresh_due
from app.models import (
    PRE_RELEASE_DAYS,
    Person,
    PersonStatus,
    ReleaseItem,
    ReleasePreparation,
    RiskLevel,
    Role,
    SupportPath,
    Unit,
    Visit,
    VisitKind,
    VisitLocation,
    default_cadence,
)
from app.schedule import interval_for
from app.search_keys import name_search_keys
from app.types import utcnow

DEMO_PASSWORD = "clover-demo-2026"  # noqa: S105 - the published demo password
# the published second factor of the demo supervisor and admin (base32): `make run` prints it
DEMO_TOTP_SECRET = "CLOVERDEMOTOTP22"  # noqa: S105
DEMO_TOTP_USERS = ("supervisor", "supervisor2", "admin", "director")
UNIT_NAME = "重庆市女子强制隔离戒毒所心理帮扶工作室"
SECOND_UNIT_NAME = "重庆市社区戒毒康复心理帮扶站"

# username, display name, role, unit (0: the studio, 1: the community station, None: none)
ACCOUNTS = [
    ("admin", "系统管理员", Role.admin, None),
    ("director", "市局督导（只读）", Role.director, None),
    ("supervisor", "李静（负责人）", Role.supervisor, 0),
    ("officer1", "陈雪梅", Role.officer, 0),
    ("officer2", "刘芳", Role.officer, 0),
    ("officer3", "杨丽华", Role.officer, 0),
    ("helper1", "周小燕", Role.peer_helper, 0),
    ("supervisor2", "王敏（负责人）", Role.supervisor, 1),
    ("officer4", "赵蕾", Role.officer, 1),
    ("officer5", "孙琳", Role.officer, 1),
]
DEMO_USERNAMES = [username for username, *_ in ACCOUNTS]
# each officer's pace: the gap to the next contact as a share of the cadence's interval,
# drawn between these bounds; with the unit's grace days, clearly different on-time rates
OFFICER_PACE = {
    "officer1": (0.6, 1.1),
    "officer2": (0.75, 1.3),
    "officer3": (0.85, 1.6),
    "officer4": (0.65, 1.2),
    "officer5": (0.8, 1.5),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马胡朱郭何罗高林郑梁谢唐许冯宋韩邓彭曹田萧潘袁蒋蔡余杜叶程"
    "魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾夏韦傅方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶"
)
GIVEN = "晓梅丽娟秀英红霞敏静燕芳玲婷雪兰琴慧莉萍桂凤艳洁琳倩颖佳欣悦瑶蓉春翠"
DISTRICTS = {
    "渝中区": ["解放碑街道民族路", "大坪街道大坪正街", "上清寺街道中山四路", "化龙桥街道红岩村"],
    "江北区": ["观音桥街道建新北路", "石马河街道南桥寺", "大石坝街道东原路", "五里店街道"],
    "沙坪坝区": ["小龙坎街道沙坪坝正街", "磁器口街道", "天星桥街道", "石井坡街道"],
    "九龙坡区": ["杨家坪街道西郊路", "黄桷坪街道正街", "石坪桥街道", "谢家湾街道"],
    "南岸区": ["南坪街道南城大道", "弹子石街道", "铜元局街道", "南山街道"],
    "渝北区": ["龙溪街道松石大道", "两路街道双凤路", "回兴街道", "宝圣湖街道"],
    "巴南区": ["鱼洞街道新市街", "李家沱街道", "龙洲湾街道", "花溪街道"],
    "北碚区": ["北温泉街道", "天生街道", "朝阳街道中山路", "东阳街道"],
}
NOTES = {
    VisitKind.home_visit: [
        "入户面谈，居住环境整洁，与母亲关系有所缓和。",
        "家访时本人在家，情绪平稳，正在找工作。",
        "与丈夫一起面谈，家庭矛盾仍较突出，约定下次家庭治疗。",
    ],
    VisitKind.phone_consultation: [
        "电话沟通，自述睡眠改善，已按时参加社区尿检。",
        "来电倾诉工作压力，给予情绪疏导。",
        "电话回访，近况稳定，提醒按时复诊。",
    ],
    VisitKind.follow_up: ["定期回访，状态稳定，计划按期推进。", "回访了解就业进展，已在超市上班。"],
    VisitKind.psychological_training: [
        "参加放松训练，掌握呼吸放松方法。",
        "正念训练一次，反馈良好。",
    ],
    VisitKind.family_therapy: ["实地家庭治疗，母女沟通练习。", "与家属共同制定支持计划。"],
    VisitKind.parent_child_counselling: ["亲子关系辅导，孩子愿意周末见面。", "指导亲子沟通技巧。"],
    VisitKind.talk: ["互助员交流谈心，分享戒断经验。"],
    VisitKind.online_check_in: ["线上打卡，完成本周目标。"],
}
KIND_LOCATION = {
    VisitKind.home_visit: VisitLocation.home,
    VisitKind.phone_consultation: VisitLocation.phone,
    VisitKind.follow_up: VisitLocation.phone,
    VisitKind.psychological_training: VisitLocation.community_office,
    VisitKind.family_therapy: VisitLocation.home,
    VisitKind.parent_child_counselling: VisitLocation.community_office,
    VisitKind.talk: VisitLocation.other,
    VisitKind.online_check_in: VisitLocation.other,
}
STATUS_COUNTS = {
    PersonStatus.pre_release: 8,
    PersonStatus.active: 34,
    PersonStatus.paused: 5,
    PersonStatus.lost_contact: 7,
    PersonStatus.closed: 6,
}
SECOND_STATUS_COUNTS = {
    PersonStatus.pre_release: 3,
    PersonStatus.active: 14,
    PersonStatus.paused: 1,
    PersonStatus.lost_contact: 2,
    PersonStatus.closed: 2,
}


# recent risks to show on Today, in turn; the freshest contact gets a self-harm flag
RECENT_RISKS = (
    ["relapse_signs"],
    ["no_income"],
    ["family_conflict", "no_housing"],
    ["health_problem"],
)
KIND_HELP = {
    VisitKind.home_visit: (["mother"], ["emotional_support"], ["work"]),
    VisitKind.phone_consultation: ([], ["emotional_support"], []),
    VisitKind.family_therapy: (["mother", "child"], ["family_mediation"], ["family"]),
    VisitKind.parent_child_counselling: (["child"], ["family_mediation"], ["family"]),
    VisitKind.follow_up: ([], ["relapse_prevention"], ["work", "documents"]),
}
RELAPSES = 3


class DemoRefused(RuntimeError):
    """The demo must not be loaded here."""


def _phone(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + "".join(rng.choices("0123456789", k=9))


def _address(rng: random.Random) -> str:
    district = rng.choice(list(DISTRICTS))
    street = rng.choice(DISTRICTS[district])
    return (
        f"重庆市{district}{street}{rng.randint(1, 300)}号"
        f"{rng.randint(1, 12)}栋{rng.randint(1, 4)}单元{rng.randint(1, 30)}-{rng.randint(1, 8)}"
    )


def _local_time(day: date, rng: random.Random, zone: ZoneInfo) -> datetime:
    moment = time(rng.randint(9, 17), rng.choice([0, 15, 30, 45]))
    return datetime.combine(day, moment, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _visits(
    person: Person,
    authors: list,
    today: date,
    rng: random.Random,
    zone: ZoneInfo,
    pace: tuple[float, float] = (0.7, 1.45),
    cadence: list[dict] | None = None,
):
    """A plausible history since release (or one pre-release meeting), at the officer's pace."""
    if person.status == PersonStatus.pre_release:
        day = today - timedelta(days=rng.randint(5, 40))
        yield Visit(
            id=uuid.uuid4(),
            person_id=person.id,
            author_id=authors[0].id,
            kind=VisitKind.talk,
            occurred_at=_local_time(day, rng, zone),
            location=VisitLocation.facility,
            duration_minutes=40,
            mood=3,
            craving=2,
            notes="所内帮扶前谈话，签署回归社会心理帮扶申请表。",
        )
        return
    start = max(person.release_date, today - timedelta(days=365))
    day = start + timedelta(days=rng.randint(2, 7))
    end = (
        today - timedelta(days=rng.randint(40, 90))
        if person.status in (PersonStatus.lost_contact, PersonStatus.closed)
        # the last contact lands anywhere in the past weeks: some are due, some overdue
        else today - timedelta(days=rng.randint(0, 45))
    )
    while day <= end:
        kind = rng.choice(list(KIND_LOCATION))
        author = (
            authors[1]
            if kind in (VisitKind.talk, VisitKind.online_check_in) and len(authors) > 1
            else authors[0]
        )
        mood = rng.randint(2, 5)
        yield Visit(
            id=uuid.uuid4(),
            person_id=person.id,
            author_id=author.id,
            kind=kind,
            occurred_at=_local_time(day, rng, zone),
            location=KIND_LOCATION[kind],
            duration_minutes=rng.choice([15, 20, 30, 45, 60, 90]),
            mood=mood,
            craving=rng.randint(0, 6 - mood),
            notes=rng.choice(NOTES[kind]),
            risk_flags=["family_conflict"] if rng.random() < 0.1 else [],
        )
        if rng.random() < 0.15:
            yield Visit(
                id=uuid.uuid4(),
                person_id=person.id,
                author_id=authors[0].id,
                kind=VisitKind.attempt,
                occurred_at=_local_time(day + timedelta(days=1), rng, zone),
                location=VisitLocation.phone,
                failure_reason="no_answer",
                notes="电话未接通。",
            )
        interval = interval_for(cadence or default_cadence(), (day - person.release_date).days)
        day += timedelta(days=max(3, round(interval * rng.uniform(*pace))))
    if person.status == PersonStatus.lost_contact:
        for offset in (30, 20, 10):
            yield Visit(
                id=uuid.uuid4(),
                person_id=person.id,
                author_id=authors[0].id,
                kind=VisitKind.attempt,
                occurred_at=_local_time(today - timedelta(days=offset), rng, zone),
                location=VisitLocation.phone,
                failure_reason="no_answer",
                notes="多次电话未接通。",
            )


def _settle(visit: Visit) -> None:
    """Recorded when it happened, with what the kind usually brings (no randomness used)."""
    visit.created_at = visit.updated_at = visit.occurred_at
    participants, help_given, difficulties = KIND_HELP.get(visit.kind, ([], [], []))
    visit.participants = list(participants)
    visit.help_given = list(help_given)
    visit.difficulties = list(difficulties)


def _flag_recent_risks(visits: list[Visit], today: date, zone: ZoneInfo) -> None:
    """Risk flags on the contacts of the last three weeks, one of them a self-harm risk."""
    since = datetime.combine(today - timedelta(days=21), time(0), tzinfo=zone)
    recent = sorted((v for v in visits if v.occurred_at >= since), key=lambda v: v.occurred_at)
    if not recent:
        return
    newest = recent.pop()
    newest.risk_flags = ["relapse_signs", "self_harm"]
    newest.mood, newest.craving = 1, 7
    newest.notes = "情绪低落，流露轻生念头，已当面疏导并联系家属陪伴，报告负责人。"
    for index, visit in enumerate(recent[::3]):
        visit.risk_flags = RECENT_RISKS[index % len(RECENT_RISKS)]


def load_demo(
    session: Session,
    *,
    environment: str,
    if_empty: bool = False,
    timezone: str = "Asia/Shanghai",
    cipher: IdCipher | None = None,
) -> str | None:
    """Create the demo unit; None when `if_empty` and the database already has data.

    ID-card numbers are encrypted with `cipher`, by default the running app's.
    """
    if environment == "production":
        raise DemoRefused("demo data cannot be loaded with the production configuration")
    if session.exec(select(func.count()).select_from(Unit)).one():
        if if_empty:
            return None
        raise DemoRefused("the database already has data; demo data goes into a new database")
    rng = random.Random(2009)  # the studio's founding year: the same demo every time
    zone = ZoneInfo(timezone)
    today = datetime.now(zone).date()
    units = [create_unit(session, name=UNIT_NAME), create_unit(session, name=SECOND_UNIT_NAME)]
    session.flush()
    users = {}
    shared_hash = accounts.hash_password(DEMO_PASSWORD)  # one hash: one published password
    for username, display_name, role, unit_index in ACCOUNTS:
        users[username] = create_user(
            session,
            username=username,
            display_name=display_name,
            password=DEMO_PASSWORD,
            role=role,
            unit_id=None if unit_index is None else units[unit_index].id,
            timezone=timezone,
            environment=environment,
            password_hash=shared_hash,
        )
    session.flush()
    for username in DEMO_TOTP_USERS:
        set_secret(session, users[username], DEMO_TOTP_SECRET, now=utcnow(), cipher=cipher)
    teams = [
        (
            DemoTeam(
                unit=units[0],
                officers=[users["officer1"], users["officer2"], users["officer3"]],
                helper=users["helper1"],
                supervisor=users["supervisor"],
            ),
            STATUS_COUNTS,
        ),
        (
            DemoTeam(
                unit=units[1],
                officers=[users["officer4"], users["officer5"]],
                helper=None,
                supervisor=users["supervisor2"],
            ),
            SECOND_STATUS_COUNTS,
        ),
    ]
    ledger_rng = random.Random(1_000 + 2009)
    cipher = cipher or get_cipher()
    names: set[str] = set()
    people = visits = 0
    for team, counts in teams:
        loaded = _load_unit(
            session,
            team,
            counts,
            first_index=people,
            names=names,
            today=today,
            zone=zone,
            rng=rng,
            ledger_rng=ledger_rng,
            cipher=cipher,
        )
        people, visits = people + loaded[0], visits + loaded[1]
    session.flush()
    groups = sum(hold_group_sessions(session, team, today, zone) for team, _counts in teams)
    commit(session)
    refresh_due(session, today=today, everyone=True)  # everyone's standing, in a few queries
    return (
        f"{len(units)} units, {len(users)} users, {people} people, {visits} visits,"
        f" {groups} group sessions"
    )


def _load_unit(
    session: Session,
    team: DemoTeam,
    counts: dict,
    *,
    first_index: int,
    names: set[str],
    today: date,
    zone: ZoneInfo,
    rng: random.Random,
    ledger_rng: random.Random,
    cipher: IdCipher,
) -> tuple[int, int]:
    """One unit's people and their ledgers; how many people and visits."""
    unit, officers, helper = team.unit, team.officers, team.helper
    statuses = [status for status, count in counts.items() for _ in range(count)]
    rng.shuffle(statuses)
    # a few of the active people have relapsed: still followed, more closely
    relapsed = [i for i, status in enumerate(statuses) if status == PersonStatus.active][:RELAPSES]
    visit_count = 0
    recent: list[Visit] = []
    for offset, status in enumerate(statuses):
        index = first_index + offset
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))
        while name in names:
            name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
        names.add(name)
        if status == PersonStatus.pre_release:
            release = today + timedelta(days=rng.randint(10, 180))
        elif status in (PersonStatus.lost_contact, PersonStatus.closed):
            release = today - timedelta(days=rng.randint(150, 700))
        else:
            release = today - timedelta(days=rng.randint(20, 700))
        officer = officers[offset % len(officers)]
        person = Person(
            unit_id=unit.id,
            name=name,
            search_keys=name_search_keys(name),
            date_of_birth=date(rng.randint(1972, 2002), rng.randint(1, 12), rng.randint(1, 28)),
            phone=_phone(rng),
            address=_address(rng),
            emergency_contacts=[
                {
                    "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "relation": rng.choice(["母亲", "丈夫", "姐姐", "父亲"]),
                    "phone": _phone(rng),
                }
            ],
            facility="重庆市女子强制隔离戒毒所",
            admission_date=release - timedelta(days=730),
            release_date=release,
            status=status,
            support_path=rng.choice(list(SupportPath)),
            risk_level=rng.choices(list(RiskLevel), weights=[6, 3, 1])[0],
            assigned_officer_id=officer.id,
            peer_helper_id=helper.id if helper and offset % 7 == 0 else None,
        )
        session.add(person)
        session.flush()
        authors = [officer, helper] if person.peer_helper_id else [officer]
        pace = OFFICER_PACE.get(officer.username, (0.7, 1.45))
        visits = list(_visits(person, authors, today, rng, zone, pace, unit.default_cadence))
        for visit in visits:
            _settle(visit)
        furnish(
            session,
            person=person,
            team=team,
            visits=visits,
            index=index,
            today=today,
            zone=zone,
            cipher=cipher,
            rng=ledger_rng,
            relapsed=offset in relapsed,
        )
        if status == PersonStatus.pre_release:
            _prepare_release(session, person, officer, today, index)
        visit_count += len(visits)
        if status == PersonStatus.active:
            recent.extend(v for v in visits if v.failure_reason is None)
    _flag_recent_risks(recent, today, zone)
    return len(statuses), visit_count


# a note an officer might leave on an item of release preparation
RELEASE_NOTES = {
    ReleaseItem.family_contact: "已电话联系母亲，愿意接回家中",
    ReleaseItem.housing: "暂住姐姐家，社区已登记",
    ReleaseItem.work_or_training: "报名社区家政技能培训",
}


def _prepare_release(session: Session, person: Person, officer, today: date, index: int) -> None:
    """Her release preparation partly done, so the checklist shows on her ledger and Today."""
    rng = random.Random(f"release-{index}")  # its own draws: the rest of the demo stays put
    opened = person.release_date - timedelta(days=PRE_RELEASE_DAYS)
    for item in list(ReleaseItem)[: rng.randint(1, len(ReleaseItem) - 1)]:
        session.add(
            ReleasePreparation(
                id=uuid.uuid4(),
                person_id=person.id,
                item=item.value,
                done=True,
                note=RELEASE_NOTES.get(item, ""),
                marked_by_id=officer.id,
                marked_on=max(opened, today - timedelta(days=rng.randint(1, 40))),
            )
        )
