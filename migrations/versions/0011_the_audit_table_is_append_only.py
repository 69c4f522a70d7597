"""the audit table is append-only: triggers refuse UPDATE and DELETE but for retention

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 07:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

from app.audit import install_guard, remove_guard

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostgreSQL: a trigger function that reads the transaction-local clover.retention;
    # SQLite: RAISE(ABORT) triggers that a retention run drops and remakes in its transaction
    install_guard(op.get_bind())


def downgrade() -> None:
    remove_guard(op.get_bind())
