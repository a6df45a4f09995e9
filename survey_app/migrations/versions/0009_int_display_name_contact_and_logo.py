"""an INT's display name, contact and logo, shown on its staff, patient and poster pages

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = ('display_name', 'contact_text', 'contact_email', 'contact_phone', 'logo_png',
           'logo_sha256', 'logo_width', 'logo_height')


def upgrade() -> None:
    # All nullable: an INT without them shows its name and the generic footer.
    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('contact_text', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('logo_png', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('logo_width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('logo_height', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
