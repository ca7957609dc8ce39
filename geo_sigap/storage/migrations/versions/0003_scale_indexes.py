"""indexes for city scale: duplicate search (category, reported_at), change watermark
(updated_at)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 11:00:00
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        # duplicate search at intake: one category inside a time window
        batch_op.create_index('ix_incidents_category_reported', ['category', 'reported_at'],
                              unique=False)
        # incremental analytics: max(updated_at) and "rows changed since" are index reads
        batch_op.create_index('ix_incidents_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_updated_at')
        batch_op.drop_index('ix_incidents_category_reported')
