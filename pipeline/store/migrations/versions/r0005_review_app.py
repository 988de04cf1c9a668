"""0005: what the review web app needs: people and their sessions, referrals to a supervisor,
and the append-only logs of decisions about whole pages and about dual-channel pairs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "review_referrals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("form_key", sa.String(128), nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("question", sa.String(128), nullable=False),
        sa.Column("referred_by", sa.String(64), nullable=False),
        sa.Column("referred_at", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("settled_by", sa.Integer, sa.ForeignKey("review_decisions.id")),
    )
    op.create_index("review_referrals_by_answer", "review_referrals",
                    ["form_key", "serial", "question"])
    op.create_table(
        "page_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("page_index", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("form_key", sa.String(128), nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
    )
    op.create_index("page_decisions_by_page", "page_decisions", ["file_sha256", "page_index"])
    op.create_table(
        "dual_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("paper_response_id", sa.String(128), nullable=False),
        sa.Column("online_response_id", sa.String(128), nullable=False),
        sa.Column("kept", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
    )
    op.create_index("dual_decisions_by_pair", "dual_decisions",
                    ["paper_response_id", "online_response_id"])


def downgrade() -> None:
    op.drop_table("dual_decisions")
    op.drop_table("page_decisions")
    op.drop_table("review_referrals")
    op.drop_table("sessions")
    op.drop_table("users")
