"""0010: the online export's own column names. Each online response keeps the values of its
tool's metadata columns (start, end, deviceid, _id, SubmitterName, ...) in
online_responses.metadata, and online_naming records, per questionnaire, the export column each
answer and each multiple choice's 0/1 column was read from and the metadata columns in the
export's order, so that `papertwin export --columns online` can name the dataset as the online
export did. Responses imported before have no metadata (null) and no naming: their dataset keeps
the question names."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("online_responses") as batch:
        batch.add_column(sa.Column("metadata", sa.Text))
    op.create_table(
        "online_naming",
        sa.Column("questionnaire_id", sa.String(128), primary_key=True),
        sa.Column("convention", sa.String(32), nullable=False),
        sa.Column("group_separator", sa.String(8), nullable=False),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("choice_columns", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("online_naming")
    with op.batch_alter_table("online_responses") as batch:
        batch.drop_column("metadata")
