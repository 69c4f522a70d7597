"""Users and units: creating them and checking passwords, with no Flask in it."""

import uuid

from sqlmodel import Session, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Role, Unit, User
from app.passwords import password_problem
from app.types import utcnow

# compared against when the username is unknown, so timing does not reveal which users exist
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def N_(message: str) -> str:
    """Mark a message for translation where it is shown, not where it is raised."""
    return message


class AccountError(ValueError):
    """A user or unit that cannot be created as asked; `field` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_matches(user: User | None, password: str) -> bool:
    """Is this her password? For no user, as slow as for one, and False."""
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(user.password_hash, password)


def create_unit(session: Session, *, name: str) -> Unit:
    name = name.strip()
    if not name:
        raise AccountError("name", N_("A unit needs a name."))
    if session.exec(select(Unit).where(func.lower(Unit.name) == name.lower())).first():
        raise AccountError("name", N_("A unit with this name already exists."))
    unit = Unit(name=name)
    session.add(unit)
    return unit


UNIT_RULES = (
    "grace_days",
    "risk_follow_up_hours",
    "lost_contact_after_days",
    "visit_edit_window_hours",
    "lock_after_minutes",
)


def update_unit(session: Session, unit: Unit, *, name: str, **rules: int) -> dict:
    """Rename a unit and set its rules (`UNIT_RULES`); what changed, as {field: [was, now]}."""
    name = name.strip()
    if not name:
        raise AccountError("name", N_("A unit needs a name."))
    clash = session.exec(
        select(Unit).where(func.lower(Unit.name) == name.lower(), Unit.id != unit.id)
    ).first()
    if clash:
        raise AccountError("name", N_("A unit with this name already exists."))
    wanted = {"name": name, **{key: rules[key] for key in UNIT_RULES}}
    changed = {
        key: [getattr(unit, key), value]
        for key, value in wanted.items()
        if getattr(unit, key) != value
    }
    for key, (_was, value) in changed.items():
        setattr(unit, key, value)
    if changed:
        unit.updated_at = utcnow()
        session.add(unit)
    return changed


def check_role_and_unit(session: Session, role: str, unit_id: uuid.UUID | None) -> None:
    """A known role, and a unit that exists for everyone but an administrator."""
    if role not in set(Role):
        raise AccountError("role", N_("Unknown role."))
    if role == Role.director and unit_id is not None:
        raise AccountError("unit_id", N_("A director oversees every unit: leave the unit empty."))
    if role not in (Role.admin, Role.director) and unit_id is None:
        raise AccountError(
            "unit_id", N_("Everyone but an administrator or a director belongs to a unit.")
        )
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise AccountError("unit_id", N_("Unknown unit."))


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    unit_id: uuid.UUID | None,
    locale: str = "zh_Hans",
    timezone: str = "Asia/Shanghai",
    environment: str = "production",
    password_hash: str | None = None,
) -> User:
    """A new user; the messages are English source strings, translated by the caller.

    The password follows app.passwords' rules for `environment` (the CLOVER_ENV it is
    created under; by default the strictest, production's). `password_hash`, a hash of
    that same password made already, spares hashing it again (the demo's accounts share
    the published password).
    """
    username = username.strip().lower()
    if not username or not username.replace("_", "").replace("-", "").isalnum():
        raise AccountError("username", N_("Use letters, digits, - and _ only."))
    check_role_and_unit(session, role, unit_id)
    problem = password_problem(password, username=username, environment=environment)
    if problem is not None:
        raise AccountError("password", problem)
    if session.exec(select(User).where(User.username == username)).first():
        raise AccountError("username", N_("This username is taken."))
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=password_hash or hash_password(password),
        role=role,
        unit_id=unit_id,
        locale=locale,
        timezone=timezone,
    )
    session.add(user)
    return user
