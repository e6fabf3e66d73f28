"""thread search (titles and messages, full text), pinned and archived threads

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: one FTS5 table holds every thread's title (message_id NULL) and every message, kept
# in step by triggers (a thread's delete cascades to its messages, whose trigger fires too).
# Diacritics are kept, as PostgreSQL's 'simple' configuration keeps them.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE thread_search_fts USING fts5("
    "thread_id UNINDEXED, message_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 0')",
    "INSERT INTO thread_search_fts (thread_id, message_id, body) SELECT id, NULL, title FROM threads",
    "INSERT INTO thread_search_fts (thread_id, message_id, body) SELECT thread_id, id, content FROM messages",
    "CREATE TRIGGER threads_search_ai AFTER INSERT ON threads BEGIN "
    "INSERT INTO thread_search_fts (thread_id, message_id, body) VALUES (new.id, NULL, new.title); END",
    "CREATE TRIGGER threads_search_au AFTER UPDATE OF title ON threads BEGIN "
    "UPDATE thread_search_fts SET body = new.title WHERE thread_id = new.id AND message_id IS NULL; END",
    "CREATE TRIGGER threads_search_ad AFTER DELETE ON threads BEGIN "
    "DELETE FROM thread_search_fts WHERE thread_id = old.id; END",
    "CREATE TRIGGER messages_search_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO thread_search_fts (thread_id, message_id, body) VALUES (new.thread_id, new.id, new.content); END",
    "CREATE TRIGGER messages_search_au AFTER UPDATE OF content ON messages BEGIN "
    "UPDATE thread_search_fts SET body = new.content WHERE message_id = new.id; END",
    "CREATE TRIGGER messages_search_ad AFTER DELETE ON messages BEGIN "
    "DELETE FROM thread_search_fts WHERE message_id = old.id; END",
]
SQLITE_TRIGGERS = [
    "threads_search_ai", "threads_search_au", "threads_search_ad",
    "messages_search_ai", "messages_search_au", "messages_search_ad",
]  # fmt: skip


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch: SQLite's batch would copy `threads` and drop the old
    # table, and with foreign keys on, that drop deletes every message (ON DELETE CASCADE).
    op.add_column("threads", sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("threads", sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_threads_fts ON threads USING gin (to_tsvector('simple', title))")
        op.execute("CREATE INDEX ix_messages_fts ON messages USING gin (to_tsvector('simple', content))")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_fts")
        op.execute("DROP INDEX IF EXISTS ix_threads_fts")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS thread_search_fts")
    op.drop_column("threads", "archived")  # SQLite 3.35+ drops a column in place
    op.drop_column("threads", "pinned")
