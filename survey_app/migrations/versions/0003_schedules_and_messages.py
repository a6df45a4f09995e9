"""schedules, messages and the scheduler lease

Columns added to tables that may hold rows get server defaults, so an
existing database upgrades in place.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:27:30.266050
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduler_lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease'))
    )
    op.create_table('schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('neighbourhood_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('cadence_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('every_weeks', sa.Integer(), nullable=True),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('nth', sa.Integer(), nullable=True),
    sa.Column('send_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('reminder', sa.Boolean(), nullable=False),
    sa.Column('quiet_start', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('quiet_end', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('weekends_allowed', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_occurrence', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['neighbourhood_id'], ['neighbourhood.id'], name=op.f('fk_schedule_neighbourhood_id_neighbourhood'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_schedule_team_id_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule'))
    )
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_neighbourhood_id'), ['neighbourhood_id'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('staff_member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sending_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=True),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_member_id'], ['staff_member.id'], name=op.f('fk_message_staff_member_id_staff_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_message_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_staff_member_id'), ['staff_member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_wave_id'), ['wave_id'], unique=False)

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_invitation_reminder_token_hash'), ['reminder_token_hash'])

    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_gap_days', sa.Integer(), nullable=False, server_default=sa.text('21')))
        batch_op.add_column(sa.Column('max_messages_per_wave', sa.Integer(), nullable=False, server_default=sa.text('2')))

    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employee_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('reminders_opt_out', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_staff_member_employee_number'), ['employee_number'], unique=False)

    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminder_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminders_queued', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('invited_all', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('due_items', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_wave_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_wave_schedule_id_schedule'), 'schedule', ['schedule_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_wave_schedule_id_schedule'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_wave_schedule_id'))
        batch_op.drop_column('due_items')
        batch_op.drop_column('invited_all')
        batch_op.drop_column('reminders_queued')
        batch_op.drop_column('reminder_due_at')
        batch_op.drop_column('schedule_id')

    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_member_employee_number'))
        batch_op.drop_column('reminders_opt_out')
        batch_op.drop_column('employee_number')

    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        batch_op.drop_column('max_messages_per_wave')
        batch_op.drop_column('invitation_gap_days')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invitation_reminder_token_hash'), type_='unique')
        batch_op.drop_column('reminder_token_hash')

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_wave_id'))
        batch_op.drop_index(batch_op.f('ix_message_status'))
        batch_op.drop_index(batch_op.f('ix_message_staff_member_id'))
        batch_op.drop_index(batch_op.f('ix_message_due_at'))

    op.drop_table('message')
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_neighbourhood_id'))

    op.drop_table('schedule')
    op.drop_table('scheduler_lease')
