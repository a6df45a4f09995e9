"""action log, rebase points, API tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 21:56:21.935977
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_api_token_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('team_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_team_action_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_action_team_id_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_action'))
    )
    with op.batch_alter_table('team_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_action_team_id'), ['team_id'], unique=False)

    op.create_table('team_rebase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_team_rebase_created_by_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_rebase_team_id_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_team_rebase_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_rebase')),
    sa.UniqueConstraint('team_id', 'wave_id', name=op.f('uq_team_rebase_team_id_wave_id'))
    )
    with op.batch_alter_table('team_rebase', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_rebase_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        # Existing INTs get the default cycle, PDSA.
        batch_op.add_column(sa.Column('action_stages', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default='Plan,Do,Study,Act'))



def downgrade() -> None:
    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        batch_op.drop_column('action_stages')

    with op.batch_alter_table('team_rebase', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_rebase_team_id'))

    op.drop_table('team_rebase')
    with op.batch_alter_table('team_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_action_team_id'))

    op.drop_table('team_action')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
