"""self check-in links: a person's personal link (only its hash kept), and on a visit the
link it came through and whether she asked to talk

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.types

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'checkinlink',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('issued_by_id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', app.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ['issued_by_id'], ['user.id'], name=op.f('fk_checkinlink_issued_by_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['person_id'], ['person.id'], name=op.f('fk_checkinlink_person_id_person')
        ),
        sa.ForeignKeyConstraint(
            ['revoked_by_id'], ['user.id'], name=op.f('fk_checkinlink_revoked_by_id_user')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkinlink')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_checkinlink_token_hash')),
    )
    with op.batch_alter_table('checkinlink', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_checkinlink_person_id'), ['person_id'], unique=False
        )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_in_link_id', sa.Uuid(), nullable=True))
        # a constant default: PostgreSQL adds it without rewriting the visit table
        batch_op.add_column(
            sa.Column(
                'asked_to_talk', sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_visit_check_in_link_id_checkinlink'),
            'checkinlink',
            ['check_in_link_id'],
            ['id'],
        )


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_visit_check_in_link_id_checkinlink'), type_='foreignkey'
        )
        batch_op.drop_column('asked_to_talk')
        batch_op.drop_column('check_in_link_id')
    with op.batch_alter_table('checkinlink', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkinlink_person_id'))
    op.drop_table('checkinlink')
