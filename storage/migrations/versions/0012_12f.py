"""cards: a photo on rewards and on broadcasts (Telegram file_ids)

Revision ID: 0012_12f
Revises: 0011_speed
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_12f'
down_revision = "0011_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rewards') as batch:
        batch.add_column(sa.Column('photo', sa.String(length=255), nullable=True))
    with op.batch_alter_table('broadcasts') as batch:
        batch.add_column(sa.Column('photo', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('broadcasts') as batch:
        batch.drop_column('photo')
    with op.batch_alter_table('rewards') as batch:
        batch.drop_column('photo')
