"""message branches (edit, regenerate)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Until now a thread was one line of messages by time: each message follows the one before
# it, and the branch shown ends at the newest.
LINK_MESSAGES = (
    "UPDATE messages SET parent_id = earlier.prev FROM ("
    "SELECT id, LAG(id) OVER (PARTITION BY thread_id ORDER BY created_at, id) AS prev FROM messages"
    ") AS earlier WHERE earlier.id = messages.id AND earlier.prev IS NOT NULL"
)
SHOW_NEWEST = (
    "UPDATE threads SET current_message_id = (SELECT m.id FROM messages m WHERE m.thread_id = threads.id "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT 1)"
)


# A batch copies `messages` on SQLite (a foreign key cannot be added in place), and dropping
# the old table drops its search triggers (0015): they are made again, the same.
MESSAGE_TRIGGERS = [
    "CREATE TRIGGER messages_search_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO thread_search_fts (thread_id, message_id, body) VALUES (new.thread_id, new.id, new.content); END",
    "CREATE TRIGGER messages_search_au AFTER UPDATE OF content ON messages BEGIN "
    "UPDATE thread_search_fts SET body = new.content WHERE message_id = new.id; END",
    "CREATE TRIGGER messages_search_ad AFTER DELETE ON messages BEGIN "
    "DELETE FROM thread_search_fts WHERE message_id = old.id; END",
]


def upgrade() -> None:
    # Nothing cascades while the batch copies `messages`: migrations/env.py turns SQLite's
    # foreign keys off.
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("parent_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_messages_parent_id_messages", "messages", ["parent_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_messages_parent_id", ["parent_id"])
    # Plain ALTER TABLE: a batch of `threads` would drop it, and its triggers with it.
    op.add_column("threads", sa.Column("current_message_id", sa.Uuid(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in MESSAGE_TRIGGERS:
            op.execute(statement)
    op.execute(LINK_MESSAGES)
    op.execute(SHOW_NEWEST)


def downgrade() -> None:
    op.drop_column("threads", "current_message_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_parent_id")
        batch.drop_constraint("fk_messages_parent_id_messages", type_="foreignkey")
        batch.drop_column("parent_id")
    if op.get_bind().dialect.name == "sqlite":
        for statement in MESSAGE_TRIGGERS:
            op.execute(statement)
