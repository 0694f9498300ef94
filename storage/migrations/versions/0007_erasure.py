"""erasure: former members (keyed hash only) and the member an outbox message is about

Revision ID: 0007_erasure
Revises: 0006_earning
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_erasure'
down_revision = '0006_earning'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('former_members',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('signup_bonus', sa.Boolean(), nullable=False),
    sa.Column('referred', sa.Boolean(), nullable=False),
    sa.Column('birthday_bonus_at', sa.DateTime(), nullable=True),
    sa.Column('forgotten_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_former_members'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_subject_id'), ['subject_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_subject_id_members'), 'members', ['subject_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_subject_id_members'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_subject_id'))
        batch_op.drop_column('subject_id')

    op.drop_table('former_members')
