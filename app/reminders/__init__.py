"""Reminders of due visits: Web Push and SMS channels, a once-only ledger, risk alerts.

The due list never depends on any of this: Today shows what is due whether or not a
reminder arrives.
"""

from flask import Flask

from app.reminders import cli, loop
from app.reminders.alerts import on_visit_recorded
from app.reminders.forms import reminder_panel
from app.reminders.views import bp
from app.signals import scale_recorded, visit_recorded

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    cli.init_app(app)
    app.jinja_env.globals["reminder_panel"] = reminder_panel
    # connecting the same function again (one app per test) is a no-op in blinker
    visit_recorded.connect(on_visit_recorded)
    # a scale whose answers flag self-harm alerts by the same path as a visit that does
    scale_recorded.connect(on_visit_recorded)
    if app.config.get("CLOVER_REMINDER_LOOP") and not app.testing:
        app.extensions["clover_reminder_loop"] = loop.start(app, app.config["CLOVER_REMINDER_LOOP"])
