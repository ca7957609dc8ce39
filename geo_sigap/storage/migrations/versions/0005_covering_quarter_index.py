"""incidents: the quarter check served by one index (reported_at, updated_at), the
single-column indexes that composites already cover dropped

The check of a stored analytics quarter (count, sum of ids, newest updated_at of the
incidents reported in it; ``storage.incidents.quarter_check``) read every row of the
quarter from the table through ``ix_incidents_reported_at`` (~4 s for 20 quarters at a
million incidents on SQLite); ``ix_incidents_reported_updated`` holds both columns (and
the id: SQLite's rowid, PostgreSQL's INCLUDE), so the check reads the index alone. It
serves every ``reported_at`` range the old index served (its first column).
``ix_incidents_category`` and ``ix_incidents_status`` are the first columns of
``ix_incidents_category_reported`` and ``ix_incidents_status_reported``: one index less
to update per write each.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 16:30:00
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_reported_updated', ['reported_at', 'updated_at'],
                              unique=False, postgresql_include=['id'])
        batch_op.drop_index('ix_incidents_reported_at')
        batch_op.drop_index('ix_incidents_category')
        batch_op.drop_index('ix_incidents_status')


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_status', ['status'], unique=False)
        batch_op.create_index('ix_incidents_category', ['category'], unique=False)
        batch_op.create_index('ix_incidents_reported_at', ['reported_at'], unique=False)
        batch_op.drop_index('ix_incidents_reported_updated')
