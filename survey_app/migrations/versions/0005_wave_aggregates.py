"""per-wave aggregates for reports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 20:32:08.285697
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wave_choice_count',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('choice', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_wave_choice_count_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('wave_id', 'item_id', 'choice', name=op.f('pk_wave_choice_count'))
    )
    op.create_table('wave_item_summary',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('shown', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('dont_know', sa.Integer(), nullable=False),
    sa.Column('positive', sa.Integer(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Float(), nullable=False),
    sa.Column('score_sq_sum', sa.Float(), nullable=False),
    sa.Column('text_length_sum', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_wave_item_summary_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('wave_id', 'item_id', name=op.f('pk_wave_item_summary'))
    )
    op.create_table('wave_summary',
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.Column('responded', sa.Integer(), nullable=False),
    sa.Column('median_completion_seconds', sa.Float(), nullable=True),
    sa.Column('summarised_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_wave_summary_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('wave_id', name=op.f('pk_wave_summary'))
    )


def downgrade() -> None:
    op.drop_table('wave_summary')
    op.drop_table('wave_item_summary')
    op.drop_table('wave_choice_count')
