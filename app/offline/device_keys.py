"""The server's half of a phone's offline store key: one random key per user and device.

The phone encrypts what it keeps under a random data key, wrapped twice: by a key derived
from her PIN and by this device key, which the server keeps (encrypted at rest) and hands
over only to a session she started with a full sign-in, within a few minutes of it. A
forgotten PIN therefore loses nothing: she signs in again and the server's key opens the
store. When her device's session is ended by someone else (an administrator, another of
her devices, a password reset) or she is deactivated, the key is destroyed and what is
left on that phone can never be opened again.

    POST /api/v1/device-key {device_id}   -> {device_id, key, lock_after_minutes}
    GET  /api/v1/device-key?device_id=... -> the same, once this session holds it
    GET  /offline/device-keys/<device_id>/<user_id> -> {live}: may the phone keep her store?
"""

import base64
import secrets
import uuid
from datetime import datetime, timedelta

from flask import Blueprint, abort, g, jsonify, request
from flask_login import current_user
from sqlmodel import Session, select

from app import audit
from app.crypto import get_cipher
from app.db import get_session
from app.models import DeviceKey, Unit, User, UserSession
from app.policy import Action, require
from app.types import utcnow
from app.web import json_body

bp = Blueprint("device_keys", __name__)
# a device key is handed over only this soon after the sign-in that started the session
HAND_OVER_WITHIN = timedelta(minutes=10)
DEFAULT_LOCK_AFTER_MINUTES = 5
# sessions that end without anyone else ending them: the phone may still open its store
# (she signed out leaving items to send, or the session lapsed: she signs in again)
KEEPS_KEY = frozenset({"sign_out", "expired"})


def destroy_keys(
    db: Session, user_id: uuid.UUID, *, now: datetime, session_id=None, keep_session=None
) -> int:
    """Destroy her device keys: the one bound to `session_id` when given, else all but the
    one bound to `keep_session`; how many. The caller commits."""
    query = select(DeviceKey).where(DeviceKey.user_id == user_id, DeviceKey.destroyed_at.is_(None))
    if session_id is not None:
        query = query.where(DeviceKey.session_id == session_id)
    rows = [
        row
        for row in db.exec(query).all()
        if keep_session is None or row.session_id != keep_session
    ]
    for row in rows:
        row.key_encrypted, row.destroyed_at = None, now
        db.add(row)
    return len(rows)


def lock_after_minutes(db: Session, user: User) -> int:
    unit = db.get(Unit, user.unit_id) if user.unit_id else None
    minutes = unit.lock_after_minutes if unit is not None else DEFAULT_LOCK_AFTER_MINUTES
    return max(int(minutes or DEFAULT_LOCK_AFTER_MINUTES), 1)


def _device_id(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        abort(400)


def _fresh_session() -> UserSession:
    """This request's session, if a full sign-in started it a moment ago; else 403.

    Only the roles that keep a caseload on the phone have a store to open."""
    require(current_user, Action.offline_copy)
    row = g.get("user_session")
    if row is None or utcnow() - row.created_at > HAND_OVER_WITHIN:
        abort(403)
    return row


def _answer(db: Session, row: DeviceKey):
    key = get_cipher().decrypt(row.key_encrypted)
    if key is None:
        abort(500)
    return jsonify(
        device_id=str(row.device_id),
        key=key,
        lock_after_minutes=lock_after_minutes(db, current_user),
    )


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


@bp.post("/device-key")
def issue():
    """This device's key for her, minted at her first sign-in here, bound to this session."""
    session_row = _fresh_session()
    body = json_body()
    device_id = _device_id(body.get("device_id") if isinstance(body, dict) else None)
    db = get_session()
    row = db.exec(
        select(DeviceKey).where(
            DeviceKey.user_id == current_user.id, DeviceKey.device_id == device_id
        )
    ).first()
    now = utcnow()
    if row is None:
        row = DeviceKey(user_id=current_user.id, device_id=device_id, created_at=now)
    if row.key_encrypted is None:
        # new, or destroyed: a new key (what the old one protected stays unreadable)
        row.key_encrypted = get_cipher().encrypt(_new_key())
        row.destroyed_at = None
        audit.record(db, user=current_user, action="device_key_issued", target=row)
    row.session_id = session_row.id
    db.add(row)
    db.commit()
    return _answer(db, row)


@bp.get("/device-key")
def show():
    """The key this session was given, again (a page that lost it from memory)."""
    session_row = _fresh_session()
    device_id = _device_id(request.args.get("device_id"))
    db = get_session()
    row = db.exec(
        select(DeviceKey).where(
            DeviceKey.user_id == current_user.id,
            DeviceKey.device_id == device_id,
            DeviceKey.session_id == session_row.id,
            DeviceKey.destroyed_at.is_(None),
        )
    ).first()
    if row is None:
        abort(404)
    return _answer(db, row)


def device_state(device_id: uuid.UUID, user_id: uuid.UUID) -> dict:
    """Whether her key for this device still lives: the phone wipes her store when not.

    Asked without a cookie (a deactivated officer has no session): it names nobody, and a
    device id is a random number only that phone knows.
    """
    db = get_session()
    row = db.exec(
        select(DeviceKey).where(DeviceKey.device_id == device_id, DeviceKey.user_id == user_id)
    ).first()
    return {"live": row is not None and row.destroyed_at is None}
