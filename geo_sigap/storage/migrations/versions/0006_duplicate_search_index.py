"""incidents: the duplicate search reads the candidates' places from its index

``find_duplicate`` (every report) asks for reports of one category within a time window
*and* a small lon/lat box. ``ix_incidents_category_reported`` (category, reported_at)
found the window, but every report in it was read from the table to test its place: in
a busy spell (or a benchmark at 200 reports/s) that is every report of the category in
the last two hours — 1,351 rows, 0.87 ms a report on SQLite after 8,100 reports. With
``lon`` and ``lat`` in the index the box is tested on the index entries and only the
few inside are read: 0.11 ms on the same data. The index serves every query the old one
did (same first columns).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:15:00
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_category_reported')
        batch_op.create_index('ix_incidents_category_reported',
                              ['category', 'reported_at', 'lon', 'lat'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_category_reported')
        batch_op.create_index('ix_incidents_category_reported', ['category', 'reported_at'],
                              unique=False)
