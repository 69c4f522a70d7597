"""Who may see and do what: the one place that answers it.

Views and APIs ask `can(user, action, target)` or call `require(...)`, and scope
queries with `people_scope(user)`; nothing else checks roles.
"""

from enum import StrEnum

from sqlalchemy import ColumnElement, false, true
from werkzeug.exceptions import Forbidden, NotFound

from app.models import Person, Role, User


class Action(StrEnum):
    person_list = "person.list"
    person_view = "person.view"
    person_create = "person.create"
    person_edit = "person.edit"
    person_assign = "person.assign"
    person_reveal_id = "person.reveal_id"
    visit_create = "visit.create"
    user_manage = "user.manage"
    unit_manage = "unit.manage"
    report_view = "report.view"
    reminder_receive = "reminder.receive"  # due-visit reminders for her own scope
    risk_alert_receive = "risk_alert.receive"  # an alert when a visit in her unit flags self-harm


# actions whose target is a person: a refusal must not reveal that she exists
PERSON_ACTIONS = {
    Action.person_view,
    Action.person_edit,
    Action.person_assign,
    Action.person_reveal_id,
    Action.visit_create,
}

ROLE_ACTIONS: dict[str, set[Action]] = {
    Role.admin: {
        Action.person_list,
        Action.person_view,
        Action.person_create,
        Action.person_edit,
        Action.person_assign,
        Action.user_manage,
        Action.unit_manage,
        Action.report_view,
    },
    Role.supervisor: {
        Action.person_list,
        Action.person_view,
        Action.person_create,
        Action.person_edit,
        Action.person_assign,
        Action.person_reveal_id,
        Action.visit_create,
        Action.report_view,
        Action.reminder_receive,
        Action.risk_alert_receive,
    },
    Role.officer: {
        Action.person_list,
        Action.person_view,
        Action.visit_create,
        Action.reminder_receive,
    },
    Role.peer_helper: {
        Action.person_list,
        Action.person_view,
        Action.visit_create,
        Action.reminder_receive,
    },
}


def people_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause selecting exactly the people this user may see."""
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
            return person.peer_helper_id == user.id
    return False


def can(user: User | None, action: Action, target: object = None) -> bool:
    """May this user do this action to that target?"""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if action not in ROLE_ACTIONS.get(user.role, set()):
        return False
    if isinstance(target, Person):
        return sees_person(user, target)
    return True


def require(user: User | None, action: Action, target: object = None) -> None:
    """Abort unless allowed: 404 for a person out of scope, 403 otherwise."""
    if can(user, action, target):
        return
    if action in PERSON_ACTIONS:
        raise NotFound()
    raise Forbidden()


def init_app(app) -> None:
    """Offer `can(action, target)` to templates, for the signed-in user."""
    from flask_login import current_user

    app.jinja_env.globals["can"] = lambda action, target=None: can(
        current_user, Action(action), target
    )
