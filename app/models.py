"""SQLModel tables.

Every table a phone may write to (Person, Visit) has a client-generated UUID key,
a `version` that goes up by one on each change, and created/updated times in UTC:
the offline sync protocol relies on all three.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Integer, String, UniqueConstraint, cast, or_
from sqlmodel import Field, SQLModel

from app.types import UTCDateTime, utcnow

# named constraints, so SQLite batch migrations can find and drop them later
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


FIRST_CONTACT_DAYS = 7
PRE_RELEASE_DAYS = 180


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    officer = "officer"
    peer_helper = "peer_helper"
    # the bureau: every unit's figures side by side, never a name, a phone or a ledger
    director = "director"


class PersonStatus(StrEnum):
    pre_release = "pre_release"
    active = "active"
    paused = "paused"
    lost_contact = "lost_contact"
    relapse = "relapse"
    closed = "closed"


# statuses in which she is followed up: due dates apply
OPEN_STATUSES = (
    PersonStatus.pre_release,
    PersonStatus.active,
    PersonStatus.lost_contact,
    PersonStatus.relapse,
)


class CloseReason(StrEnum):
    completed = "completed"
    moved_away = "moved_away"
    returned_to_custody = "returned_to_custody"
    deceased = "deceased"


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class SupportPath(StrEnum):
    return_to_society = "return_to_society"
    community = "community"
    volunteer = "volunteer"


class VisitKind(StrEnum):
    home_visit = "home_visit"
    phone_consultation = "phone_consultation"
    follow_up = "follow_up"
    psychological_training = "psychological_training"
    family_therapy = "family_therapy"
    parent_child_counselling = "parent_child_counselling"
    talk = "talk"
    online_check_in = "online_check_in"
    attempt = "attempt"
    # group counselling (团体辅导), recorded for each attendee by a group session
    group_counselling = "group_counselling"


class RiskFlag(StrEnum):
    """Risks an officer can flag on a visit; self_harm alerts the supervisor at once."""

    relapse_signs = "relapse_signs"
    family_conflict = "family_conflict"
    no_income = "no_income"
    no_housing = "no_housing"
    health_problem = "health_problem"
    self_harm = "self_harm"


# the flags her officer must follow up soon (the unit's `risk_follow_up_hours`) and the
# supervisor sees waiting on her dashboard, self-harm first
FOLLOW_UP_RISKS = (RiskFlag.self_harm, RiskFlag.relapse_signs)


class VisitLocation(StrEnum):
    home = "home"
    phone = "phone"
    facility = "facility"
    community_office = "community_office"
    other = "other"


def _created() -> datetime:
    return utcnow()


def timestamp_field(**kwargs):
    """A UTC timestamp column, set to now by default."""
    return Field(default_factory=_created, sa_type=UTCDateTime, **kwargs)


def _new_list() -> list:
    return []


def _new_dict() -> dict:
    return {}


# A default factory of our own, not `list` or `dict`: pydantic inspects the factory's
# signature each time it builds a row, and a builtin's is parsed from text (0.1 ms for
# `list`, most of the cost of making a visit).
def json_list():
    """A JSON column holding a list, empty by default."""
    return Field(default_factory=_new_list, sa_type=JSON)


def json_dict():
    """A JSON column holding an object, empty by default."""
    return Field(default_factory=_new_dict, sa_type=JSON)


def holds_any(column, codes):
    """A WHERE clause: the JSON list in `column` holds one of `codes` (its text holds each
    code quoted, on SQLite and PostgreSQL alike)."""
    text = cast(column, String)
    return or_(*(text.like(f'%"{code}"%') for code in sorted(codes)))


def fk(target: str, *, nullable: bool = True, index: bool = True, **kwargs):
    """A UUID foreign key column."""
    return Field(
        default=None if nullable else ...,
        foreign_key=target,
        index=index,
        nullable=nullable,
        **kwargs,
    )


def default_cadence() -> list[dict]:
    """The studio's usual follow-up rhythm after release, phase by phase.

    Each phase covers days since release up to `until_day` (None: no end) and asks
    for a contact every `every_days`; the first contact is due within
    `FIRST_CONTACT_DAYS` of release and a pre-release contact `PRE_RELEASE_DAYS` before it.
    """
    return [
        {"until_day": 90, "every_days": 14},
        {"until_day": 365, "every_days": 30},
        {"until_day": None, "every_days": 90},
    ]


class Unit(SQLModel, table=True):
    """A facility or team: the boundary of a supervisor's view."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    # defaults for new support plans and the rules of this unit
    default_cadence: list[dict] = Field(default_factory=default_cadence, sa_type=JSON)
    visit_edit_window_hours: int = Field(default=72)
    lost_contact_after_days: int = Field(default=60)
    # a contact this many days after its due date still counts as on time (the dashboard)
    grace_days: int = Field(default=3)
    # a contact that flags self-harm or relapse signs is followed up within this many hours
    risk_follow_up_hours: int = Field(default=48)
    # the phone locks after this many idle minutes (and when reopened after as long away)
    lock_after_minutes: int = Field(default=5)
    # a closed person's records are anonymised this many years after closing (PIPL)
    retention_years: int = Field(default=10)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class User(SQLModel, table=True):
    """Someone who signs in: admin, supervisor, officer or peer helper."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=20, index=True)
    unit_id: uuid.UUID | None = fk("unit.id")
    locale: str = Field(default="zh_Hans", max_length=10)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    active: bool = Field(default=True)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # sign-in failures in a row; after enough of them she waits, then is locked out
    failed_logins: int = Field(default=0)
    # no sign-in before this moment (a wait after failures, or a lockout)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # set by an administrator's reset: the one-time password must be changed at sign-in
    must_change_password: bool = Field(default=False)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # second factor: the TOTP secret (encrypted with the data key), when enrolled
    totp_secret_encrypted: str | None = Field(default=None, max_length=400)
    totp_enrolled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the last time step a code was accepted for: a code is good once
    totp_last_step: int | None = None
    # reminders, in her own time zone, as HH:MM; no quiet hours when either end is None
    reminder_time: str = Field(default="08:00", max_length=5)
    evening_time: str = Field(default="18:00", max_length=5)
    quiet_start: str | None = Field(default="22:00", max_length=5)
    quiet_end: str | None = Field(default="07:00", max_length=5)
    # the number SMS reminders go to, when the unit uses the SMS channel
    reminder_phone: str | None = Field(default=None, max_length=20)
    # her WeCom (企业微信) user id, when the deployment sends reminders through WeCom
    wecom_user_id: str | None = Field(default=None, max_length=64)
    # the channel she wants reminders by first (webpush, sms, wecom), the others after it;
    # None: automatic (Web Push, then WeCom, then SMS)
    reminder_channel: str | None = Field(default=None, max_length=20)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()

    # flask-login's protocol, kept here so the model is the user object
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserSession(SQLModel, table=True):
    """One signed-in device of a user: listed in her Settings, ended by her or an admin.

    The session cookie names this row; a cookie whose row has ended (sign-out, password
    change, deactivation) or outlived its limits signs nobody in, even when replayed.
    """

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = fk("user.id", nullable=False)
    created_at: datetime = timestamp_field()
    last_seen_at: datetime = timestamp_field()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # why it ended: sign_out, ended_by_user, password_changed, deactivated, expired ...
    end_reason: str = Field(default="", max_length=30)
    # what she sees in the list: the browser and system, never a precise fingerprint
    label: str = Field(default="", max_length=120)
    ip: str | None = Field(default=None, max_length=64)


class RecoveryCode(SQLModel, table=True):
    """One of her ten one-time recovery codes for the second factor, stored hashed."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = fk("user.id", nullable=False)
    code_hash: str = Field(max_length=255)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = timestamp_field()


def version_column() -> Column:
    """A row's version, checked by every UPDATE of it (optimistic concurrency).

    Mapped as the `version_id_col`, an UPDATE says `WHERE id = :id AND version = :read`:
    of two writers that read one version, the second matches no row and its flush fails
    (`StaleDataError`), so a change is never silently overwritten. The code sets the
    next version itself (`version_id_generator: False`).
    """
    return Column("version", Integer, nullable=False, default=1)


_PERSON_VERSION = version_column()
_VISIT_VERSION = version_column()


class Person(SQLModel, table=True):
    """A woman supported after release: the subject of one plan and one ledger."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: int = Field(default=1, sa_column=_PERSON_VERSION)
    unit_id: uuid.UUID = fk("unit.id", nullable=False, index=False)  # ix_person_unit_due
    name: str = Field(max_length=60)
    # pinyin initials and full pinyin, lower case, so `zxm` finds 张晓梅
    search_keys: str = Field(default="", max_length=400)
    id_number_encrypted: str | None = Field(default=None, max_length=400)
    # keyed hash of the ID-card number: finds duplicates without decrypting
    id_number_hash: str | None = Field(default=None, max_length=64, unique=True)
    id_number_tail: str | None = Field(default=None, max_length=4)
    date_of_birth: date | None = None
    phone: str | None = Field(default=None, max_length=20, index=True)
    address: str | None = Field(default=None, max_length=300)
    emergency_contacts: list[dict] = json_list()
    facility: str | None = Field(default=None, max_length=120)
    admission_date: date | None = None
    release_date: date | None = Field(default=None, index=True)
    support_path: str = Field(default=SupportPath.return_to_society, max_length=20)
    status: str = Field(default=PersonStatus.pre_release, max_length=20, index=True)
    risk_level: str = Field(default=RiskLevel.low, max_length=10)
    assigned_officer_id: uuid.UUID | None = fk("user.id", index=False)  # ix_person_officer_due
    peer_helper_id: uuid.UUID | None = fk("user.id")
    # mirrors withdrawn_at of the consent in force, so scope and due queries need no join
    consent_withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # her standing under the schedule rules (app/schedule.py Standing), kept current by every
    # write that moves it and by the daily refresh, so due lists are indexed range queries:
    # the next follow-up due (None when none is: paused, closed, withdrawn) and why
    next_due_on: date | None = Field(default=None, index=True)
    due_reason: str | None = Field(default=None, max_length=20)
    # from this day on, lost contact is suggested
    lost_contact_from: date | None = None
    # the day the rules may answer otherwise with no write (release day, or tomorrow); a
    # new row starts long past it, so until a write or the daily refresh stores her standing,
    # due lists work it out as they read
    due_recheck_on: date | None = Field(default=date(2000, 1, 1), index=True)
    # her last contact (failed attempts do not count), shown on Today
    last_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field(index=True)

    __table_args__ = (
        # each role's due list and people list: her scope, by next due date
        Index("ix_person_officer_due", "assigned_officer_id", "next_due_on"),
        Index("ix_person_unit_due", "unit_id", "next_due_on"),
    )
    __mapper_args__ = {"version_id_col": _PERSON_VERSION, "version_id_generator": False}


class Assignment(SQLModel, table=True):
    """Who was responsible for a person, from when until when, and why."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = fk("person.id", nullable=False)
    user_id: uuid.UUID = fk("user.id", nullable=False)
    # officer or peer_helper: the part the user plays for this person
    role: str = Field(max_length=20)
    started_at: datetime = timestamp_field()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    assigned_by_id: uuid.UUID | None = fk("user.id", index=False)
    reason: str = Field(default="", max_length=300)
    created_at: datetime = timestamp_field()


class Visit(SQLModel, table=True):
    """One contact with a person, or one failed attempt at it."""

    __table_args__ = (Index("ix_visit_person_occurred", "person_id", "occurred_at"),)

    id: uuid.UUID = Field(primary_key=True)
    version: int = Field(default=1, sa_column=_VISIT_VERSION)
    person_id: uuid.UUID = fk("person.id", nullable=False, index=False)
    author_id: uuid.UUID = fk("user.id", nullable=False)
    kind: str = Field(max_length=30)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int | None = None
    location: str | None = Field(default=None, max_length=20)
    participants: list[str] = json_list()
    # a failed attempt (no answer, not at home) does not count as contact
    failure_reason: str | None = Field(default=None, max_length=30)
    mood: int | None = None
    craving: int | None = None
    risk_flags: list[str] = json_list()
    help_given: list[str] = json_list()
    difficulties: list[str] = json_list()
    agreed_actions: str = Field(default="", sa_type=String)
    notes: str = Field(default="", sa_type=String)
    next_contact_on: date | None = None
    # who wrote the current version when it is a correction (version > 1)
    edited_by_id: uuid.UUID | None = fk("user.id", index=False)
    # her own check-in through this link (author: the officer who issued it): a sign of
    # life, not an officer's contact, so it never moves her due date (app/checkin)
    check_in_link_id: uuid.UUID | None = fk("checkinlink.id", index=False)
    # she asked to talk in that check-in: due within the risk hours until an officer's contact
    asked_to_talk: bool = Field(default=False)
    # her attendance of a group session (app/groups): written and changed by the session only
    group_session_id: uuid.UUID | None = fk("groupsession.id")
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field(index=True)

    __mapper_args__ = {"version_id_col": _VISIT_VERSION, "version_id_generator": False}


class CheckInLink(SQLModel, table=True):
    """A person's personal check-in link (线上打卡): only the hash of its secret is kept.

    One in force per person: a new link revokes the one before it.
    """

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = fk("person.id", nullable=False)
    # the officer who gave it: the author of the check-ins it writes
    issued_by_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    # keyed hash (app.crypto digest) of the token in the link; the token itself is never stored
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = timestamp_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_id: uuid.UUID | None = fk("user.id", index=False)


# what a support application records, as codes (labels in app/i18n.py); peer_contact lets
# her paired peer helper see her name, phone and contact times
CONSENT_KEYS = (
    "follow_up_visits",
    "phone_contact",
    "family_contact",
    "share_with_partners",
    "peer_contact",
)
HELP_AREAS = ("family", "work", "housing", "health", "documents", "psychological")
# what a support plan may focus on: the help areas and her own will to stay off drugs
FOCUS_AREAS = (*HELP_AREAS, "drug_free_will")


class Consent(SQLModel, table=True):
    """One version of a person's support application (回归社会心理帮扶申请表).

    A change adds a new version; earlier versions stay readable. The latest version
    is the one in force; `withdrawn_at` on it means consent is withdrawn.
    """

    __table_args__ = (UniqueConstraint("person_id", "version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = fk("person.id", nullable=False)
    version: int = Field(default=1)
    signed_on: date
    # what she agrees to: one boolean per code of CONSENT_KEYS
    consents: dict = json_dict()
    # the help she asks for: family, work, housing, health, documents, psychological
    help_requested: list[str] = json_list()
    preferred_contact_times: str = Field(default="", max_length=200)
    taken_by_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_reason: str = Field(default="", max_length=300)
    created_at: datetime = timestamp_field()


class SupportPlan(SQLModel, table=True):
    """One version of a person's individual support plan (一人一策)."""

    __table_args__ = (UniqueConstraint("person_id", "version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = fk("person.id", nullable=False)
    version: int = Field(default=1)
    goals: str = Field(default="", sa_type=String)
    focus_areas: list[str] = json_list()
    # follow-up rhythm by phase, in the shape of default_cadence()
    cadence: list[dict] = Field(default_factory=default_cadence, sa_type=JSON)
    contact_kinds: list[str] = json_list()
    review_on: date | None = None
    author_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    created_at: datetime = timestamp_field()


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, when and from where: the attributable trail."""

    __table_args__ = (Index("ix_auditevent_person_at", "person_id", "at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = timestamp_field(index=True)
    user_id: uuid.UUID | None = fk("user.id")
    action: str = Field(max_length=40, index=True)
    person_id: uuid.UUID | None = fk("person.id", index=False)
    target_type: str | None = Field(default=None, max_length=30)
    target_id: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    details: dict = json_dict()
    # the hash chain: rows in `seq` order, each hashing the previous row's hash and its
    # own canonical content, so an altered, removed or inserted row breaks the chain
    seq: int | None = Field(default=None, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)


class DeviceKey(SQLModel, table=True):
    """The server's half of one phone's offline store key, for one user on one device.

    The phone's data key is wrapped by her PIN and by this key; the server hands it over
    only to a full online sign-in, and destroys it when the device's session is ended or
    she is deactivated, so what is left on that phone can never be opened again.
    """

    __table_args__ = (UniqueConstraint("user_id", "device_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = fk("user.id", nullable=False)
    # minted by the phone, kept in its storage: names the device, not the person
    device_id: uuid.UUID
    # the sign-in session that last fetched it: ending that session destroys the key
    session_id: uuid.UUID | None = fk("usersession.id")
    # 32 random bytes, encrypted with the data key at rest; None once destroyed
    key_encrypted: str | None = Field(default=None, max_length=400)
    created_at: datetime = timestamp_field()
    destroyed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- visits: edit history ---


class VisitVersion(SQLModel, table=True):
    """An earlier version of a visit, kept when it is corrected: nothing is overwritten.

    The current version lives in `Visit`; each correction first copies the version it
    replaces here, with who wrote that version and when.
    """

    __table_args__ = (UniqueConstraint("visit_id", "version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    visit_id: uuid.UUID = fk("visit.id", nullable=False, index=False)
    version: int
    # the visit's fields as they were, in the shape of app.visits.fields.snapshot()
    content: dict = json_dict()
    author_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    saved_at: datetime = Field(sa_type=UTCDateTime)
    replaced_at: datetime = timestamp_field()


# --- people and their ledgers (issue 3) ---


class StatusChange(SQLModel, table=True):
    """A change of a person's status, with its reason and the date it took effect."""

    __table_args__ = (Index("ix_statuschange_person_effective", "person_id", "effective_on"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = fk("person.id", nullable=False, index=False)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    # for closing: completed, moved_away, returned_to_custody or deceased
    reason: str = Field(default="", max_length=30)
    note: str = Field(default="", max_length=300)
    effective_on: date
    author_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    created_at: datetime = timestamp_field()


# reminders: push subscriptions, the once-only ledger and every delivery attempt


class ReminderKind(StrEnum):
    digest = "digest"  # the morning count of visits due today and overdue
    evening = "evening"  # tomorrow's home visits, the evening before
    alert = "alert"  # a visit recorded a self-harm risk: the supervisors, at once
    test = "test"  # "send me a test reminder"


class ReminderStatus(StrEnum):
    pending = "pending"  # waiting for quiet hours to end
    sending = "sending"  # claimed by one sender; nobody else sends it while its lease holds
    sent = "sent"  # at least one channel delivered it
    failed = "failed"  # every channel refused or gave up
    no_channel = "no_channel"  # nowhere to send it
    nothing_due = "nothing_due"  # a digest or heads-up with nothing to say


class PushSubscription(SQLModel, table=True):
    """One browser on one device that accepts Web Push for a user."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = fk("user.id", nullable=False)
    endpoint: str = Field(max_length=1000, unique=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    label: str = Field(default="", max_length=120)
    created_at: datetime = timestamp_field()
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Reminder(SQLModel, table=True):
    """The ledger: one row per reminder, so each (user, kind, day, ref) goes out once.

    `ref` tells apart reminders of one kind on one day (the visit of an alert, a
    test's own id); it is empty for the digest and the evening heads-up.
    """

    __table_args__ = (UniqueConstraint("user_id", "kind", "day", "ref"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    kind: str = Field(max_length=20)
    day: date = Field(index=True)
    ref: str = Field(default="", max_length=64)
    status: str = Field(default=ReminderStatus.sending, max_length=20, index=True)
    not_before: datetime = timestamp_field()
    # what the message says: counts and a link, never a name
    details: dict = json_dict()
    created_at: datetime = timestamp_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # a claim (status sending) holds until then; after it, the next run takes the row over
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReminderDelivery(SQLModel, table=True):
    """One attempt to deliver a reminder through one channel to one target, and how it went."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reminder_id: uuid.UUID = fk("reminder.id", nullable=False)
    channel: str = Field(max_length=20)
    # a push subscription's id or a masked phone number: never the endpoint itself
    target: str = Field(max_length=64)
    attempt: int = Field(default=1)
    outcome: str = Field(max_length=20)
    status_code: int | None = None
    detail: str = Field(default="", max_length=300)
    at: datetime = timestamp_field()


# --- standard scales: PHQ-9, GAD-7, craving and mood, scored by the app ---


class ScaleResult(SQLModel, table=True):
    """One standard scale taken with a person, on its own or during a visit, with its score.

    `scale` is a code of app.scales.definitions.SCALES; `answers` one value per item;
    `total` and `band` are worked out from them by that definition when saved.
    """

    __table_args__ = (Index("ix_scaleresult_person_taken", "person_id", "taken_at"),)

    id: uuid.UUID = Field(primary_key=True)
    version: int = Field(default=1)
    person_id: uuid.UUID = fk("person.id", nullable=False, index=False)
    # the visit it was taken in, when it was
    visit_id: uuid.UUID | None = fk("visit.id")
    author_id: uuid.UUID = fk("user.id", nullable=False)
    scale: str = Field(max_length=20)
    answers: list[int] = json_list()
    total: int
    band: str = Field(max_length=30)
    # the flags its answers raised (PHQ-9 item 9 above 0: self_harm), read as a visit's are
    risk_flags: list[str] = json_list()
    taken_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()

    @property
    def occurred_at(self) -> datetime:
        """When it was taken: the name the risk alerts read a flagged record's time by."""
        return self.taken_at


# --- offline sync (issue 5): changes that could not be applied as sent, and receipts ---


class SyncConflict(SQLModel, table=True):
    """A change a phone sent that met a newer server version: kept whole for people to resolve.

    Nothing is overwritten: the server's record stays as it is until the officer who sent
    the change picks, field by field, what the next version holds.
    """

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # the outbox item that carried the change: a resend finds this row again
    item_id: uuid.UUID = Field(unique=True)
    user_id: uuid.UUID = fk("user.id", nullable=False)
    person_id: uuid.UUID = fk("person.id", nullable=False)
    # visit.create, visit.edit or person.contact
    kind: str = Field(max_length=20)
    # the visit or the person the change is for
    record_id: uuid.UUID = Field(index=True)
    base_version: int | None = None
    # her change, cleaned, and the server's record when it arrived (both snapshots)
    incoming: dict = json_dict()
    server: dict = json_dict()
    server_version: int
    created_at: datetime = timestamp_field()
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: uuid.UUID | None = fk("user.id", index=False)
    # the version her resolution made (or the one kept, when nothing needed to change)
    resolved_version: int | None = None


class SyncReceipt(SQLModel, table=True):
    """The answer given to one outbox item, so a resent item gets the same answer."""

    item_id: uuid.UUID = Field(primary_key=True)
    user_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    kind: str = Field(max_length=20)
    record_id: uuid.UUID
    # sha-256 of the item as sent: the same id with other content is not a resend
    digest: str = Field(max_length=64)
    status: str = Field(max_length=20)
    version: int | None = None
    conflict_id: uuid.UUID | None = fk("syncconflict.id", index=False)
    created_at: datetime = timestamp_field()


# --- release preparation (出所准备): six items, from six months before her release ---


class ReleaseItem(StrEnum):
    """What is prepared before she leaves, so the gap between inside and outside is seamless."""

    support_application = "support_application"  # 帮扶申请已签署
    family_contact = "family_contact"  # 已联系家属
    housing = "housing"  # 住房落实
    work_or_training = "work_or_training"  # 就业或培训安排
    community_handover = "community_handover"  # 社区康复交接
    first_contact_booked = "first_contact_booked"  # 出所当周首次联系已预约


_RELEASE_PREPARATION_VERSION = version_column()


class ReleasePreparation(SQLModel, table=True):
    """One item of her release preparation: done or not, who marked it, on which day.

    One row per (person, item), made (with the form's UUID) the first time the item is
    marked; each later mark, done or undone, is its next version, checked by the UPDATE as
    a visit's is. The audit trail keeps every mark.
    """

    __table_args__ = (UniqueConstraint("person_id", "item"),)

    id: uuid.UUID = Field(primary_key=True)
    version: int = Field(default=1, sa_column=_RELEASE_PREPARATION_VERSION)
    person_id: uuid.UUID = fk("person.id", nullable=False, index=False)  # the unique key's
    item: str = Field(max_length=30)
    done: bool = Field(default=False)
    note: str = Field(default="", max_length=200)
    marked_by_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    # the local day of the last mark (the schedule's zone): "done before her release day"
    marked_on: date
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()

    __mapper_args__ = {
        "version_id_col": _RELEASE_PREPARATION_VERSION,
        "version_id_generator": False,
    }


# --- group sessions (issue 15): one session, one derived visit per attendee ---


_GROUP_SESSION_VERSION = version_column()


class GroupSession(SQLModel, table=True):
    """A group counselling, training, peer group talk or family therapy with several people.

    Each attendee's attendance is a `Visit` of hers (`group_session_id` set, its id
    uuid5(session id, her id)) written through the visit write path, so her ledger, her
    due date and the reports count it; the attendees are the people of those visits.
    Versioned like a visit: each correction keeps the version it replaces.
    """

    id: uuid.UUID = Field(primary_key=True)
    version: int = Field(default=1, sa_column=_GROUP_SESSION_VERSION)
    unit_id: uuid.UUID = fk("unit.id", nullable=False)
    # who led it: an officer or a peer helper of the unit (the author unless chosen)
    leader_id: uuid.UUID = fk("user.id", nullable=False)
    author_id: uuid.UUID = fk("user.id", nullable=False)
    edited_by_id: uuid.UUID | None = fk("user.id", index=False)
    kind: str = Field(max_length=30)
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    duration_minutes: int | None = None
    online: bool = Field(default=False)
    place: str = Field(default="", max_length=200)
    topic: str = Field(max_length=200)
    notes: str = Field(default="", sa_type=String)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()

    __mapper_args__ = {"version_id_col": _GROUP_SESSION_VERSION, "version_id_generator": False}


class GroupSessionVersion(SQLModel, table=True):
    """An earlier version of a group session, attendee list included, kept when corrected."""

    __table_args__ = (UniqueConstraint("group_session_id", "version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    group_session_id: uuid.UUID = fk("groupsession.id", nullable=False, index=False)
    version: int
    # in the shape of app.groups.fields.group_snapshot()
    content: dict = json_dict()
    author_id: uuid.UUID = fk("user.id", nullable=False, index=False)
    saved_at: datetime = Field(sa_type=UTCDateTime)
    replaced_at: datetime = timestamp_field()


__all__ = [
    "Assignment",
    "AuditEvent",
    "CheckInLink",
    "CloseReason",
    "DeviceKey",
    "GroupSession",
    "GroupSessionVersion",
    "Consent",
    "SupportPlan",
    "Person",
    "PersonStatus",
    "PushSubscription",
    "RecoveryCode",
    "ReleaseItem",
    "ReleasePreparation",
    "Reminder",
    "ReminderDelivery",
    "ReminderKind",
    "ReminderStatus",
    "RiskLevel",
    "RiskFlag",
    "Role",
    "ScaleResult",
    "StatusChange",
    "SupportPath",
    "SyncConflict",
    "SyncReceipt",
    "Unit",
    "User",
    "UserSession",
    "Visit",
    "VisitKind",
    "VisitVersion",
    "VisitLocation",
]
