"""standard scales taken with a person (PHQ-9, GAD-7, craving, mood), scored by the app

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 09:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.types

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'scaleresult',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('visit_id', sa.Uuid(), nullable=True),
        sa.Column('author_id', sa.Uuid(), nullable=False),
        sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('band', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column('risk_flags', sa.JSON(), nullable=False),
        sa.Column('taken_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['author_id'], ['user.id'], name=op.f('fk_scaleresult_author_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['person_id'], ['person.id'], name=op.f('fk_scaleresult_person_id_person')
        ),
        sa.ForeignKeyConstraint(
            ['visit_id'], ['visit.id'], name=op.f('fk_scaleresult_visit_id_visit')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scaleresult')),
    )
    with op.batch_alter_table('scaleresult', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_scaleresult_author_id'), ['author_id'], unique=False
        )
        batch_op.create_index(
            'ix_scaleresult_person_taken', ['person_id', 'taken_at'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_scaleresult_visit_id'), ['visit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scaleresult', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scaleresult_visit_id'))
        batch_op.drop_index('ix_scaleresult_person_taken')
        batch_op.drop_index(batch_op.f('ix_scaleresult_author_id'))
    op.drop_table('scaleresult')
