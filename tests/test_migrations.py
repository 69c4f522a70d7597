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
