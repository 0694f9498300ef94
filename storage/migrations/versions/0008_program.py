"""the program in the database: versioned documents edited with /setup

Revision ID: 0008_program
Revises: 0007_erasure
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_program'
down_revision = '0007_erasure'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('program_versions',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_program_versions'))
    )


def downgrade() -> None:
    op.drop_table('program_versions')
