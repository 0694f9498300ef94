"""speed: photos sent once, then by file_id

Revision ID: 0011_speed
Revises: 0006_earning
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_speed'
down_revision = "0009_recovery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('photo_files',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_photo_files'))
    )


def downgrade() -> None:
    op.drop_table('photo_files')
