"""Tables of the response store, as the newest migration leaves them.

The queries in store.py are written against these; the migrations under migrations/versions/ are
the history that builds them, and a test checks that the two agree on every backend.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

# What stores made before the migrations (plain create_all) wrote in store_info under "schema".
# Such a store is revision 0001; a store managed by the migrations carries an alembic_version row.
LEGACY_SCHEMA_VERSION = 1

metadata = MetaData()

store_info = Table(
    "store_info", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

batches = Table(
    "batches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("inputs", Text, nullable=False),  # JSON list of the paths given
    # finished | stopped (a read-only or full workspace, a store that would not take a write)
    # | interrupted; empty while it runs, and for good if the process was killed (0007).
    Column("ended", String(16)),
    Column("stop_reason", Text),
)

files = Table(
    "files", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("archived_path", Text, nullable=False),
    # Bytes: a long scan file may pass 2 GiB. SQLite's INTEGER is 64-bit already (revision 0004).
    Column("size", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=False),
    Column("status", String(16), nullable=False),  # read | error
    Column("error", Text),
    Column("pages", Integer),
)

pages = Table(
    "pages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_sha256", String(64), ForeignKey("files.sha256"), nullable=False),
    Column("page_index", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("form_key", String(128), nullable=False, default=""),
    Column("serial", String(32), nullable=False, default=""),
    Column("page", Integer, nullable=False, default=0),
    Column("rotation", Integer, nullable=False, default=0),
    Column("alignment_quality", Float, nullable=False, default=0.0),
    Column("read_at", String(32), nullable=False),
    # A duplicate whose confidently read answers differ from the copy read first: probably a
    # photocopy of the form, that is another person's response (0008).
    Column("photocopy", Boolean, nullable=False, server_default=false()),
    # The serial printed on the page, when a person made its copy another response: serial then
    # names that response ("<serial>-2"); null for the response the serial was printed for.
    Column("copy_of", String(32)),
    UniqueConstraint("file_sha256", "page_index"),
    Index("pages_by_copy", "form_key", "serial", "page"),
    Index("pages_by_printed_copy", "form_key", "copy_of", "page"),
)

boxes = Table(
    "boxes", metadata,
    Column("page_id", Integer, ForeignKey("pages.id"), primary_key=True),
    Column("question", String(128), primary_key=True),
    Column("value", String(128), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("fill", Float, nullable=False),
    Column("confidence", Float, nullable=False),
)

answers = Table(
    "answers", metadata,
    Column("page_id", Integer, ForeignKey("pages.id"), primary_key=True),
    Column("question", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("needs_review", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("crop_path", Text),
)

online_responses = Table(
    "online_responses", metadata,
    Column("questionnaire_id", String(128), primary_key=True),
    Column("response_id", String(128), primary_key=True),
    Column("submitted_at", String(64), nullable=False),
    Column("respondent_ref", String(128), nullable=False),
    Column("answers", Text, nullable=False),  # JSON: question name -> value as exported
    Column("source", Text, nullable=False),
    Column("imported_at", String(32), nullable=False),
    # JSON: the tool's metadata column -> value as exported; null when imported before 0010.
    Column("metadata", Text),
)

# How the latest online exports of a questionnaire named their columns (records.OnlineNaming),
# for `papertwin export --columns online` (0010). JSON: columns answer name -> export column,
# choice_columns "question/choice" -> export column, metadata the kept columns in order.
online_naming = Table(
    "online_naming", metadata,
    Column("questionnaire_id", String(128), primary_key=True),
    Column("convention", String(32), nullable=False),
    Column("group_separator", String(8), nullable=False),
    Column("columns", Text, nullable=False),
    Column("choice_columns", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

review_decisions = Table(
    "review_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("form_key", String(128), nullable=False),
    Column("serial", String(32), nullable=False),
    Column("question", String(128), nullable=False),
    Column("old_value", Text, nullable=False),
    Column("new_value", Text, nullable=False),
    Column("reviewer", String(128), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("why", Text, nullable=False),
    Index("review_decisions_by_answer", "form_key", "serial", "question", "id"),
)

contacts = Table(
    "contacts", metadata,
    Column("form_key", String(128), primary_key=True),
    Column("serial", String(32), primary_key=True),
    Column("fields", Text, nullable=False),  # JSON: column of the recipient list -> value
    Column("recorded_at", String(32), nullable=False),
)

users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),  # argon2id, with its parameters and salt
    Column("role", String(16), nullable=False),  # reviewer | supervisor | admin
    Column("created_at", String(32), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
)

sessions = Table(
    "sessions", metadata,
    # The cookie holds a random token; the store keeps only its SHA-256, so a copy of the store
    # does not let anyone in.
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(64), ForeignKey("users.name"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
)

review_referrals = Table(
    "review_referrals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("form_key", String(128), nullable=False),
    Column("serial", String(32), nullable=False),
    Column("question", String(128), nullable=False),
    Column("referred_by", String(64), nullable=False),
    Column("referred_at", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("settled_by", Integer, ForeignKey("review_decisions.id")),  # the decision that ends it
    Index("review_referrals_by_answer", "form_key", "serial", "question"),
)

page_decisions = Table(
    "page_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_sha256", String(64), nullable=False),
    Column("page_index", Integer, nullable=False),
    # keyed | not_a_form | stands | another_response
    Column("action", String(16), nullable=False),
    Column("form_key", String(128), nullable=False),
    Column("serial", String(32), nullable=False),
    Column("page", Integer, nullable=False),
    Column("reviewer", String(64), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("why", Text, nullable=False),
    Index("page_decisions_by_page", "file_sha256", "page_index"),
)

dual_decisions = Table(
    "dual_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paper_response_id", String(128), nullable=False),
    Column("online_response_id", String(128), nullable=False),
    Column("kept", String(16), nullable=False),  # both | paper | online | different
    Column("reviewer", String(64), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("why", Text, nullable=False),
    Index("dual_decisions_by_pair", "paper_response_id", "online_response_id"),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # SHA-256 of the name as typed, trimmed and case-folded: a password typed into the name box
    # by mistake is not kept in the store.
    Column("name_key", String(64), nullable=False),
    Column("attempted_at", String(32), nullable=False),
    Index("login_attempts_by_name", "name_key", "attempted_at"),
)

# The forms registered in the workspace: their geometry (layout.json without its copies), so any
# page of a form key can be read later, and how many serials were issued (0009; a workspace made
# before kept them as files under layouts/, which pipeline/registry.py brings in).
forms = Table(
    "forms", metadata,
    Column("form_key", String(128), primary_key=True),
    Column("layout", Text, nullable=False),
    # the highest serial issued for the form; serial_ranges says which were (0012)
    Column("issued", Integer, nullable=False, server_default="0"),
    Column("registered_at", String(32), nullable=False),
    # JSON: how the form was printed, so a reminder prints the same copy again: the template as
    # kept in the workspace and the print options (0011); null for a form printed elsewhere or
    # registered before.
    Column("template", Text),
)

# The serials issued for a form, run by run (0012): serials are unique across the forms of a
# questionnaire, so a variant printed after another starts after the other's serials.
serial_ranges = Table(
    "serial_ranges", metadata,
    Column("form_key", String(128), primary_key=True),
    Column("first", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
    Column("issued_at", String(32), nullable=False),
)

# Responses that did not come as a scanned copy (0011): phone | paper-keyed | letter. serial: the
# copy the response answers for, when known ("" otherwise); form_key: the printed variant whose
# wording was keyed from or read out ("" for a letter).
channel_responses = Table(
    "channel_responses", metadata,
    Column("response_id", String(128), primary_key=True),
    Column("questionnaire_id", String(128), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("form_key", String(128), nullable=False, server_default=""),
    Column("serial", String(32), nullable=False, server_default=""),
    Column("language", String(16), nullable=False, server_default=""),
    Column("double_entry", Boolean, nullable=False, server_default=false()),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Index("channel_responses_by_serial", "questionnaire_id", "serial"),
)

# A keyed response's entries: entry 1, and under double entry entry 2 keyed blind by another
# person. JSON: question name -> value as the dataset holds it.
keyed_entries = Table(
    "keyed_entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("response_id", String(128), nullable=False),
    Column("entry", Integer, nullable=False),
    Column("answers", Text, nullable=False),
    Column("keyed_by", String(64), nullable=False),
    Column("keyed_at", String(32), nullable=False),
    Index("keyed_entries_by_response", "response_id", "entry"),
)

# The third decision on a field where two entries differ (or a later correction); the latest
# decision on a field wins, the entries stay as keyed.
keyed_decisions = Table(
    "keyed_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("response_id", String(128), nullable=False),
    Column("question", String(128), nullable=False),
    Column("value", Text, nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("why", Text, nullable=False),
    Index("keyed_decisions_by_response", "response_id", "question", "id"),
)

# The scanned pages of a letter, in order, with the text read from each and its confidence
# (0..1). A page belongs to one letter at most.
letter_pages = Table(
    "letter_pages", metadata,
    Column("file_sha256", String(64), primary_key=True),
    Column("page_index", Integer, primary_key=True),
    Column("response_id", String(128), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("read_at", String(32), nullable=False),
    Index("letter_pages_by_response", "response_id", "position"),
)

# A letter's text as a person corrected it; the latest wins, the text read stays in letter_pages.
letter_texts = Table(
    "letter_texts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("response_id", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("edited_by", String(64), nullable=False),
    Column("edited_at", String(32), nullable=False),
    Index("letter_texts_by_response", "response_id", "id"),
)

# Each reminder printed for a copy: round 1, 2, ... per serial; after: the date given (ISO).
reminders = Table(
    "reminders", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("questionnaire_id", String(128), nullable=False),
    Column("form_key", String(128), nullable=False),
    Column("serial", String(32), nullable=False),
    Column("round", Integer, nullable=False),
    Column("after", String(10), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Index("reminders_by_serial", "questionnaire_id", "serial"),
)
