"""0002: review decisions, an append-only log from which the current value of an answer follows."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("form_key", sa.String(128), nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("question", sa.String(128), nullable=False),
        sa.Column("old_value", sa.Text, nullable=False),
        sa.Column("new_value", sa.Text, nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
    )
    op.create_index("review_decisions_by_answer", "review_decisions",
                    ["form_key", "serial", "question", "id"])


def downgrade() -> None:
    op.drop_index("review_decisions_by_answer", table_name="review_decisions")
    op.drop_table("review_decisions")
