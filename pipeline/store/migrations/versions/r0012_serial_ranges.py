"""0012: which serials each form was issued. Serials are now unique across all the forms of a
questionnaire (the variants of one mailing, its versions), so a form's serials no longer run
from 1 to its count: `serial_ranges` keeps each run of serials issued for a form, first to last.
A form registered before has its serials 1..issued, as they were issued then."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ranges = op.create_table(
        "serial_ranges",
        sa.Column("form_key", sa.String(128), primary_key=True),
        sa.Column("first", sa.Integer, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
        sa.Column("issued_at", sa.String(32), nullable=False),
    )
    forms = sa.table("forms", sa.column("form_key", sa.String), sa.column("issued", sa.Integer),
                     sa.column("registered_at", sa.String))
    rows = op.get_bind().execute(sa.select(forms.c.form_key, forms.c.issued,
                                           forms.c.registered_at).where(forms.c.issued > 0))
    backfill = [{"form_key": row.form_key, "first": 1, "last": row.issued,
                 "issued_at": row.registered_at} for row in rows]
    if backfill:
        op.bulk_insert(ranges, backfill)


def downgrade() -> None:
    op.drop_table("serial_ranges")
