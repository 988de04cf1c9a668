"""0004: files.size as a 64-bit integer, so a scan file over 2 GiB fits on PostgreSQL.

SQLite's INTEGER is 64-bit already, and rebuilding the files table there would trip the foreign
keys of pages, so this changes PostgreSQL (and any other server) only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("files", "size", type_=sa.BigInteger, existing_type=sa.Integer,
                        existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("files", "size", type_=sa.Integer, existing_type=sa.BigInteger,
                        existing_nullable=False)
