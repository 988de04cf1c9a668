"""0001: the schema of the first release, as its create_all made it (store_info schema=1).

Written out in full rather than taken from schema.py, so that later changes to schema.py can never
change what this revision means.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    store_info = op.create_table(
        "store_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32)),
        sa.Column("inputs", sa.Text, nullable=False),
    )
    op.create_table(
        "files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("archived_path", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("pages", sa.Integer),
    )
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("file_sha256", sa.String(64), sa.ForeignKey("files.sha256"), nullable=False),
        sa.Column("page_index", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("form_key", sa.String(128), nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("rotation", sa.Integer, nullable=False),
        sa.Column("alignment_quality", sa.Float, nullable=False),
        sa.Column("read_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("file_sha256", "page_index"),
    )
    op.create_index("pages_by_copy", "pages", ["form_key", "serial", "page"])
    op.create_table(
        "boxes",
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), primary_key=True),
        sa.Column("question", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("fill", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
    )
    op.create_table(
        "answers",
        sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), primary_key=True),
        sa.Column("question", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("needs_review", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("crop_path", sa.Text),
    )
    op.create_table(
        "online_responses",
        sa.Column("questionnaire_id", sa.String(128), primary_key=True),
        sa.Column("response_id", sa.String(128), primary_key=True),
        sa.Column("submitted_at", sa.String(64), nullable=False),
        sa.Column("respondent_ref", sa.String(128), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", sa.String(32), nullable=False),
    )
    op.bulk_insert(store_info, [{"key": "schema", "value": "1"}])


def downgrade() -> None:
    for table in ("online_responses", "answers", "boxes", "pages", "files", "batches",
                  "store_info"):
        op.drop_table(table)
