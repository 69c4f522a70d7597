"""The in-process schedule for a single machine: the sender every few minutes in a thread.

Started only when CLOVER_REMINDER_LOOP is set (`make run` sets it for `flask run`), never in
tests or other commands. Production runs `flask reminders send` from cron or a systemd
timer instead; running both is harmless, the ledger sends each reminder once.
"""

import logging
import threading

from flask import Flask
from sqlmodel import Session

from app.reminders.channels import build_channels, http_session
from app.reminders.sending import send_reminders
from app.types import utcnow

log = logging.getLogger("clover.reminders")


def _run_forever(app: Flask, every: int, stop: threading.Event) -> None:
    workers = app.config["CLOVER_REMINDER_WORKERS"]
    while not stop.wait(every):
        try:
            with (
                app.app_context(),
                Session(app.extensions["clover_engine"], expire_on_commit=False) as session,
                http_session(workers) as http,
            ):
                summary = send_reminders(
                    session,
                    now=utcnow(),
                    lease=app.config["CLOVER_REMINDER_LEASE"],
                    channels=build_channels(app.config, http),
                    workers=workers,
                )
            if summary:
                log.info("reminders sent: %s", dict(summary))
        except Exception:  # noqa: BLE001 - keep the schedule alive; the next run tries again
            log.exception("reminder run failed")


def start(app: Flask, every: int) -> threading.Event:
    """Run the sender every `every` seconds in a daemon thread; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_run_forever, args=(app, every, stop), name="clover-reminders", daemon=True
    )
    thread.start()
    return stop
