"""0007: how a batch ended: finished, or stopped early and why (a read-only or full workspace,
an interruption), so that a batch without an end is one that was killed or is still running."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("ended", sa.String(16)))
        batch.add_column(sa.Column("stop_reason", sa.Text))
    op.execute("UPDATE batches SET ended = 'finished' WHERE finished_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("stop_reason")
        batch.drop_column("ended")
