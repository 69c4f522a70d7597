"""a reminder's claim is a lease, so the next run sends what a sender that died had claimed;
and a user's WeCom (企业微信) user id for reminders by WeCom application message

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 09:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.types

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('lease_until', app.types.UTCDateTime(timezone=True), nullable=True)
        )
    # a row still sending was claimed by a sender that is gone (senders are stopped while
    # migrating): its lease has already run out, so the next run takes it over
    op.execute("UPDATE reminder SET lease_until = created_at WHERE status = 'sending'")
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('wecom_user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('wecom_user_id')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
