"""rewards, vouchers, expiry lots, tier events, campaigns

Revision ID: 0002_rewards
Revises: 0001_core
Create Date: 2026-11-23

Existing expiring credits get their lots by replaying the ledger (the same
rule as `bot.domain.expiry`, written out here so this migration never
changes when that code does).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0002_rewards'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('ended_by', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('multiplier > 1', name=op.f('ck_campaigns_multiplier_above_one')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('key', name=op.f('uq_campaigns_key'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index('ix_campaigns_ends_at', ['ends_at'], unique=False)

    op.create_table('rewards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seed_id', sa.String(length=32), nullable=True),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('min_tier', sa.SmallInteger(), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('cost > 0', name=op.f('ck_rewards_cost_positive')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_rewards_stock_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards')),
    sa.UniqueConstraint('seed_id', name=op.f('uq_rewards_seed_id'))
    )
    op.create_table('tier_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_tier', sa.SmallInteger(), nullable=False),
    sa.Column('to_tier', sa.SmallInteger(), nullable=False),
    sa.Column('reason', sa.String(length=12), nullable=False),
    sa.Column('earned', sa.Integer(), nullable=False),
    sa.Column('held_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_tier_events_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_events'))
    )
    with op.batch_alter_table('tier_events', schema=None) as batch_op:
        batch_op.create_index('ix_tier_events_member_id_id', ['member_id', 'id'], unique=False)

    op.create_table('vouchers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('validated_by', sa.BigInteger(), nullable=True),
    sa.Column('redeem_key', sa.String(length=160), nullable=True),
    sa.Column('refunded_points', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_vouchers_member_id_members')),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_vouchers_reward_id_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code', name=op.f('uq_vouchers_code'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index('ix_vouchers_member_id_reward_id', ['member_id', 'reward_id'], unique=False)
        batch_op.create_index('ix_vouchers_status_expires_at', ['status', 'expires_at'], unique=False)

    op.create_table('point_lots',
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.CheckConstraint('remaining > 0', name=op.f('ck_point_lots_remaining_positive')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_point_lots_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_point_lots_member_id_members')),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_point_lots'))
    )
    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.create_index('ix_point_lots_expires_at', ['expires_at'], unique=False)
        batch_op.create_index('ix_point_lots_member_id_expires_at', ['member_id', 'expires_at'], unique=False)

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_member_id_created_at', ['member_id', 'created_at'], unique=False)

    _backfill_lots()


def _backfill_lots() -> None:
    ledger = sa.table(
        'ledger_entries', sa.column('id'), sa.column('member_id'), sa.column('delta'),
        sa.column('expires_at', sa.DateTime()),
    )
    lots_table = sa.table(
        'point_lots', sa.column('entry_id'), sa.column('member_id'), sa.column('expires_at', sa.DateTime()),
        sa.column('remaining'),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(ledger.c.id, ledger.c.member_id, ledger.c.delta, ledger.c.expires_at)
        .order_by(ledger.c.member_id, ledger.c.id)
    )
    open_lots: dict[int, list[list[Any]]] = {}  # member → [[expires_at, entry_id, remaining], …]
    for entry_id, member_id, delta, expires_at in rows:
        lots = open_lots.setdefault(member_id, [])
        if delta > 0 and expires_at is not None:
            lots.append([expires_at, entry_id, delta])
            lots.sort()
        elif delta < 0:
            need = -delta
            while need and lots:
                bite = min(lots[0][2], need)
                lots[0][2] -= bite
                need -= bite
                if lots[0][2] == 0:
                    lots.pop(0)
    values = [
        {'entry_id': entry_id, 'member_id': member_id, 'expires_at': expires_at, 'remaining': remaining}
        for member_id, lots in open_lots.items()
        for expires_at, entry_id, remaining in lots
    ]
    if values:
        bind.execute(lots_table.insert(), values)



def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_member_id_created_at')

    with op.batch_alter_table('point_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_point_lots_member_id_expires_at')
        batch_op.drop_index('ix_point_lots_expires_at')

    op.drop_table('point_lots')
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_vouchers_status_expires_at')
        batch_op.drop_index('ix_vouchers_member_id_reward_id')

    op.drop_table('vouchers')
    with op.batch_alter_table('tier_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tier_events_member_id_id')

    op.drop_table('tier_events')
    op.drop_table('rewards')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_campaigns_ends_at')

    op.drop_table('campaigns')
