"""the scheduler lease records its holder's process

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scheduler_lease', schema=None) as batch_op:
        batch_op.add_column(sa.Column('boot_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.add_column(sa.Column('pid_namespace', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pid_started', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('scheduler_lease', schema=None) as batch_op:
        batch_op.drop_column('pid_started')
        batch_op.drop_column('pid')
        batch_op.drop_column('pid_namespace')
        batch_op.drop_column('boot_id')
