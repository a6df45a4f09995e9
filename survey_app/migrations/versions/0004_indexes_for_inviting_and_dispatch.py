"""indexes for batched inviting and dispatch

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:48:25.142281
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_due_at'))
        batch_op.drop_index(batch_op.f('ix_message_status'))
        batch_op.create_index('ix_message_status_due_at', ['status', 'due_at', 'id'], unique=False)

    with op.batch_alter_table('team_membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_membership_team_id'))
        batch_op.create_index('ix_team_membership_team_id_staff_member_id', ['team_id', 'staff_member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('team_membership', schema=None) as batch_op:
        batch_op.drop_index('ix_team_membership_team_id_staff_member_id')
        batch_op.create_index(batch_op.f('ix_team_membership_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_status_due_at')
        batch_op.create_index(batch_op.f('ix_message_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_due_at'), ['due_at'], unique=False)

