"""contact tallies: the dashboard's contacts by unit, month, author and kind, and its
on-time verdicts by unit, day and author, kept by every visit write (backfilled here);
partial indexes of the visits and scale results that flag self-harm or relapse signs;
an index of the columns a unit's people are counted by

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 13:40:00.000000
"""

import os
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.types  # noqa: F401

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# as app.supervision.tallies.follow_up_flagged writes it: a query must say the same
FLAGGED = (
    'CAST(risk_flags AS VARCHAR) LIKE \'%"relapse_signs"%\''
    ' OR CAST(risk_flags AS VARCHAR) LIKE \'%"self_harm"%\''
)


def upgrade() -> None:
    op.create_table(
        'contact_tally',
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('author_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column('contacts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('unit_id', 'month', 'author_id', 'kind'),
    )
    op.create_table(
        'on_time_tally',
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('author_id', sa.Uuid(), nullable=False),
        sa.Column('rated', sa.Integer(), nullable=False),
        sa.Column('met', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('unit_id', 'day', 'author_id'),
    )
    for table, at in (('visit', 'occurred_at'), ('scaleresult', 'taken_at')):
        op.create_index(
            f'ix_{table}_follow_up_flag',
            table,
            ['person_id', at],
            unique=False,
            sqlite_where=sa.text(FLAGGED),
            postgresql_where=sa.text(FLAGGED),
        )
    op.create_index(
        'ix_person_unit_standing',
        'person',
        ['unit_id', 'assigned_officer_id', 'status', 'release_date', 'next_due_on',
         'last_contact_at'],
        unique=False,
    )
    # the visits stored so far, counted set-based (one INSERT ... SELECT per table) by the
    # rule the app keeps them by, in the schedule's zone
    from app.supervision.recount import recount

    zone = ZoneInfo(os.environ.get('CLOVER_TIMEZONE', 'Asia/Shanghai'))
    recount(op.get_bind(), zone)


def downgrade() -> None:
    op.drop_index('ix_person_unit_standing', table_name='person')
    op.drop_index('ix_scaleresult_follow_up_flag', table_name='scaleresult')
    op.drop_index('ix_visit_follow_up_flag', table_name='visit')
    op.drop_table('on_time_tally')
    op.drop_table('contact_tally')
