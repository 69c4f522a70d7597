"""Alembic, run against the app's database; one migration at a time on PostgreSQL."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# the advisory lock every deploy takes around a migration: any constant all servers share
MIGRATION_LOCK = 0x436C6F7665720001  # "Clover" and 1

log = logging.getLogger("clover.migrate")


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that migrates through this engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock MIGRATION_LOCK; wait while another deploy holds it.

    Two deploys starting at once would otherwise both see the same old revision and run
    the same DDL. The lock lives on its own connection, not the migration's, so it outlasts
    the migration's transactions, and it goes with that connection if the process dies.
    SQLite needs none: one file, one server.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        if not got.scalar():
            log.warning("another deploy is migrating this database: waiting for it to finish")
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate up to `revision`; a deploy that waited for another finds it done already."""
    with migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)


def revision(engine: Engine, message: str, rev_id: str) -> None:
    """A new migration, written by comparing the models with the database at head."""
    command.revision(alembic_config(engine), message=message, autogenerate=True, rev_id=rev_id)
