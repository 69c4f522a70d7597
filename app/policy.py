"""Who may see and do what: the one place that answers it.

Views and APIs ask `can(user, action, target)` or call `require(...)`, and scope
queries with `people_scope(user)`; nothing else checks roles.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, false, or_, true
from sqlalchemy.orm import aliased, object_session
from sqlmodel import Session, select
from werkzeug.exceptions import Forbidden, NotFound

from app.models import (
    Assignment,
    AuditEvent,
    Consent,
    GroupSession,
    Person,
    PersonStatus,
    Role,
    Unit,
    User,
    Visit,
    VisitKind,
)


class Action(StrEnum):
    person_list = "person.list"
    person_view = "person.view"
    # the officers' records of her: plan, support application, every visit, status history,
    # address, ID number and emergency contacts (a peer helper sees her peer view instead)
    person_records = "person.records"
    person_create = "person.create"
    person_edit = "person.edit"
    person_assign = "person.assign"
    person_reveal_id = "person.reveal_id"
    person_status = "person.status"
    person_close = "person.close"
    # correcting her phone or address, in the field and offline
    person_contact = "person.contact"
    consent_record = "consent.record"
    plan_record = "plan.record"
    visit_create = "visit.create"
    visit_edit = "visit.edit"
    user_manage = "user.manage"  # create, edit, hand over, deactivate, reset: an admin's
    user_view = "user.view"  # the users list and a user's page (a supervisor: her unit's)
    user_unlock = "user.unlock"  # lift a sign-in lockout
    unit_manage = "unit.manage"
    # the unit's (a director's: every unit's) figures and periodic reports: aggregates only
    report_view = "report.view"
    # every unit's figures side by side (the bureau)
    city_view = "city.view"
    # her unit's people and visits as a file, with a stated reason, audited
    personal_export = "person.export"
    offline_copy = "offline.copy"
    # the unit's dashboard: Today for the whole unit, by officer, self-harm flags first
    unit_overview = "unit.overview"
    reminder_receive = "reminder.receive"  # due-visit reminders for her own scope
    risk_alert_receive = "risk_alert.receive"  # an alert when a visit in her unit flags self-harm
    audit_view = "audit.view"  # the audit trail and its CSV: her unit's (everyone's for an admin)
    # the complete record of one person for her subject-access request (PIPL art. 45)
    subject_access = "person.subject_access"
    # give, text or revoke her personal self check-in link (线上打卡)
    check_in_link = "person.check_in_link"
    # tick or untick an item of her release preparation (出所准备)
    release_prepare = "release.prepare"
    # record a group session for people of her caseload (her pairs, for a peer helper)
    group_record = "group.record"
    # read a group session: its author, its leader, the supervisors of its unit
    group_view = "group.view"
    # correct a group session: its author within the unit's window, a supervisor any time
    group_edit = "group.edit"


# actions whose target is a person: a refusal must not reveal that she exists
PERSON_ACTIONS = {
    Action.person_view,
    Action.person_records,
    Action.person_edit,
    Action.person_assign,
    Action.person_reveal_id,
    Action.person_status,
    Action.person_close,
    Action.person_contact,
    Action.consent_record,
    Action.plan_record,
    Action.visit_create,
}
# actions that change a ledger: none once it is closed (a closed ledger is read-only)
WRITE_ACTIONS = PERSON_ACTIONS - {
    Action.person_view,
    Action.person_records,
    Action.person_reveal_id,
}

# Revealing a full ID-card number is the supervisor's alone: she handles the formal
# paperwork. An officer confirms identity with the last four digits; an administrator
# keeps the system and needs no one's number (PIPL: the least data for the task).
# Case work (support applications, plans, status) is for officers and supervisors.
ROLE_ACTIONS: dict[str, set[Action]] = {
    Role.admin: {
        Action.person_list,
        Action.person_view,
        Action.person_records,
        Action.person_create,
        Action.person_edit,
        Action.person_assign,
        Action.user_manage,
        Action.unit_manage,
        Action.report_view,
        Action.unit_overview,
    },
    Role.supervisor: {
        Action.person_list,
        Action.person_view,
        Action.person_records,
        Action.person_create,
        Action.person_edit,
        Action.person_assign,
        Action.person_reveal_id,
        Action.person_status,
        Action.person_close,
        Action.person_contact,
        Action.consent_record,
        Action.plan_record,
        Action.visit_create,
        Action.visit_edit,
        Action.report_view,
        Action.offline_copy,
        Action.unit_overview,
        Action.reminder_receive,
        Action.risk_alert_receive,
    },
    # the field roles keep their caseload on the phone; an admin has no caseload to keep
    Role.officer: {
        Action.person_list,
        Action.person_view,
        Action.person_records,
        Action.person_status,
        Action.person_contact,
        Action.consent_record,
        Action.plan_record,
        Action.visit_create,
        Action.visit_edit,
        Action.offline_copy,
        Action.reminder_receive,
    },
    # a peer helper sees her name, phone and contact times and her own talks, no more
    Role.peer_helper: {
        Action.person_list,
        Action.person_view,
        Action.visit_create,
        Action.offline_copy,
        Action.visit_edit,
        Action.reminder_receive,
    },
    # the bureau reads figures only: no person, no ledger, no user account
    Role.director: {
        Action.report_view,
        Action.city_view,
    },
}
ROLE_ACTIONS[Role.admin] |= {Action.city_view}
ROLE_ACTIONS[Role.supervisor] |= {Action.personal_export}
# a peer helper logs talks and online check-ins, and nothing more
PEER_HELPER_VISIT_KINDS = frozenset({VisitKind.talk, VisitKind.online_check_in})


# the consent key of a support application that lets a peer helper contact her
PEER_CONTACT = "peer_contact"


def peer_contact_in_force() -> ColumnElement[bool]:
    """A WHERE clause on people: the support application in force agrees to peer contact.

    In force means the latest version, not withdrawn; a key that is missing is a no.
    """
    later = aliased(Consent)
    newer_version = exists().where(
        later.person_id == Consent.person_id, later.version > Consent.version
    )
    return and_(
        Person.consent_withdrawn_at.is_(None),
        exists().where(
            Consent.person_id == Person.id,
            Consent.withdrawn_at.is_(None),
            Consent.consents[PEER_CONTACT].as_boolean(),
            ~newer_version,
        ),
    )


def agrees_to_peer_contact(session: Session, person: Person) -> bool:
    """Does her support application in force agree to a peer helper's contact?"""
    query = select(Person.id).where(Person.id == person.id, peer_contact_in_force())
    return session.exec(query).first() is not None


def assignment_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause: the people this user is responsible for, seen or not.

    The people she may see now are among them; a phone forgets those she may no longer see.
    """
    if not user.active:
        return false()
    match user.role:
        case Role.admin:
            return true()
        case Role.supervisor:
            return Person.unit_id == user.unit_id
        case Role.officer:
            return Person.assigned_officer_id == user.id
        case Role.peer_helper:
            return Person.peer_helper_id == user.id
    return false()


def people_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause selecting exactly the people this user may see.

    A peer helper sees the women she is paired with who agreed to a peer's contact.
    """
    if user.active and user.role == Role.peer_helper:
        return and_(assignment_scope(user), peer_contact_in_force())
    return assignment_scope(user)


def colleagues_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause on users: those whose names she may see (her unit; all for an admin)."""
    if not user.active or user.unit_id is None and user.role != Role.admin:
        return false()
    if user.role == Role.admin:
        return true()
    return User.unit_id == user.unit_id


def units_scope(user: User, unit_id: ColumnElement) -> ColumnElement[bool]:
    """A WHERE clause on any unit id column: the units whose figures she may read.

    Her own unit for a supervisor; every unit for a director or an administrator.
    """
    if not can(user, Action.report_view):
        return false()
    if user.role in (Role.director, Role.admin):
        return true()
    return unit_id == user.unit_id


def roles_allowed(action: Action) -> list[str]:
    """The roles that may do this action: for queries that pick users, like whom to remind."""
    return sorted(role for role, actions in ROLE_ACTIONS.items() if action in actions)


def sees_person(user: User, person: Person) -> bool:
    """True when the person is in this user's scope."""
    if not user.active:
        return False
    match user.role:
        case Role.admin:
            return True
        case Role.supervisor:
            return person.unit_id == user.unit_id
        case Role.officer:
            return person.assigned_officer_id == user.id
        case Role.peer_helper:
            return person.peer_helper_id == user.id and _agrees_to_peer_contact(user, person)
    return False


def _agrees_to_peer_contact(user: User, person: Person) -> bool:
    """Is she among the women this helper may see? Answered by `people_scope` itself.

    The ids come in one query per transaction, so a page asking about each of her people
    costs one query in all; a person with no session (never stored) is not seen.
    """
    if person.consent_withdrawn_at is not None:
        return False
    session = object_session(person)
    if session is None:
        return False
    key = ("peer_scope", user.id)
    transaction, ids = session.info.get(key, (None, frozenset()))
    if transaction is None or transaction is not session.get_transaction():
        ids = frozenset(session.execute(select(Person.id).where(people_scope(user))).scalars())
        session.info[key] = (session.get_transaction(), ids)
    return person.id in ids


def sees_record(user: User, person: Person, author_id) -> bool:
    """May this user read a record in a person's ledger?

    Her current people's whole ledger; after a reassignment, only what she wrote herself.
    A peer helper reads only what she wrote herself.
    """
    if user.active and author_id == user.id:
        return True
    return can(user, Action.person_records, person)


def open_for_contact(person: Person) -> bool:
    """Visits may be recorded or scheduled: the ledger is open and consent not withdrawn."""
    return person.status != PersonStatus.closed and person.consent_withdrawn_at is None


def can(user: User | None, action: Action, target: object = None) -> bool:
    """May this user do this action to that target?"""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if action not in ROLE_ACTIONS.get(user.role, set()):
        return False
    if isinstance(target, Person):
        if action in WRITE_ACTIONS and target.status == PersonStatus.closed:
            return False
        if action == Action.visit_create and not open_for_contact(target):
            return False
        return sees_person(user, target)
    if isinstance(target, User):
        return sees_user(user, target)
    if isinstance(target, GroupSession):
        return sees_group(user, target)
    return True


def require(user: User | None, action: Action, target: object = None) -> None:
    """Abort unless allowed: 404 for a person out of scope, 403 otherwise.

    A person she may see but not change (a closed ledger, a role without the right)
    is a 403: it reveals nothing she cannot already read.
    """
    if can(user, action, target):
        return
    if action in PERSON_ACTIONS and not (
        isinstance(target, Person) and can(user, Action.person_view, target)
    ):
        raise NotFound()
    if isinstance(target, User) and action in USER_ACTIONS and not sees_user(user, target):
        raise NotFound()
    raise Forbidden()


def visit_kinds_for(user: User) -> list[str]:
    """The kinds of visit this user may record on the visit form (group counselling is
    recorded as a group session)."""
    if user.role == Role.peer_helper:
        return [kind.value for kind in VisitKind if kind in PEER_HELPER_VISIT_KINDS]
    return [kind.value for kind in VisitKind if kind not in GROUP_ONLY_KINDS]


def was_assigned(session: Session, user: User, person: Person, moment: datetime) -> bool:
    """True when the assignment history has this user responsible for her at that moment."""
    query = (
        select(Assignment.id)
        .where(
            Assignment.person_id == person.id,
            Assignment.user_id == user.id,
            Assignment.role == user.role,
            Assignment.started_at <= moment,
            or_(Assignment.ended_at.is_(None), Assignment.ended_at > moment),
        )
        .limit(1)
    )
    return session.exec(query).first() is not None


def may_record_visit(
    session: Session, user: User, person: Person, *, kind: str, occurred_at: datetime
) -> bool:
    """May this user record a visit of this kind with her at that moment?

    Her own people now, or a visit from a time she was assigned to the person: a visit
    recorded offline before a reassignment still counts.
    """
    if not can(user, Action.visit_create):
        return False
    if user.role == Role.peer_helper and kind not in PEER_HELPER_VISIT_KINDS:
        return False
    if sees_person(user, person):
        return True
    if user.role not in (Role.officer, Role.peer_helper):
        return False
    if user.role == Role.peer_helper and not agrees_to_peer_contact(session, person):
        return False  # a peer's talk is kept only while she agrees to a peer's contact
    return was_assigned(session, user, person, occurred_at)


def may_edit_visit(user: User, visit: Visit, person: Person, unit: Unit, *, now: datetime) -> bool:
    """The supervisor of her unit any time; the author within the unit's edit window.

    Nobody corrects her own check-in (sent through her link): it stays as she wrote it;
    an attendance of a group session is corrected through the session.
    """
    if not can(user, Action.visit_edit) or visit.check_in_link_id is not None:
        return False
    if visit.group_session_id is not None:
        return False  # corrected by correcting its group session (app/groups)
    if user.role == Role.supervisor:
        return person.unit_id == user.unit_id
    window = timedelta(hours=unit.visit_edit_window_hours)
    return visit.author_id == user.id and now - visit.created_at <= window


def init_app(app) -> None:
    """Offer `can(action, target)` to templates, for the signed-in user."""
    from flask_login import current_user

    # the user behind the proxy: `can` reads several of her attributes, and each read
    # through the proxy looks her up again
    app.jinja_env.globals["can"] = lambda action, target=None: can(
        current_user._get_current_object(), Action(action), target
    )


# --- user management: an admin manages everyone; a supervisor sees and unlocks her unit ---

USER_ACTIONS = {Action.user_manage, Action.user_view, Action.user_unlock}
ROLE_ACTIONS[Role.admin] |= {Action.user_view, Action.user_unlock}
ROLE_ACTIONS[Role.supervisor] |= {Action.user_view, Action.user_unlock}


def sees_user(actor: User, target: User) -> bool:
    """Is this account in her view? Everyone for an admin, her unit's for a supervisor."""
    if not actor.active:
        return False
    if actor.role == Role.admin:
        return True
    if actor.role != Role.supervisor or actor.unit_id is None:
        return False
    return target.unit_id == actor.unit_id


# --- the audit trail (issue 11): a supervisor reads her unit's, an admin everyone's ---

PERSON_ACTIONS.add(Action.subject_access)  # a read: not among WRITE_ACTIONS, closed or not
ROLE_ACTIONS[Role.admin] |= {Action.audit_view}
ROLE_ACTIONS[Role.supervisor] |= {Action.audit_view, Action.subject_access}


def audit_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause on audit events: her unit's people and users (all for an admin)."""
    if not user.active or not can(user, Action.audit_view):
        return false()
    if user.role == Role.admin:
        return true()
    return or_(
        AuditEvent.person_id.in_(select(Person.id).where(Person.unit_id == user.unit_id)),
        AuditEvent.user_id.in_(select(User.id).where(User.unit_id == user.unit_id)),
    )


# --- standard scales: entered by those who record an officer's visits with her ---


def may_record_scale(session: Session, user: User, person: Person, *, taken_at: datetime) -> bool:
    """May this user enter a scale for her? Whoever may record a visit with her then, and
    reads her ledger (a peer helper logs talks, and sees no scale).

    The ledger being open and her consent in force are the write path's to check, as for
    a visit, so it can say which.
    """
    if not can(user, Action.person_records):
        return False
    return may_record_visit(session, user, person, kind=VisitKind.follow_up, occurred_at=taken_at)


# --- release preparation: whoever keeps her support plan ticks its items (not a peer helper) ---

PERSON_ACTIONS.add(Action.release_prepare)
WRITE_ACTIONS.add(Action.release_prepare)  # none once her ledger is closed
ROLE_ACTIONS[Role.officer] |= {Action.release_prepare}
ROLE_ACTIONS[Role.supervisor] |= {Action.release_prepare}


# --- self check-in links: whoever may record an officer's visit with her gives them ---

PERSON_ACTIONS.add(Action.check_in_link)
WRITE_ACTIONS.add(Action.check_in_link)  # none once her ledger is closed
ROLE_ACTIONS[Role.officer] |= {Action.check_in_link}
ROLE_ACTIONS[Role.supervisor] |= {Action.check_in_link}


def may_manage_check_in_link(user: User, person: Person) -> bool:
    """May this user give, text or revoke her check-in link? Her officer or her unit's
    supervisor, while visits may be recorded with her (open ledger, consent in force)."""
    return can(user, Action.check_in_link, person) and can(user, Action.visit_create, person)


# --- group sessions: recorded for several people of her caseload at once ---

# the kinds a group session may be; group counselling is recorded only as a group
GROUP_KINDS = (
    VisitKind.group_counselling,
    VisitKind.psychological_training,
    VisitKind.talk,
    VisitKind.family_therapy,
    VisitKind.parent_child_counselling,
)
GROUP_ONLY_KINDS = frozenset({VisitKind.group_counselling})
GROUP_ACTIONS = {Action.group_record, Action.group_view, Action.group_edit}
for _role in (Role.officer, Role.supervisor, Role.peer_helper):
    ROLE_ACTIONS[_role] |= GROUP_ACTIONS
# a group session may have this many attendees at most
MAX_ATTENDEES = 60


def group_kinds_for(user: User) -> list[str]:
    """The kinds of group session this user may record (a peer helper: a peer group talk)."""
    if user.role == Role.peer_helper:
        return [kind.value for kind in GROUP_KINDS if kind in PEER_HELPER_VISIT_KINDS]
    return [kind.value for kind in GROUP_KINDS]


def sees_group(user: User, group: GroupSession) -> bool:
    """May she read this group session? Its author, its leader, the supervisors of its unit.

    Its attendees' names are each shown only to whoever may see that person.
    """
    if not user.active:
        return False
    if user.id in (group.author_id, group.leader_id):
        return True
    return user.role == Role.supervisor and user.unit_id == group.unit_id


def may_edit_group(user: User, group: GroupSession, unit: Unit, *, now: datetime) -> bool:
    """The supervisor of its unit any time; its author within the unit's edit window."""
    if not can(user, Action.group_edit, group):
        return False
    if user.role == Role.supervisor:
        return group.unit_id == user.unit_id
    window = timedelta(hours=unit.visit_edit_window_hours)
    return group.author_id == user.id and now - group.created_at <= window
