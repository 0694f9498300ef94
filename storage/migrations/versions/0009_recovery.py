"""recovery, surprises, prize draws

Revision ID: 0009_recovery
Revises: 0006_earning
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_recovery'
down_revision = "0008_program"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budgets',
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.CheckConstraint('used >= 0', name=op.f('ck_budgets_used_not_negative')),
    sa.PrimaryKeyConstraint('name', 'period', name=op.f('pk_budgets'))
    )
    op.create_table('draws',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('opens_at', sa.DateTime(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('unit', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('prizes', sa.JSON(), nullable=False),
    sa.Column('winners', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('owner_lang', sa.String(length=2), nullable=False),
    sa.Column('rules_confirmed_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('announced_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('tickets', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.CheckConstraint('winners > 0', name=op.f('ck_draws_winners_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draws')),
    sa.UniqueConstraint('key', name=op.f('uq_draws_key'))
    )
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.create_index('ix_draws_status_closes_at', ['status', 'closes_at'], unique=False)

    op.create_table('surprises',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('segment', sa.JSON(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('chosen', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_surprises_reward_id_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surprises')),
    sa.UniqueConstraint('key', name=op.f('uq_surprises_key'))
    )
    op.create_table('draw_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('draw_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ledger_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('tickets > 0', name=op.f('ck_draw_entries_tickets_positive')),
    sa.ForeignKeyConstraint(['draw_id'], ['draws.id'], name=op.f('fk_draw_entries_draw_id_draws')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_draw_entries_ledger_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_draw_entries_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_entries')),
    sa.UniqueConstraint('draw_id', 'ledger_entry_id', name=op.f('uq_draw_entries_draw_id_ledger_entry_id'))
    )
    with op.batch_alter_table('draw_entries', schema=None) as batch_op:
        batch_op.create_index('ix_draw_entries_member_id', ['member_id'], unique=False)

    op.create_table('draw_winners',
    sa.Column('draw_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('told', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['draws.id'], name=op.f('fk_draw_winners_draw_id_draws')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_draw_winners_member_id_members')),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_draw_winners_reward_id_rewards')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_draw_winners_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('draw_id', 'rank', name=op.f('pk_draw_winners')),
    sa.UniqueConstraint('draw_id', 'member_id', name=op.f('uq_draw_winners_draw_id_member_id'))
    )
    op.create_table('recovery_cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('survey_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('handled_by', sa.BigInteger(), nullable=True),
    sa.Column('handler_name', sa.String(length=128), nullable=True),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('apologised_at', sa.DateTime(), nullable=True),
    sa.Column('goodwill_points', sa.Integer(), nullable=True),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('followup_asked_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=4), nullable=True),
    sa.Column('outcome_comment', sa.String(length=1000), nullable=True),
    sa.Column('outcome_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_recovery_cases_member_id_members')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_recovery_cases_survey_id_surveys')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_recovery_cases_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_cases')),
    sa.UniqueConstraint('survey_id', name=op.f('uq_recovery_cases_survey_id'))
    )
    with op.batch_alter_table('recovery_cases', schema=None) as batch_op:
        batch_op.create_index('ix_recovery_cases_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_recovery_cases_followup', ['followup_asked_at', 'handled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_cases_member_id'), ['member_id'], unique=False)

    op.create_table('surprise_gifts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('surprise_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_surprise_gifts_member_id_members')),
    sa.ForeignKeyConstraint(['surprise_id'], ['surprises.id'], name=op.f('fk_surprise_gifts_surprise_id_surprises')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_surprise_gifts_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surprise_gifts')),
    sa.UniqueConstraint('surprise_id', 'member_id', name=op.f('uq_surprise_gifts_surprise_id_member_id'))
    )
    with op.batch_alter_table('surprise_gifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surprise_gifts_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_message_id', sa.BigInteger(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('sent_message_id')

    with op.batch_alter_table('surprise_gifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surprise_gifts_member_id'))

    op.drop_table('surprise_gifts')
    with op.batch_alter_table('recovery_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_cases_member_id'))
        batch_op.drop_index('ix_recovery_cases_followup')
        batch_op.drop_index('ix_recovery_cases_created_at')

    op.drop_table('recovery_cases')
    op.drop_table('draw_winners')
    with op.batch_alter_table('draw_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_draw_entries_member_id')

    op.drop_table('draw_entries')
    op.drop_table('surprises')
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.drop_index('ix_draws_status_closes_at')

    op.drop_table('draws')
    op.drop_table('budgets')
