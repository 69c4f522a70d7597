"""release preparation: six items per person, ticked from six months before her release

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.types

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'releasepreparation',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('marked_by_id', sa.Uuid(), nullable=False),
        sa.Column('marked_on', sa.Date(), nullable=False),
        sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['marked_by_id'], ['user.id'], name=op.f('fk_releasepreparation_marked_by_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['person_id'], ['person.id'], name=op.f('fk_releasepreparation_person_id_person')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_releasepreparation')),
        sa.UniqueConstraint(
            'person_id', 'item', name=op.f('uq_releasepreparation_person_id_item')
        ),
    )


def downgrade() -> None:
    op.drop_table('releasepreparation')
