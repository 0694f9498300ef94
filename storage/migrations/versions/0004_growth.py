"""growth: referral conversions and surveys

Revision ID: 0004_growth
Revises: 0003_messaging
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_growth'
down_revision = '0003_messaging'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(
            'ix_ledger_entries_kind_created_at', ['kind', 'created_at', 'member_id', 'delta'], unique=False
        )

    op.create_table('referral_conversions',
    sa.Column('referee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('referrer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('referrer_points', sa.Integer(), nullable=False),
    sa.Column('referee_points', sa.Integer(), nullable=False),
    sa.Column('converted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['referee_id'], ['members.id'], name=op.f('fk_referral_conversions_referee_id_members')),
    sa.ForeignKeyConstraint(['referrer_id'], ['members.id'], name=op.f('fk_referral_conversions_referrer_id_members')),
    sa.PrimaryKeyConstraint('referee_id', name=op.f('pk_referral_conversions'))
    )
    with op.batch_alter_table('referral_conversions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_conversions_converted_at'), ['converted_at'], unique=False)
        batch_op.create_index('ix_referral_conversions_referrer_id_converted_at', ['referrer_id', 'converted_at'], unique=False)

    op.create_table('surveys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.String(length=1000), nullable=True),
    sa.Column('bonus', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('alerted_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 10)', name=op.f('ck_surveys_score_range')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_surveys_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('key', name=op.f('uq_surveys_key'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_kind_answered_at', ['kind', 'answered_at'], unique=False)
        batch_op.create_index('ix_surveys_member_id_created_at', ['member_id', 'created_at'], unique=False)
        batch_op.create_index('ix_surveys_status_answered_at', ['status', 'answered_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_status_answered_at')
        batch_op.drop_index('ix_surveys_member_id_created_at')
        batch_op.drop_index('ix_surveys_kind_answered_at')

    op.drop_table('surveys')
    with op.batch_alter_table('referral_conversions', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_conversions_referrer_id_converted_at')
        batch_op.drop_index(batch_op.f('ix_referral_conversions_converted_at'))

    op.drop_table('referral_conversions')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_kind_created_at')
