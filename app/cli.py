"""Command-line tools: `flask db`, `units`, `users`, `demo`, `people`, `audit`, `retention`,
`supervision`."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlmodel import select

from app import migrate
from app.accounts import AccountError, create_unit, create_user
from app.crypto import get_cipher
from app.db import get_engine, get_session
from app.models import Role, Unit, User
from app.supervision import tallies  # noqa: F401 - its tables, and (the package) their upkeep

db_cli = AppGroup("db", help="Database migrations.")
units_cli = AppGroup("units", help="Units (facilities or teams).")
users_cli = AppGroup("users", help="User accounts.")
demo_cli = AppGroup("demo", help="Demonstration data.")
people_cli = AppGroup("people", help="People and their ledgers.")
audit_cli = AppGroup("audit", help="The audit trail's hash chain.")
retention_cli = AppGroup("retention", help="Anonymising closed people after the retention period.")
supervision_cli = AppGroup("supervision", help="The dashboard's contact tallies.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    migrate.upgrade(get_engine(), revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    migrate.downgrade(get_engine(), revision)
    click.echo(f"database at {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """Write the next migration from the models (upgrade the database to head first)."""
    versions = sorted((migrate.MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    rev_id = f"{int(versions[-1].name[:4]) + 1:04d}" if versions else "0001"
    migrate.revision(get_engine(), message, rev_id)
    click.echo(f"wrote migration {rev_id}: review it, then add any data backfill by hand")


@units_cli.command("create")
@click.argument("name")
def units_create(name: str) -> None:
    """Create a unit called NAME."""
    session = get_session()
    try:
        unit = create_unit(session, name=name)
    except AccountError as error:
        raise click.BadParameter(str(error), param_hint=error.field) from error
    session.commit()
    click.echo(f"unit {unit.name} created ({unit.id})")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--display-name", default="")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_name", default=None, help="Name of the unit (not for admins).")
@click.option("--locale", type=click.Choice(["zh_Hans", "en"]), default="zh_Hans")
@click.password_option()
def users_create(
    username: str, display_name: str, role: str, unit_name: str | None, locale: str, password: str
) -> None:
    """Create a user; the password is asked for twice unless given."""
    session = get_session()
    unit_id = None
    if unit_name:
        unit = session.exec(select(Unit).where(Unit.name == unit_name)).first()
        if unit is None:
            raise click.BadParameter(f"no unit named {unit_name!r}", param_hint="--unit")
        unit_id = unit.id
    try:
        user = create_user(
            session,
            username=username,
            display_name=display_name or username,
            password=password,
            role=role,
            unit_id=unit_id,
            locale=locale,
            timezone=current_app.config["CLOVER_TIMEZONE"],
            environment=current_app.config["CLOVER_ENV"],
        )
    except AccountError as error:
        raise click.BadParameter(str(error), param_hint=error.field) from error
    session.commit()
    click.echo(f"user {user.username} created ({user.role})")


@users_cli.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Lift USERNAME's sign-in lockout and clear her failed sign-ins (audited)."""
    from app.auth.lockout import unlock
    from app.types import utcnow

    session = get_session()
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise click.BadParameter(f"no user named {username!r}", param_hint="USERNAME")
    if unlock(session, actor=None, user=user, now=utcnow()):
        session.commit()
        click.echo(f"user {user.username} unlocked")
    else:
        click.echo(f"user {user.username} was not locked")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has any unit.")
def demo_load(if_empty: bool) -> None:
    """Load realistic demonstration units (never in production)."""
    from app.demo import DEMO_PASSWORD, DEMO_USERNAMES, DemoRefused, load_demo

    session = get_session()
    try:
        summary = load_demo(
            session,
            environment=current_app.config["CLOVER_ENV"],
            if_empty=if_empty,
            timezone=current_app.config["CLOVER_TIMEZONE"],
            cipher=get_cipher(),
        )
    except DemoRefused as error:
        raise click.ClickException(str(error)) from error
    if summary is None:
        click.echo("demo data already loaded")
    else:
        click.echo(f"demo loaded: {summary}")
    click.echo(
        f"sign in as {', '.join(DEMO_USERNAMES[:-1])} or {DEMO_USERNAMES[-1]} "
        f"with password {DEMO_PASSWORD}"
    )


@demo_cli.command("code")
def demo_code() -> None:
    """The current second-factor code of the demo supervisors, admin and director."""
    from app.auth.totp import current_code
    from app.demo import DEMO_TOTP_SECRET
    from app.types import utcnow

    click.echo(current_code(DEMO_TOTP_SECRET, utcnow()))


@people_cli.command("refresh-due")
@click.option("--all", "everyone", is_flag=True, help="Everyone, not only those whose day came.")
def people_refresh_due(everyone: bool) -> None:
    """The daily job: store anew the standing of people whose recheck day has come."""
    from app.due import refresh_due, schedule_today

    count = refresh_due(get_session(), today=schedule_today(), everyone=everyone)
    click.echo(f"next follow-up recomputed for {count} people")


@people_cli.command("check-due")
@click.option("--sample", type=click.IntRange(min=1), help="Check this many people at random.")
def people_check_due(sample: int | None) -> None:
    """Recompute the schedule rules and report any person whose stored due date differs."""
    from app.due import check_due, schedule_today

    report = check_due(get_session(), today=schedule_today(), sample=sample)
    for difference in report.differences:
        click.echo(f"{difference.person_id}: stored {difference.stored} rules {difference.rules}")
    click.echo(
        f"checked {report.checked} people: {len(report.differences)} differ, "
        f"{report.awaiting_refresh} await the daily refresh"
    )
    if report.differences:
        raise SystemExit(1)


@people_cli.command("rotate-keys")
def people_rotate_keys() -> None:
    """Re-encrypt every ID-card number under the newest key in CLOVER_DATA_KEY."""
    from app.models import Person

    session, cipher = get_session(), get_cipher()
    people = session.exec(select(Person).where(Person.id_number_encrypted.is_not(None))).all()
    for person in people:
        person.id_number_encrypted = cipher.rotate(person.id_number_encrypted)
        session.add(person)
    session.commit()
    click.echo(f"{len(people)} ID-card numbers re-encrypted")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 naming the first altered, missing or inserted row."""
    from app import audit

    report = audit.verify(get_session())
    if report.before_chain:
        click.echo(f"{report.before_chain} rows from before the chain: not checked")
    if report.finding is not None:
        click.echo(f"audit chain broken: {report.finding}", err=True)
        raise SystemExit(1)
    click.echo(
        f"audit chain intact: {report.checked} rows ({report.redacted} scrubbed by retention)"
    )


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only list who would be anonymised.")
def retention_run(dry_run: bool) -> None:
    """Anonymise closed people whose unit's retention period has run out (audited)."""
    from app import retention
    from app.types import utcnow

    session = get_session()
    due = retention.run(session, today=utcnow().date(), dry_run=dry_run)
    verb = "would anonymise" if dry_run else "anonymised"
    for item in due:
        click.echo(
            f"{verb} {item.person.id} ({item.unit.name}): closed {item.closed_on.isoformat()},"
            f" kept {item.unit.retention_years} years"
        )
    if not dry_run:
        session.commit()
    click.echo(f"{len(due)} people {verb}" if due else "nobody is due for anonymising")


@supervision_cli.command("check-tallies")
@click.option("--fix", is_flag=True, help="Recount every tally from the visits.")
def supervision_check_tallies(fix: bool) -> None:
    """Count the contact tallies again from the visits; report (or fix) any difference."""
    from app.due import schedule_zone
    from app.supervision.recount import check_tallies, recount

    session = get_session()
    differences = check_tallies(session.connection(), schedule_zone())
    for difference in differences:
        click.echo(str(difference))
    if fix and differences:
        recount(session.connection(), schedule_zone())
        session.commit()
        click.echo(f"{len(differences)} tally rows differed: recounted from the visits")
        return
    click.echo(f"{len(differences)} tally rows differ from the visits")
    if differences:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    groups = (db_cli, units_cli, users_cli, demo_cli, people_cli, audit_cli, retention_cli)
    for group in (*groups, supervision_cli):
        app.cli.add_command(group)
