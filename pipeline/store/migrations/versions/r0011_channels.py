"""0011: every way a person answers. `forms.template` keeps how a registered form was printed
(the template kept in the workspace and the print options), so a reminder can print the same
copy again. `channel_responses` holds the responses that did not come as a scanned copy: keyed
by phone (`phone`), a paper return typed in (`paper-keyed`), and correspondence (`letter`).
A keyed response's answers are its entries (`keyed_entries`: the first keying and, under double
entry, a second blind one) and the decisions that settle the fields where they differ
(`keyed_decisions`); nothing is overwritten. A letter's pages (`letter_pages`) keep the text read
from them with its confidence, and `letter_texts` the corrections made in the review app.
`reminders` records each reminder printed for a copy, one round after another."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forms") as batch:
        batch.add_column(sa.Column("template", sa.Text))
    op.create_table(
        "channel_responses",
        sa.Column("response_id", sa.String(128), primary_key=True),
        sa.Column("questionnaire_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("form_key", sa.String(128), nullable=False, server_default=""),
        sa.Column("serial", sa.String(32), nullable=False, server_default=""),
        sa.Column("language", sa.String(16), nullable=False, server_default=""),
        sa.Column("double_entry", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("channel_responses_by_serial", "channel_responses",
                    ["questionnaire_id", "serial"])
    op.create_table(
        "keyed_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("response_id", sa.String(128), nullable=False),
        sa.Column("entry", sa.Integer, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("keyed_by", sa.String(64), nullable=False),
        sa.Column("keyed_at", sa.String(32), nullable=False),
    )
    op.create_index("keyed_entries_by_response", "keyed_entries", ["response_id", "entry"])
    op.create_table(
        "keyed_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("response_id", sa.String(128), nullable=False),
        sa.Column("question", sa.String(128), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
    )
    op.create_index("keyed_decisions_by_response", "keyed_decisions",
                    ["response_id", "question", "id"])
    op.create_table(
        "letter_pages",
        sa.Column("file_sha256", sa.String(64), primary_key=True),
        sa.Column("page_index", sa.Integer, primary_key=True),
        sa.Column("response_id", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("read_at", sa.String(32), nullable=False),
    )
    op.create_index("letter_pages_by_response", "letter_pages", ["response_id", "position"])
    op.create_table(
        "letter_texts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("response_id", sa.String(128), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("edited_by", sa.String(64), nullable=False),
        sa.Column("edited_at", sa.String(32), nullable=False),
    )
    op.create_index("letter_texts_by_response", "letter_texts", ["response_id", "id"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("questionnaire_id", sa.String(128), nullable=False),
        sa.Column("form_key", sa.String(128), nullable=False),
        sa.Column("serial", sa.String(32), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("after", sa.String(10), nullable=False),
        sa.Column("issued_at", sa.String(32), nullable=False),
    )
    op.create_index("reminders_by_serial", "reminders", ["questionnaire_id", "serial"])


def downgrade() -> None:
    for index, table in (("reminders_by_serial", "reminders"),
                         ("letter_texts_by_response", "letter_texts"),
                         ("letter_pages_by_response", "letter_pages"),
                         ("keyed_decisions_by_response", "keyed_decisions"),
                         ("keyed_entries_by_response", "keyed_entries"),
                         ("channel_responses_by_serial", "channel_responses")):
        op.drop_index(index, table_name=table)
        op.drop_table(table)
    with op.batch_alter_table("forms") as batch:
        batch.drop_column("template")
