"""Upgrading a database the previous release wrote: every row survives and Nova serves it.

The previous release ended at revision 0015. A fresh database per dialect is migrated to it,
filled with plain SQL the way that release's tables were, then upgraded with the code path
`nova serve` runs on start (app.migrate.upgrade_to_head).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

import app.models  # noqa: F401 - the tables the upgraded schema is compared with
from app.accounts.authentication import session_cookie, session_signer
from app.db import Base, UTCDateTime, make_engine
from app.migrate import alembic_config, upgrade_to_head
from app.security.passwords import hash_password
from app.security.secretbox import mask_secret
from app.security.tokens import token_hash
from tests.fixtures.nova import PASSWORD, nova_settings, open_nova
from tests.fixtures.postgres import fresh_database

pytestmark = pytest.mark.both_databases

PREVIOUS_RELEASE = "0015"
EMAIL = "ada@example.com"
SESSION_TOKEN = "old-release-session-cookie-value"
API_TOKEN = "nova_old-release-api-token-value-1234"
PROVIDER_KEY = "sk-old-release-key-abcd"
MESSAGES = [
    ("user", "How often should I water basil on a sunny windowsill?"),
    ("assistant", "Water basil when the top centimetre of soil feels dry, usually every two days."),
    ("user", "And rosemary, which prefers drier soil?"),
]
# Tables this release added (0016-0021): created empty.
NEW_TABLES = ["password_resets", "system_mcp_servers", "mcp_oauth_grants", "mcp_oauth_requests", "thread_summaries"]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own with no tables: never the suite's shared, migrated one."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url


async def test_a_previous_release_database_upgrades_with_every_row(empty_url: str, tmp_path: Path) -> None:
    # Alembic's env.py runs its own event loop: migrate from a thread.
    await asyncio.to_thread(command.upgrade, alembic_config(empty_url), PREVIOUS_RELEASE)
    encryption_key = Fernet.generate_key().decode()
    ids = await _fill_as_previous_release(empty_url, encryption_key)
    await asyncio.to_thread(upgrade_to_head, empty_url)
    await _check_upgraded_rows(empty_url, ids)
    await _check_nova_serves_them(empty_url, tmp_path, encryption_key, ids)


def _insert(table: str, **values: Any) -> sa.TextClause:
    """INSERT with plain SQL; typed parameters store uuids and datetimes as each dialect did."""
    types: dict[type, TypeEngine[Any]] = {
        uuid.UUID: sa.Uuid(), datetime: UTCDateTime(), bool: sa.Boolean(), dict: sa.JSON(), list: sa.JSON()
    }  # fmt: skip
    binds: list[sa.BindParameter[Any]] = [
        sa.bindparam(name, value, type_=types.get(type(value))) for name, value in values.items()
    ]
    sql = f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(':' + n for n in values)})"  # noqa: S608
    return sa.text(sql).bindparams(*binds)


async def _fill_as_previous_release(url: str, encryption_key: str) -> dict[str, uuid.UUID]:
    ids = {name: uuid.uuid4() for name in ("user", "provider", "agent", "thread", "run", "memory", "file", "mcp")}
    ids.update({f"m{i}": uuid.uuid4() for i in range(1, 4)})
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    at = [start + timedelta(minutes=minute) for minute in range(4)]
    secret = Fernet(encryption_key.encode())
    user, thread, agent = ids["user"], ids["thread"], ids["agent"]
    rows = [
        _insert("users", id=user, email=EMAIL, password_hash=hash_password(PASSWORD), role="user",
                is_active=True, timezone="Europe/Paris", created_at=at[0]),
        _insert("sessions", id=token_hash(SESSION_TOKEN), user_id=user, ip="127.0.0.1", user_agent="Firefox",
                expires_at=datetime.now(UTC) + timedelta(days=30), created_at=at[0]),
        _insert("api_tokens", id=uuid.uuid4(), user_id=user, name="backup script", token_hash=token_hash(API_TOKEN),
                hint=API_TOKEN[-4:], scope="read", created_at=at[0]),
        _insert("providers", id=ids["provider"], owner_id=user, name="Home LLM", kind="openai_compatible",
                base_url="http://127.0.0.1:9/v1", api_key_encrypted=secret.encrypt(PROVIDER_KEY.encode()).decode(),
                api_key_hint=mask_secret(PROVIDER_KEY), default_model="qwen2.5", max_context_tokens=8192,
                models=["qwen2.5", "llama3.1"], created_at=at[0]),
        _insert("agents", id=agent, owner_id=user, name="Gardener", slug="gardener",
                instructions="You help with a balcony garden.", provider_id=ids["provider"], model="qwen2.5",
                temperature=0.3, recursion_limit=25, is_default=True, usable_as_tool=False,
                tool_description="", updated_at=at[0], created_at=at[0]),
        _insert("threads", id=thread, owner_id=user, title="Balcony herbs", agent_id=agent, title_by_user=False,
                pinned=True, archived=False, updated_at=at[3], created_at=at[1]),
        _insert("runs", id=ids["run"], owner_id=user, thread_id=thread, agent_id=agent, status="completed",
                attempts=1, model="qwen2.5", options={"temperature": 0.3}, dispatched_at=at[1], started_at=at[1],
                first_token_at=at[1], finished_at=at[2], prompt_tokens=42, completion_tokens=17, created_at=at[1]),
        *[_insert("messages", id=ids[f"m{i}"], thread_id=thread, role=role, content=content, created_at=at[i],
                  **({"agent_id": agent, "run_id": ids["run"], "finish_reason": "stop"} if role == "assistant" else {}))
          for i, (role, content) in enumerate(MESSAGES, start=1)],
        _insert("memories", id=ids["memory"], owner_id=user, content="Grows herbs on a south-facing balcony.",
                updated_at=at[2], created_at=at[2]),
        _insert("files", id=ids["file"], owner_id=user, thread_id=thread, message_id=ids["m1"], name="balcony.jpg",
                content_type="image/jpeg", size=2048, storage_key=f"{user.hex}/{ids['file'].hex}",
                sha256="ab" * 32, origin="upload", created_at=at[1]),
        _insert("mcp_servers", id=ids["mcp"], owner_id=user, name="Garden wiki", slug="garden-wiki",
                transport="http", url="https://wiki.example.com/mcp", auth_kind="bearer",
                auth_encrypted=secret.encrypt(b'{"token": "wiki-secret-5678"}').decode(), auth_hint="…5678",
                tools=[{"name": "search", "description": "Search the wiki", "input_schema": {"type": "object"}}],
                tools_listed_at=at[0], created_at=at[0]),
    ]  # fmt: skip
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            for row in rows:
                await connection.execute(row)
    finally:
        await engine.dispose()
    return ids


async def _check_upgraded_rows(url: str, ids: dict[str, uuid.UUID]) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await _check_counts_and_defaults(connection, ids)
            await _check_foreign_keys(connection, ids)
            await _check_search(connection, ids)
    finally:
        await engine.dispose()


async def _check_counts_and_defaults(connection: AsyncConnection, ids: dict[str, uuid.UUID]) -> None:
    tables = ["users", "sessions", "api_tokens", "providers", "agents", "threads", "runs", "messages",
              "memories", "files", "mcp_servers", *NEW_TABLES]  # fmt: skip
    counts = {table: (await connection.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar() for table in tables}  # noqa: S608
    assert counts == {**dict.fromkeys(tables, 1), "messages": 3, **dict.fromkeys(NEW_TABLES, 0)}

    # 0016: one line of messages, each the child of the one before, the newest shown.
    chain = sa.text("SELECT id, parent_id, run_id FROM messages ORDER BY created_at").columns(
        id=sa.Uuid(), parent_id=sa.Uuid(), run_id=sa.Uuid()
    )
    m1, m2, m3 = ids["m1"], ids["m2"], ids["m3"]
    assert [tuple(row) for row in await connection.execute(chain)] == [
        (m1, None, None), (m2, m1, ids["run"]), (m3, m2, None)
    ]  # fmt: skip
    thread = sa.text("SELECT current_message_id, pinned, archived FROM threads").columns(
        current_message_id=sa.Uuid(), pinned=sa.Boolean(), archived=sa.Boolean()
    )
    assert tuple((await connection.execute(thread)).one()) == (m3, True, False)

    # 0017 and 0021: new columns with their defaults, old values kept.
    user = sa.text("SELECT theme, must_change_password, onboarding_dismissed_at, timezone FROM users").columns(
        must_change_password=sa.Boolean()
    )
    assert tuple((await connection.execute(user)).one()) == ("system", False, None, "Europe/Paris")
    assert (await connection.execute(sa.text("SELECT last_seen_at FROM sessions"))).scalar() is None
    provider = sa.text("SELECT context_windows, models FROM providers").columns(
        context_windows=sa.JSON(), models=sa.JSON()
    )
    assert tuple((await connection.execute(provider)).one()) == (None, ["qwen2.5", "llama3.1"])


async def _check_foreign_keys(connection: AsyncConnection, ids: dict[str, uuid.UUID]) -> None:
    def reflected(sync: Connection) -> dict[str, set[tuple[tuple[str, ...], str]]]:
        inspector = sa.inspect(sync)
        return {
            table: {
                (tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in inspector.get_foreign_keys(table)
            }
            for table in Base.metadata.tables
        }

    expected = {
        name: {(tuple(c.name for c in fk.columns), fk.referred_table.name) for fk in table.foreign_key_constraints}
        for name, table in Base.metadata.tables.items()
    }
    assert await connection.run_sync(reflected) == expected
    if connection.dialect.name == "sqlite":
        assert (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all() == []
    joined = sa.text(
        "SELECT count(*) FROM messages m JOIN threads t ON t.id = m.thread_id JOIN users u ON u.id = t.owner_id "
        "JOIN messages parent ON parent.id = m.parent_id JOIN runs r ON r.id = m.run_id JOIN files f "
        "ON f.message_id = parent.id JOIN agents a ON a.id = t.agent_id JOIN providers p ON p.id = a.provider_id"
    )
    assert (await connection.execute(joined)).scalar() == 1

    # The new branch link is enforced: a reply to the last message is taken, one to a message
    # that does not exist is refused (both undone).
    def reply(parent_id: uuid.UUID) -> sa.TextClause:
        return _insert("messages", id=uuid.uuid4(), thread_id=ids["thread"], role="user", content="More?",
                       parent_id=parent_id, created_at=datetime.now(UTC))  # fmt: skip

    await connection.rollback()  # end the reads' implicit transaction
    async with connection.begin() as transaction:
        await connection.execute(reply(ids["m3"]))
        await transaction.rollback()
    with pytest.raises(IntegrityError):
        async with connection.begin():
            await connection.execute(reply(uuid.uuid4()))


async def _check_search(connection: AsyncConnection, ids: dict[str, uuid.UUID]) -> None:
    """0016 copied `messages` on SQLite: its search index and triggers must work as before."""
    if connection.dialect.name == "sqlite":
        query = "SELECT DISTINCT thread_id FROM thread_search_fts WHERE thread_search_fts MATCH :word"
    else:
        query = (
            "SELECT DISTINCT thread_id FROM messages "
            "WHERE to_tsvector('simple', content) @@ plainto_tsquery('simple', :word)"
        )
    search = sa.text(query).columns(thread_id=sa.Uuid())
    await connection.rollback()
    async with connection.begin() as transaction:
        assert (await connection.execute(search, {"word": "windowsill"})).scalars().all() == [ids["thread"]]
        # An edit after the upgrade is indexed (SQLite: the re-made trigger), then undone.
        await connection.execute(sa.text("UPDATE messages SET content = 'Thyme too?' WHERE role = 'user' AND "
                                         "content LIKE 'And rosemary%'"))  # fmt: skip
        assert (await connection.execute(search, {"word": "thyme"})).scalars().all() == [ids["thread"]]
        await transaction.rollback()


async def _check_nova_serves_them(url: str, tmp_path: Path, encryption_key: str, ids: dict[str, uuid.UUID]) -> None:
    settings = nova_settings(url, tmp_path / "data", NOVA_ENCRYPTION_KEY=encryption_key)
    async with open_nova(settings) as nova:
        async with await nova.login(EMAIL) as browser:
            page = await browser.get(f"/threads/{ids['thread']}")
            assert page.status_code == 200
            positions = [page.text.find(content) for _role, content in MESSAGES]
            assert -1 not in positions and positions == sorted(positions), positions
            found = await browser.get("/threads/search", params={"q": "windowsill"})
            assert found.status_code == 200 and f"#message-{ids['m1']}" in found.text
            for path, shown in (("/memory", "south-facing balcony"), ("/agents", "Gardener"),
                                ("/providers", mask_secret(PROVIDER_KEY)), (f"/tools/mcp/{ids['mcp']}", "Garden wiki")):  # fmt: skip
                response = await browser.get(path)
                assert response.status_code == 200 and shown in response.text, path

        # The old login session and API token still work, and the stored key still decrypts.
        async with nova.client() as old_session:
            cookie = session_signer(nova.ctx.keys.secret_key).sign(SESSION_TOKEN).decode()
            old_session.cookies.set(session_cookie(settings), cookie)
            account = await old_session.get("/settings")
            assert account.status_code == 200 and EMAIL in account.text
        async with nova.client() as api:
            api.headers["Authorization"] = f"Bearer {API_TOKEN}"
            messages = await api.get(f"/api/v1/threads/{ids['thread']}/messages")
            assert messages.status_code == 200
            assert [m["content"] for m in messages.json()["data"]] == [content for _role, content in MESSAGES]
            assert (await api.get(f"/api/v1/files/{ids['file']}")).status_code == 200
        async with nova.ctx.db.transaction() as session:
            stored = (await session.execute(sa.text("SELECT api_key_encrypted FROM providers"))).scalar_one()
        assert nova.ctx.secretbox.decrypt(stored) == PROVIDER_KEY
