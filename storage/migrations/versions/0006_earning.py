"""more ways to earn: stamp cards, earning actions, milestones, tier entry rewards, early access

Revision ID: 0006_earning
Revises: 0005_shop
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_earning'
down_revision = '0005_shop'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_codes',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('action_id', sa.String(length=24), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_action_codes'))
    )
    op.create_table('action_claims',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('action_id', sa.String(length=24), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('verify', sa.String(length=8), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_action_claims_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_claims')),
    sa.UniqueConstraint('key', name=op.f('uq_action_claims_key'))
    )
    with op.batch_alter_table('action_claims', schema=None) as batch_op:
        batch_op.create_index('ix_action_claims_member_id_action_id_period', ['member_id', 'action_id', 'period'], unique=False)
        batch_op.create_index('ix_action_claims_status_created_at', ['status', 'created_at'], unique=False)

    op.create_table('member_grants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_grants_member_id_members')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_member_grants_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_grants')),
    sa.UniqueConstraint('key', name=op.f('uq_member_grants_key'))
    )
    with op.batch_alter_table('member_grants', schema=None) as batch_op:
        batch_op.create_index('ix_member_grants_member_id_kind_ref', ['member_id', 'kind', 'ref'], unique=False)

    op.create_table('stamp_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('delta <> 0', name=op.f('ck_stamp_entries_delta_not_zero')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_stamp_entries_member_id_members')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_stamp_entries_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stamp_entries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_stamp_entries_idempotency_key'))
    )
    with op.batch_alter_table('stamp_entries', schema=None) as batch_op:
        batch_op.create_index('ix_stamp_entries_kind_created_at', ['kind', 'created_at'], unique=False)
        batch_op.create_index('ix_stamp_entries_member_id_created_at', ['member_id', 'created_at'], unique=False)

    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('early_tier', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('early_hours', sa.Integer(), nullable=True))

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stamps', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_members_stamps_not_negative'), 'stamps >= 0')

    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('early_access_hours', sa.Integer(), nullable=True))

    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=12), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_column('source')

    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_column('early_access_hours')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_members_stamps_not_negative'), type_='check')
        batch_op.drop_column('stamps')

    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_column('early_hours')
        batch_op.drop_column('early_tier')

    with op.batch_alter_table('stamp_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_stamp_entries_member_id_created_at')
        batch_op.drop_index('ix_stamp_entries_kind_created_at')

    op.drop_table('stamp_entries')
    with op.batch_alter_table('member_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_member_grants_member_id_kind_ref')

    op.drop_table('member_grants')
    with op.batch_alter_table('action_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_action_claims_status_created_at')
        batch_op.drop_index('ix_action_claims_member_id_action_id_period')

    op.drop_table('action_claims')
    op.drop_table('action_codes')
