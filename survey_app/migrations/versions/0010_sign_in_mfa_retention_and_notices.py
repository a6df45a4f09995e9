"""information governance: organisation sign-in, TOTP, retention, pseudonym keys, notices

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# (column, default) of each retention period, in days: existing INTs get the defaults.
RETENTION = (('retain_invitations_days', 30), ('retain_messages_days', 90),
             ('retain_comments_days', 365), ('retain_answers_days', 730),
             ('retain_aggregates_days', 3650), ('retain_ratings_days', 1095),
             ('retain_leavers_days', 30))
NOTICE_COLUMNS = ('controller_name', 'dpo_contact', 'lawful_basis_staff',
                  'lawful_basis_patients')


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_issuer', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.add_column(sa.Column('oidc_subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_secret_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_app_user_oidc_issuer_oidc_subject'), ['oidc_issuer', 'oidc_subject'])

    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_recovery_code_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)
    op.create_table(
        'app_setting',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_app_setting')),
    )

    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        for column, days in RETENTION:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default=str(days)))
        batch_op.add_column(sa.Column('controller_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('dpo_contact', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('lawful_basis_staff', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('lawful_basis_patients', sa.Text(), nullable=True))
    # The defaults were for the rows already there; the models give new rows theirs.
    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        for column, _ in RETENTION:
            batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raw_purged_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('activation_rating', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonym_key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_activation_rating_pseudonym_key_id'), ['pseudonym_key_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activation_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activation_rating_pseudonym_key_id'))
        batch_op.drop_column('pseudonym_key_id')
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('raw_purged_at')
    with op.batch_alter_table('neighbourhood', schema=None) as batch_op:
        for column in reversed(NOTICE_COLUMNS):
            batch_op.drop_column(column)
        for column, _ in reversed(RETENTION):
            batch_op.drop_column(column)
    op.drop_table('app_setting')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))
    op.drop_table('recovery_code')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_app_user_oidc_issuer_oidc_subject'), type_='unique')
        for column in ('totp_last_step', 'totp_enrolled_at', 'totp_secret_encrypted',
                       'oidc_subject', 'oidc_issuer'):
            batch_op.drop_column(column)
