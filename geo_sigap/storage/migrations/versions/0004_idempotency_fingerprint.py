"""incidents.idempotency_fingerprint: what a report with an Idempotency-Key said, so that
a reuse of the key with another body is refused instead of answered with the first case

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_fingerprint', sa.String(length=64),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('idempotency_fingerprint')
