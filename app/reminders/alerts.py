"""A visit that records a self-harm risk alerts the unit's supervisors at once, and her
case officer when someone else (a peer helper, a colleague) recorded it.

The visit write path sends `app.signals.visit_recorded` after commit; the handler queues
one ledger row per supervisor (keyed by the visit, so a re-sent signal alerts nobody
twice) and delivers in a background thread, so saving a visit never waits for a push
service. A supervisor in her quiet hours gets the alert when they end, from the next
`flask reminders send`.
"""

import logging
import threading

import requests
from flask import Flask, current_app, has_app_context
from sqlalchemy import and_, or_
from sqlmodel import Session, select

from app import audit
from app.models import Person, Reminder, ReminderKind, ReminderStatus, RiskFlag, User, Visit
from app.policy import Action, roles_allowed, sees_person
from app.reminders.channels import build_channels, channels_configured
from app.reminders.sending import claim, claim_pending, deliver
from app.reminders.timing import quiet_until
from app.schedule import local_date
from app.types import utcnow

log = logging.getLogger("clover.reminders")


def queue_risk_alerts(*, session: Session, visit: Visit, author: User, now) -> list[Reminder]:
    """Ledger rows alerting each supervisor of the person's unit and her case officer (when
    someone else recorded it); none for a visit without risk."""
    if RiskFlag.self_harm not in (visit.risk_flags or []):
        return []
    person = session.get(Person, visit.person_id)
    supervisors = and_(
        User.role.in_(roles_allowed(Action.risk_alert_receive)), User.unit_id == person.unit_id
    )
    recipients = session.exec(
        select(User).where(
            or_(supervisors, User.id == person.assigned_officer_id),
            User.active,
            User.id != author.id,
        )
    ).all()
    recipients = [user for user in recipients if sees_person(user, person)]
    rows = [
        Reminder(
            user_id=user.id,
            kind=ReminderKind.alert,
            day=local_date(visit.occurred_at, user.timezone),
            ref=str(visit.id),
            status=ReminderStatus.pending,
            not_before=quiet_until(now, user.timezone, user.quiet_start, user.quiet_end),
            details={"person_id": str(person.id)},
        )
        for user in recipients
    ]
    session.commit()
    queued = claim(session, rows)
    if queued:
        audit.record(
            session,
            user=author,
            action="risk_alert",
            person=person,
            target=visit,
            details={"alerted": len(queued)},
        )
        session.commit()
    return queued


def _deliver_in_background(app: Flask, reminder_ids: list) -> None:
    try:
        with (
            app.app_context(),
            Session(app.extensions["clover_engine"], expire_on_commit=False) as session,
            requests.Session() as http,
        ):
            channels = build_channels(app.config, http)
            lease, now = app.config["CLOVER_REMINDER_LEASE"], utcnow()
            taken = claim_pending(session, now=now, lease=lease, ids=reminder_ids)
            deliver(session, taken, now=now, lease=lease, channels=channels)
    except Exception:  # noqa: BLE001 - a thread has nobody to raise to: log it
        log.exception("delivering risk alerts failed")


def on_visit_recorded(
    visit: Visit, *, session: Session, user: User, **_
) -> threading.Thread | None:
    """Signal handler: queue the alerts, and deliver those outside quiet hours in a thread."""
    queued = queue_risk_alerts(session=session, visit=visit, author=user, now=utcnow())
    if not queued or not has_app_context():
        # outside an app (a script or a domain test) the next `flask reminders send` delivers
        return None
    app = current_app._get_current_object()
    if not channels_configured(app.config):
        return None
    thread = threading.Thread(
        target=_deliver_in_background,
        args=(app, [row.id for row in queued]),
        name="clover-risk-alert",
        daemon=True,
    )
    thread.start()
    return thread
