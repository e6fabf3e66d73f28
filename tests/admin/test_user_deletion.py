"""Deleting a user: the confirmation names what goes, then every row and every stored byte goes."""

from __future__ import annotations

import asyncio
import uuid
from html import unescape
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.db import Base
from app.files import service as files
from app.memory import service as memories
from app.models import McpServer, MessageRole, Role, Run, StoredFile, User
from app.tokens import service as tokens
from tests.api.support import bearer
from tests.files.seaweedfs import SeaweedS3
from tests.files.test_s3_storage import BUCKET, s3, s3_server, s3_values  # noqa: F401 (fixtures)
from tests.fixtures.factories import add_message, make_agent, make_finished_run, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, field_error, nova_settings, open_nova, submit
from tests.fixtures.runs import finished_run

NOTES = "Bob's private notes. " * 100  # 2,100 bytes


async def _give_bob_everything(nova: Nova, bob: User, llm: ScriptedLLM) -> StoredFile:
    provider = await make_provider(nova, bob.id, llm.base_url)
    agent = await make_agent(nova, bob.id, provider)
    thread = await make_thread(nova, bob.id)
    await add_message(nova, thread, MessageRole.USER, "Hello")
    await make_finished_run(nova, thread, agent)
    async with nova.ctx.db.transaction() as session:
        await memories.save(session, bob.id, "Bob likes tea.")
        await tokens.create_token(session, bob.id, "laptop", "write")
        session.add(McpServer(owner_id=bob.id, name="Mine", slug="mine", transport="http",
                              url="http://127.0.0.1:9/mcp", auth_kind="none"))  # fmt: skip
        return await files.write_text(session, nova.ctx.storage, nova.ctx.settings, bob.id, thread.id, "n.txt", NOTES)


async def _rows_naming(nova: Nova, user_id: uuid.UUID) -> dict[str, int]:
    """Every row of every table with a column holding the user's id."""
    found: dict[str, int] = {}
    async with nova.ctx.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if any(fk.column.table.name == "users" for fk in column.foreign_keys) or (
                    table.name == "users" and column.name == "id"
                ):
                    count = await session.scalar(select(func.count()).select_from(table).where(column == user_id))
                    if count:
                        found[f"{table.name}.{column.name}"] = int(count)
    return found


async def test_the_confirmation_names_what_goes_and_the_deletion_takes_it_all(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    bob = await nova.create_user("bob@example.com")
    carol = await nova.create_user("carol@example.com")
    file = await _give_bob_everything(nova, bob, llm)
    carols = await _give_bob_everything(nova, carol, llm)
    stored = nova.ctx.settings.data_dir / "files" / file.storage_key
    assert stored.exists() and bob.id not in (await _rows_naming(nova, carol.id))
    before = await _rows_naming(nova, bob.id)
    async with await nova.login("root@example.com") as admin:
        page = await admin.get(f"/admin/users/{bob.id}/delete")
        mistyped = await submit(admin, f"/admin/users/{bob.id}/delete", {"confirm_email": "carol@example.com"})
        after_mistype = await _rows_naming(nova, bob.id)
        deleted = await submit(admin, f"/admin/users/{bob.id}/delete", {"confirm_email": " Bob@Example.com "})
        listing = await admin.get(deleted.headers["location"])
        again = await admin.get(f"/admin/users/{bob.id}/delete")
    text = unescape(page.text)
    for line in ("1 thread with 2 messages", "1 run", "1 memory", "1 file (2.1 KB)", "1 API token",
                 "1 agent", "1 provider", "1 MCP server"):  # fmt: skip
        assert line in text, line
    assert mistyped.status_code == 400
    assert field_error(mistyped.text, "confirm_email") == "Type bob@example.com to confirm."
    assert after_mistype == before
    assert deleted.status_code == 303
    assert "bob@example.com and everything they owned were deleted." in listing.text
    assert again.status_code == 404
    assert await _rows_naming(nova, bob.id) == {}
    assert not stored.exists()
    assert (nova.ctx.settings.data_dir / "files" / carols.storage_key).exists()  # carol keeps hers
    assert (await _rows_naming(nova, carol.id)).get("files.owner_id") == 1


async def test_an_admin_cannot_delete_themselves(nova: Nova) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as admin:
        page = await admin.get(f"/admin/users/{root.id}/delete")
        refused = await submit(admin, f"/admin/users/{root.id}/delete", {"confirm_email": "root@example.com"})
        listing = await admin.get("/admin/users")
    assert page.status_code == 200 and "You cannot delete your own account" in page.text
    assert 'name="confirm_email"' not in page.text
    assert refused.status_code == 400 and "You cannot delete your own account" in refused.text
    assert f"/admin/users/{root.id}/delete" not in listing.text  # no Delete button on your own row
    assert await _rows_naming(nova, root.id)


async def test_deleting_a_user_whose_reply_is_streaming_stops_it(nova: Nova, llm: ScriptedLLM) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    bob = await nova.create_user("bob@example.com")
    agent = await make_agent(nova, bob.id, await make_provider(nova, bob.id, llm.base_url))
    thread = await make_thread(nova, bob.id)
    llm.queue(ScriptedReply(text=" ".join(f"w{n}" for n in range(400)), tokens_per_second=40))
    async with await nova.login("bob@example.com") as bob_browser:
        await submit(bob_browser, f"/threads/{thread.id}/messages", {"content": "Go on", "agent_id": str(agent.id)})
    async with nova.ctx.db.transaction() as session:
        run = await session.scalar(select(Run).where(Run.owner_id == bob.id))
    assert run is not None
    await _until_running(nova, run.id)
    async with await nova.login("root@example.com") as admin:
        deleted = await submit(admin, f"/admin/users/{bob.id}/delete", {"confirm_email": "bob@example.com"})
    assert deleted.status_code == 303
    assert await _rows_naming(nova, bob.id) == {}
    assert await nova.ctx.events.cancel_requested(str(run.id))  # the worker is told to stop


async def test_a_deleted_users_runs_leave_no_checkpoints(nova: Nova, llm: ScriptedLLM) -> None:
    root = await nova.create_user("root@example.com", role=Role.ADMIN)
    bob = await nova.create_user("bob@example.com")
    agent = await make_agent(nova, bob.id, await make_provider(nova, bob.id, llm.base_url))
    thread = await make_thread(nova, bob.id)
    llm.queue(ScriptedReply(text="A reply the graph saved."))
    async with await nova.login("bob@example.com") as bob_browser:
        await submit(bob_browser, f"/threads/{thread.id}/messages", {"content": "Hi", "agent_id": str(agent.id)})
    async with nova.ctx.db.transaction() as session:
        run_id = await session.scalar(select(Run.id).where(Run.owner_id == bob.id))
    assert run_id is not None
    await finished_run(nova, run_id)
    checkpointer = await nova.ctx.checkpointer()
    config: Any = {"configurable": {"thread_id": str(run_id)}}
    saved = await checkpointer.aget_tuple(config)
    async with nova.client() as client:
        answer = await client.delete(f"/api/v1/admin/users/{bob.id}", headers=await bearer(nova, root.id, "admin"))
    assert saved is not None and answer.status_code == 204
    assert await checkpointer.aget_tuple(config) is None


async def _until_running(nova: Nova, run_id: uuid.UUID) -> None:
    """Until the reply's first words are in its event log."""
    for _ in range(200):
        if await nova.ctx.events.last_id(str(run_id)) > 3:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the run never started streaming")


async def test_deleting_a_user_removes_their_files_from_s3(
    s3_server: SeaweedS3,  # noqa: F811
    s3: Any,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    async with open_nova(nova_settings(database_url, tmp_path, **s3_values(s3_server))) as nova:
        root = await nova.create_user("root@example.com", role=Role.ADMIN)
        bob = await nova.create_user("bob@example.com")
        thread = await make_thread(nova, bob.id)
        async with nova.ctx.db.transaction() as session:
            kept = [await files.write_text(session, nova.ctx.storage, nova.ctx.settings, bob.id, thread.id,
                                           f"{n}.txt", NOTES) for n in range(3)]  # fmt: skip
        prefix = f"users/{bob.id}/"
        listed_before = await s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        async with nova.client() as client:
            answer = await client.delete(f"/api/v1/admin/users/{bob.id}", headers=await bearer(nova, root.id, "admin"))
        listed_after = await s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    assert listed_before["KeyCount"] == len(kept)
    assert answer.status_code == 204
    assert listed_after.get("KeyCount", 0) == 0
