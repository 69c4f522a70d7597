"""Alembic: the migrations build the schema the models describe, up and down."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from app import migrate
from app.db import make_engine
from tests.conftest import PG_URL


@pytest.fixture
def empty_engine(tmp_path):
    """An engine on a database no test has touched: a file, or a fresh PostgreSQL schema."""
    if not PG_URL:
        engine = make_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_migrations_match_the_models(empty_engine):
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "models and migrations drifted: generate a migration"


def test_migrations_go_down_and_up_again(empty_engine):
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables


def test_migrations_keep_existing_data(empty_engine):
    """Upgrading a database in use keeps its rows and fills new columns."""
    migrate.upgrade(empty_engine, "0001")
    unit_id, user_id, person_id = (uuid.uuid4().hex for _ in range(3))
    with empty_engine.begin() as connection:
        now = "2026-01-01 00:00:00"
        connection.execute(
            text("INSERT INTO unit (id, name, created_at, updated_at) VALUES (:id, 'u', :t, :t)"),
            {"id": unit_id, "t": now},
        )
        connection.execute(
            text(
                'INSERT INTO "user" (id, username, display_name, password_hash, role, unit_id,'
                " locale, timezone, active, created_at, updated_at) VALUES (:id, 'o', 'o', 'x',"
                " 'officer', :unit, 'zh_Hans', 'Asia/Shanghai', true, :t, :t)"
            ),
            {"id": user_id, "unit": unit_id, "t": now},
        )
        connection.execute(
            text(
                "INSERT INTO person (id, version, unit_id, name, search_keys, emergency_contacts,"
                " support_path, status, risk_level, assigned_officer_id, created_at, updated_at)"
                " VALUES (:id, 1, :unit, '张晓梅', '', '[]', 'return_to_society', 'active', 'low',"
                " :user, :t, :t)"
            ),
            {"id": person_id, "unit": unit_id, "user": user_id, "t": now},
        )
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM person")).scalar_one() == "张晓梅"
        window = connection.execute(text("SELECT visit_edit_window_hours FROM unit")).scalar_one()
        assert window == 72


def test_a_reminder_left_sending_is_handed_to_the_next_run(empty_engine):
    """0015: a claim from before leases gets one that has run out; a finished one none."""
    migrate.upgrade(empty_engine, "0014")
    user_id = uuid.uuid4().hex
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "user" (id, username, display_name, password_hash, role, locale,'
                " timezone, active, failed_logins, must_change_password, reminder_time,"
                " evening_time, created_at, updated_at) VALUES (:id, 'o', 'o', 'x', 'officer',"
                " 'zh_Hans', 'Asia/Shanghai', true, 0, false, '08:00', '18:00', :t, :t)"
            ),
            {"id": user_id, "t": "2026-03-03 00:00:00"},
        )
        for status, day in (("sending", "2026-03-03"), ("sent", "2026-03-02")):
            connection.execute(
                text(
                    "INSERT INTO reminder (id, user_id, kind, day, ref, status, not_before,"
                    " details, created_at) VALUES (:id, :user, 'digest', :day, '', :status,"
                    " :t, '{}', :t)"
                ),
                {
                    "id": uuid.uuid4().hex,
                    "user": user_id,
                    "day": day,
                    "status": status,
                    "t": f"{day} 00:00:00",
                },
            )
    migrate.upgrade(empty_engine, "0015")
    with empty_engine.connect() as connection:
        rows = connection.execute(
            text("SELECT status, lease_until, created_at FROM reminder ORDER BY status")
        ).all()
        wecom = connection.execute(text('SELECT wecom_user_id FROM "user"')).scalar_one()
    [(sending, lease_until, created_at), (sent, no_lease, _)] = rows
    assert (sending, sent, no_lease, wecom) == ("sending", "sent", None, None)
    assert lease_until == created_at  # already run out: the next run takes it over
