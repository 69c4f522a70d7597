"""The second factor: a time-based one-time password (TOTP) and recovery codes. No Flask here.

Supervisors and administrators must have one; officers and peer helpers may. The secret is
stored encrypted with the data key; a code is good within one 30-second step either side
of now, and only once (the last accepted step is kept: an older or equal step is a
replay). Ten one-time recovery codes are shown once and kept only as hashes.
"""

import hmac
import secrets
import string
from datetime import datetime

import pyotp
import segno
from sqlmodel import Session, delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit
from app.accounts import N_
from app.auth import lockout
from app.crypto import IdCipher, get_cipher
from app.models import RecoveryCode, Role, User
from app.sessions import end_sessions

ISSUER = "Clover"
REQUIRED_ROLES = (Role.supervisor, Role.admin, Role.director)
RECOVERY_CODES = 10
# a code of the step before or after now is still good: clocks drift, typing takes time
DRIFT_STEPS = 1
# base32 in lower case: no 0 or 1 to mistake for o or l when she types one from paper
_RECOVERY_ALPHABET = string.ascii_lowercase + "234567"
# ten base32 characters: 50 random bits each. They are worthless without her password, used
# once, and ten at most, so a salted PBKDF2 of 10,000 rounds is enough: guessing one from a
# stolen hash still costs about 2^50 of these, while checking all ten costs ~0.1 s
_RECOVERY_HASH = "pbkdf2:sha256:10000"


class Totp(pyotp.TOTP):
    """pyotp's TOTP, taking secrets of 80 bits: the published demo secret has 80.

    Every secret made here has 160 bits (new_secret); the floor only lets a shorter one
    that is already stored (the demo's) be read.
    """

    min_secret_length_bits = 80


class FactorError(ValueError):
    """A second factor that cannot be set up or changed as asked (English source text)."""


def required_for(user: User) -> bool:
    """Must she give a second factor at sign-in (whether or not she has one yet)?"""
    return user.role in REQUIRED_ROLES


def is_enrolled(user: User) -> bool:
    return user.totp_enrolled_at is not None and bool(user.totp_secret_encrypted)


def new_secret() -> str:
    """A fresh base32 secret of 160 bits, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, for reading and typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, username: str) -> str:
    return Totp(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str, *, title: str) -> str:
    """The otpauth URI as an inline SVG element (no XML declaration, no style attribute)."""
    return segno.make(uri, error="m").svg_inline(
        scale=4, border=4, title=title, dark="#000", light="#fff"
    )


STEP_SECONDS = 30


def current_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def current_code(secret: str, now: datetime) -> str:
    """The code her authenticator shows at this moment."""
    return code_at(secret, current_step(now))


def code_at(secret: str, step: int) -> str:
    """The code of this time step (what her authenticator shows during it)."""
    return Totp(secret).generate_otp(step)


def _digits(code: str) -> str | None:
    code = "".join(code.split())
    return code if len(code) == 6 and code.isascii() and code.isdigit() else None


def matching_step(secret: str, code: str, *, now: datetime, after: int | None) -> int | None:
    """The step within the drift window whose code this is, if later than `after`."""
    code = _digits(code)
    if code is None:
        return None
    now_step = current_step(now)
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def secret_of(user: User, *, cipher: IdCipher | None = None) -> str | None:
    if not user.totp_secret_encrypted:
        return None
    return (cipher or get_cipher()).decrypt(user.totp_secret_encrypted)


def check_code(db: Session, user: User, code: str, *, now: datetime, cipher=None) -> bool:
    """Is this her current code, never accepted before? Accepting it spends its step."""
    secret = secret_of(user, cipher=cipher) if is_enrolled(user) else None
    if secret is None:
        return False
    step = matching_step(secret, code, now=now, after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    db.add(user)
    return True


def set_secret(db: Session, user: User, secret: str, *, now: datetime, cipher=None) -> None:
    """Enrol her with this secret, already confirmed (the demo, and the enrolment below)."""
    user.totp_secret_encrypted = (cipher or get_cipher()).encrypt(secret)
    user.totp_enrolled_at = now
    user.totp_last_step = None
    user.updated_at = now
    db.add(user)


def enrol(
    db: Session, user: User, *, secret: str, code: str, now: datetime, cipher=None
) -> list[str]:
    """Enrol her once she has typed a right code of the new secret; her recovery codes.

    The caller commits, and shows the codes once: only their hashes are kept.
    """
    step = matching_step(secret, code, now=now, after=None)
    if step is None:
        raise FactorError(N_("That code is not right. Check the time on your phone and try again."))
    set_secret(db, user, secret, now=now, cipher=cipher)
    # the code that confirmed the secret is spent
    user.totp_last_step = step
    codes = new_recovery_codes(db, user, now=now)
    audit.record(db, user=user, action="second_factor_enrol", target=user)
    return codes


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normal(code: str) -> str:
    return "".join(ch for ch in code.strip().lower() if ch not in " -")


def new_recovery_codes(db: Session, user: User, *, now: datetime) -> list[str]:
    """Ten new one-time codes in place of her old ones; shown once, stored hashed."""
    db.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.add(
            RecoveryCode(
                user_id=user.id,
                code_hash=generate_password_hash(_normal(code), method=_RECOVERY_HASH),
                created_at=now,
            )
        )
    return codes


def unused_recovery_codes(db: Session, user: User) -> int:
    return len(_unused(db, user))


def _unused(db: Session, user: User) -> list[RecoveryCode]:
    return db.exec(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()


def use_recovery_code(db: Session, user: User, code: str, *, now: datetime) -> bool:
    """Spend one of her unused recovery codes; False when it is none of them."""
    typed = _normal(code)
    if len(typed) != 10 or not is_enrolled(user):
        return False
    for row in _unused(db, user):
        if check_password_hash(row.code_hash, typed):
            row.used_at = now
            db.add(row)
            db.flush()
            audit.record(
                db,
                user=user,
                action="second_factor_recovery_code",
                target=user,
                details={"left": unused_recovery_codes(db, user)},
            )
            return True
    return False


def for_update(db: Session, user: User) -> User:
    """Her row read again and locked: two tries with one code queue, and the second sees
    the step the first spent (on PostgreSQL; SQLite serialises writers anyway)."""
    return db.exec(
        select(User)
        .where(User.id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def second_step(db: Session, user: User, typed: str, *, now: datetime) -> str | None:
    """Check the second sign-in step: "totp" or "recovery_code" when it lets her in.

    A wrong code counts as a sign-in failure, like a wrong password (lockout); a right one
    clears her failures. The caller commits either way, and refuses beforehand a try
    while she is locked out.
    """
    method = None
    if check_code(db, user, typed, now=now):
        method = "totp"
    elif use_recovery_code(db, user, typed, now=now):
        method = "recovery_code"
    if method is not None:
        lockout.clear(db, user)
        return method
    tries = lockout.Tries(user.failed_logins, user.locked_until)
    lockout.record_failure(db, user, user.username, tries, reason="second_factor", now=now)
    return None


def _clear(db: Session, user: User, *, now: datetime) -> None:
    user.totp_secret_encrypted = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    user.updated_at = now
    db.add(user)
    db.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def turn_off(db: Session, user: User, *, now: datetime) -> None:
    """She no longer uses a second factor: only where her role leaves it optional."""
    if required_for(user):
        raise FactorError(N_("Your role requires a second factor."))
    _clear(db, user, now=now)
    audit.record(db, user=user, action="second_factor_off", target=user)


def reset_second_factor(session: Session, *, actor: User, user: User, now: datetime) -> int:
    """An administrator clears her second factor: secret, enrolment and recovery codes go,
    and every session of hers ends (she enrols again at her next sign-in when her role
    requires it). How many sessions ended; the caller commits."""
    _clear(session, user, now=now)
    ended = end_sessions(session, user, reason="second_factor_reset", now=now)
    audit.record(
        session,
        user=actor,
        action="second_factor_reset",
        target=user,
        details={"username": user.username, "sessions_ended": ended},
    )
    return ended
