"""alert volume control: digest mode, urgency and the message an alert went out in

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch_alter_table: SQLite cannot add columns with constraints in place; on
    # PostgreSQL it is a plain ALTER TABLE. Existing rows are immediate, not urgent.
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column("mode", sa.String(length=8), nullable=False, server_default="now")
        )
        batch.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("batch_key", sa.String(length=64), nullable=True))
    op.create_index("ix_alerts_batch_key", "alerts", ["batch_key"], unique=False)
    op.create_index(
        "ix_alerts_channel_delivered", "alerts", ["channel", "delivered_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_channel_delivered", table_name="alerts")
    op.drop_index("ix_alerts_batch_key", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("batch_key")
        batch.drop_column("urgent")
        batch.drop_column("mode")
