"""shop: api keys, orders, refunds, phone claims

Revision ID: 0005_shop
Revises: 0004_growth
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_shop'
down_revision = '0004_growth'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index('ix_api_keys_name_active', ['name'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('shop_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=True),
    sa.Column('refunded_amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('refunded_points', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('via', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('refunded_amount <= amount', name=op.f('ck_shop_orders_refunds_within_order')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_shop_orders_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_orders')),
    sa.UniqueConstraint('source', 'reference', name=op.f('uq_shop_orders_source_reference'))
    )
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_orders_member_id'), ['member_id'], unique=False)

    op.create_table('order_refunds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reversed', sa.Integer(), nullable=False),
    sa.Column('unrecovered', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['shop_orders.id'], name=op.f('fk_order_refunds_order_id_shop_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_refunds')),
    sa.UniqueConstraint('source', 'reference', name=op.f('uq_order_refunds_source_reference'))
    )
    with op.batch_alter_table('order_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_refunds_order_id'), ['order_id'], unique=False)

    op.create_table('phone_claims',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('credited_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('points >= 0', name=op.f('ck_phone_claims_points_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_phone_claims_member_id_members')),
    sa.ForeignKeyConstraint(['order_id'], ['shop_orders.id'], name=op.f('fk_phone_claims_order_id_shop_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_claims')),
    sa.UniqueConstraint('order_id', name=op.f('uq_phone_claims_order_id'))
    )
    with op.batch_alter_table('phone_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_claims_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_phone_claims_phone_status', ['phone', 'status'], unique=False)
        batch_op.create_index('ix_phone_claims_status_expires_at', ['status', 'expires_at'], unique=False)

    # A shared phone is kept in E.164 from now on (SPEC §9.3); Telegram's contact
    # button sent international digits, so the stored ones only lack the '+'.
    op.execute("UPDATE members SET phone = '+' || phone WHERE phone IS NOT NULL AND phone NOT LIKE '+%'")



def downgrade() -> None:
    op.execute("UPDATE members SET phone = substr(phone, 2) WHERE phone LIKE '+%'")
    with op.batch_alter_table('phone_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_phone_claims_status_expires_at')
        batch_op.drop_index('ix_phone_claims_phone_status')
        batch_op.drop_index(batch_op.f('ix_phone_claims_member_id'))

    op.drop_table('phone_claims')
    with op.batch_alter_table('order_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_refunds_order_id'))

    op.drop_table('order_refunds')
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_orders_member_id'))

    op.drop_table('shop_orders')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_api_keys_name_active', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.drop_table('api_keys')
