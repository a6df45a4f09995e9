"""a kiosk records the day it last stored a rating

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_column('last_used_on')
