"""channel messages (WhatsApp, Telegram, SMS intake): idempotency and burst grouping

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import geo_sigap.storage.tables


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("sender_key", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("received_at", geo_sigap.storage.tables.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_channel_messages_message", "channel_messages",
                    ["channel", "message_id"], unique=True)
    op.create_index("ix_channel_messages_sender", "channel_messages",
                    ["channel", "sender_key", "received_at"])
    op.create_index("ix_channel_messages_incident_id", "channel_messages", ["incident_id"])


def downgrade() -> None:
    op.drop_table("channel_messages")
