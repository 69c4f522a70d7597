"""`flask push keys` and `flask reminders send`."""

import os
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import get_session
from app.reminders.channels import build_channels, http_session
from app.reminders.keys import read_keys, write_keys
from app.reminders.sending import send_reminders
from app.types import utcnow

push_cli = AppGroup("push", help="Web Push keys.")
reminders_cli = AppGroup("reminders", help="Reminders of due visits.")


@push_cli.command("keys")
@click.option("--force", is_flag=True, help="Replace the pair under instance/ with a new one.")
def push_keys(force: bool) -> None:
    """Make the VAPID key pair under instance/ (kept if present), and print the public key."""
    instance = Path(current_app.instance_path)
    if os.environ.get("CLOVER_VAPID_PRIVATE_KEY"):
        _private, public = read_keys(os.environ, instance)
        click.echo("VAPID keys come from the environment; nothing written")
    elif (existing := read_keys({}, instance)) and not force:
        public = existing[1]
        click.echo(f"VAPID keys already under {instance} (use --force to replace them)")
    else:
        _private, public = write_keys(instance)
        click.echo(f"new VAPID keys written under {instance}")
        if force:
            click.echo("devices subscribed with the old key must turn reminders on again")
    click.echo(f"public key: {public}")


@reminders_cli.command("send")
@click.option(
    "--at",
    "at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"]),
    default=None,
    help="Act as if it were this moment (ISO, with offset); default now.",
)
def reminders_send(at: datetime | None) -> None:
    """Send the reminders due now, each at most once; safe to run every few minutes."""
    workers = current_app.config["CLOVER_REMINDER_WORKERS"]
    with http_session(workers) as http:
        channels = build_channels(current_app.config, http)
        if not channels:
            click.echo("no channel is configured (run `flask push keys`, or set CLOVER_SMS_URL)")
        summary = send_reminders(
            get_session(),
            now=at or utcnow(),
            lease=current_app.config["CLOVER_REMINDER_LEASE"],
            channels=channels,
            workers=workers,
        )
    for (kind, status), count in sorted(summary.items()):
        click.echo(f"{kind}: {count} {status}")
    if not summary:
        click.echo("nothing to send now")


def init_app(app) -> None:
    app.cli.add_command(push_cli)
    app.cli.add_command(reminders_cli)
