"""0009: the register of printed forms moves into the store. A form's layout (without its copies)
and the number of serials issued for it were files under the workspace's layouts/ folder, written
without a lock; they are rows of `forms` now, and serials are issued in a locked transaction.
The files of an older workspace are brought in by pipeline/registry.py on its next write and read
beside the table until then (a migration cannot see the workspace's folder: a PostgreSQL store
need not live with it)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("form_key", sa.String(128), primary_key=True),
        sa.Column("layout", sa.Text, nullable=False),
        sa.Column("issued", sa.Integer, nullable=False, server_default="0"),
        sa.Column("registered_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forms")
