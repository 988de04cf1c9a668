"""0008: photocopied returns. A duplicate page whose answers differ from the copy read first is
marked a probable photocopy (pages.photocopy); a copy a person makes another response keeps the
serial printed on it in pages.copy_of, while pages.serial names the response ("<serial>-2")."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("photocopy", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("copy_of", sa.String(32)))
    # Each page stored looks for the responses made of photocopies of its copy.
    op.create_index("pages_by_printed_copy", "pages", ["form_key", "copy_of", "page"])


def downgrade() -> None:
    op.drop_index("pages_by_printed_copy", "pages")
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("copy_of")
        batch.drop_column("photocopy")
