"""0003: contacts of an addressed mailing, in a table of their own, keyed by form and serial."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("form_key", sa.String(128), primary_key=True),
        sa.Column("serial", sa.String(32), primary_key=True),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("contacts")
