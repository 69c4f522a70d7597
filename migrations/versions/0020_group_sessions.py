"""group sessions: one session, its versions, and each attendee's visit pointing to it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 12:46:54.938156
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.types

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'groupsession',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('leader_id', sa.Uuid(), nullable=False),
        sa.Column('author_id', sa.Uuid(), nullable=False),
        sa.Column('edited_by_id', sa.Uuid(), nullable=True),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column('occurred_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=True),
        sa.Column('online', sa.Boolean(), nullable=False),
        sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('notes', sa.String(), nullable=False),
        sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['author_id'], ['user.id'], name=op.f('fk_groupsession_author_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['edited_by_id'], ['user.id'], name=op.f('fk_groupsession_edited_by_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['leader_id'], ['user.id'], name=op.f('fk_groupsession_leader_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['unit_id'], ['unit.id'], name=op.f('fk_groupsession_unit_id_unit')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_groupsession')),
    )
    with op.batch_alter_table('groupsession', schema=None) as batch_op:
        for column in ('author_id', 'leader_id', 'occurred_at', 'unit_id'):
            batch_op.create_index(batch_op.f(f'ix_groupsession_{column}'), [column], unique=False)
    op.create_table(
        'groupsessionversion',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('group_session_id', sa.Uuid(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('author_id', sa.Uuid(), nullable=False),
        sa.Column('saved_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('replaced_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['author_id'], ['user.id'], name=op.f('fk_groupsessionversion_author_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['group_session_id'],
            ['groupsession.id'],
            name=op.f('fk_groupsessionversion_group_session_id_groupsession'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_groupsessionversion')),
        sa.UniqueConstraint(
            'group_session_id',
            'version',
            name=op.f('uq_groupsessionversion_group_session_id_version'),
        ),
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_session_id', sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_visit_group_session_id'), ['group_session_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_visit_group_session_id_groupsession'),
            'groupsession',
            ['group_session_id'],
            ['id'],
        )


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_visit_group_session_id_groupsession'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_visit_group_session_id'))
        batch_op.drop_column('group_session_id')
    op.drop_table('groupsessionversion')
    with op.batch_alter_table('groupsession', schema=None) as batch_op:
        for column in ('unit_id', 'occurred_at', 'leader_id', 'author_id'):
            batch_op.drop_index(batch_op.f(f'ix_groupsession_{column}'))
    op.drop_table('groupsession')
