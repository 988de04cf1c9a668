"""0006: password checks of the review app, counted in the store before they run, so that
guesses sent at the same moment, or to several processes, count as many guesses."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("attempted_at", sa.String(32), nullable=False),
    )
    op.create_index("login_attempts_by_name", "login_attempts", ["name_key", "attempted_at"])


def downgrade() -> None:
    op.drop_table("login_attempts")
