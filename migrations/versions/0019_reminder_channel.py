"""the reminder channel she prefers, the others as fallbacks (null: automatic)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 10:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'reminder_channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('reminder_channel')
