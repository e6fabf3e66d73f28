"""Migration 0016 on SQLite: existing threads become one branch each, ending at their newest
message, and thread search still follows new and deleted messages (the copy of `messages`
dropped its triggers, which the migration makes again)."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from alembic import command

from app.migrate import alembic_config


def test_existing_messages_are_linked_in_order_and_the_newest_is_shown(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "0015")
    user, long, short, empty = (uuid.uuid4().hex for _ in range(4))
    first, second, third, alone = (uuid.uuid4().hex for _ in range(4))
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO users (id, email, password_hash, role, is_active, timezone, created_at) "
                   "VALUES (?, 'ada@example.com', 'x', 'user', 1, 'UTC', '2026-11-01 09:00:00')", (user,))  # fmt: skip
        for thread in (long, short, empty):
            db.execute("INSERT INTO threads (id, owner_id, title, created_at, updated_at) "
                       "VALUES (?, ?, 'T', '2026-11-01 09:00:00', '2026-11-01 09:00:00')", (thread, user))  # fmt: skip
        rows = [(third, long, "third", "10:00:02"), (first, long, "first", "10:00:00"),
                (alone, short, "alone", "10:00:05"), (second, long, "second", "10:00:01")]  # fmt: skip
        for message_id, thread, content, at in rows:  # not in time order
            db.execute("INSERT INTO messages (id, thread_id, role, content, created_at) VALUES (?, ?, 'user', ?, ?)",
                       (message_id, thread, content, f"2026-11-01 {at}"))  # fmt: skip
    db.close()
    command.upgrade(config, "0016")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys=ON")
        parents = dict(db.execute("SELECT id, parent_id FROM messages").fetchall())
        shown = dict(db.execute("SELECT id, current_message_id FROM threads").fetchall())
        db.execute("INSERT INTO messages (id, thread_id, parent_id, role, content, created_at) "
                   "VALUES (?, ?, ?, 'user', 'zebra', '2026-11-02 10:00:00')", (uuid.uuid4().hex, short, alone))  # fmt: skip
        found = db.execute("SELECT count(*) FROM thread_search_fts WHERE thread_search_fts MATCH 'zebra'").fetchone()
        db.execute("DELETE FROM messages WHERE id = ?", (first,))  # the rest of its branch goes with it
        left = db.execute("SELECT content FROM messages WHERE thread_id = ?", (long,)).fetchall()
        unsearchable = db.execute("SELECT count(*) FROM thread_search_fts WHERE thread_search_fts MATCH 'second'")
        gone = unsearchable.fetchone()
    db.close()
    assert parents == {first: None, second: first, third: second, alone: None}
    assert shown == {long: third, short: alone, empty: None}
    assert found == (1,) and left == [] and gone == (0,)
