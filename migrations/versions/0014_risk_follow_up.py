"""a flagged contact is followed up within the unit's risk hours: the setting, and every
stored standing rechecked, so people with an open self-harm or relapse flag are re-dated

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('risk_follow_up_hours', sa.Integer(), nullable=False, server_default='48')
        )
    # the due lists work out anyone whose recheck day has come by the rules on the spot,
    # and the next `flask people refresh-due` stores them
    op.execute("UPDATE person SET due_recheck_on = CURRENT_DATE WHERE next_due_on IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('risk_follow_up_hours')
