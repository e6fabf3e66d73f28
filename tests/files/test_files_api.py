"""Files through /api/v1 and the browser routes, on the local disk backend (the embedded default)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from app.db import utcnow
from app.files import tasks
from app.models import Role, StoredFile
from tests.api.support import bearer, problem, refused
from tests.files.samples import PNG_BYTES, docx_bytes, pdf_bytes
from tests.fixtures.factories import make_agent, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova, open_nova
from tests.fixtures.runs import finished_run


async def upload(client: httpx.AsyncClient, headers: dict[str, str], name: str, data: bytes,
                 claimed: str = "application/octet-stream", **fields: str) -> httpx.Response:  # fmt: skip
    return await client.post("/api/v1/files", files={"file": (name, data, claimed)}, data=fields, headers=headers)


def stored_path(nova: Nova, key: str) -> Path:
    return nova.ctx.settings.data_dir / "files" / key


async def test_upload_list_download_delete_on_local_disk(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    headers = await bearer(nova, user.id)
    async with nova.client() as client:
        answer = await upload(client, headers, "notes.md", b"# Notes\n\nSome *text*.\n", "image/png")
        assert answer.status_code == 201, answer.text
        file = answer.json()
        assert (file["name"], file["content_type"], file["size"]) == ("notes.md", "text/markdown", 22)
        listed = (await client.get("/api/v1/files", headers=headers)).json()
        assert [f["id"] for f in listed["data"]] == [file["id"]]
        assert (await client.get(f"/api/v1/files/{file['id']}", headers=headers)).json()["sha256"] == file["sha256"]

        content = await client.get(f"/api/v1/files/{file['id']}/content", headers=headers)
        assert content.status_code == 200
        assert content.content == b"# Notes\n\nSome *text*.\n"
        assert content.headers["content-disposition"].startswith("attachment;")
        assert content.headers["x-content-type-options"] == "nosniff"
        assert content.headers["content-security-policy"] == "sandbox; default-src 'none'"

        key = f"users/{user.id}/files/{file['id']}"
        assert stored_path(nova, key).read_bytes() == b"# Notes\n\nSome *text*.\n"
        assert (await client.delete(f"/api/v1/files/{file['id']}", headers=headers)).status_code == 204
        assert not stored_path(nova, key).exists()
        problem(await client.get(f"/api/v1/files/{file['id']}", headers=headers), 404)


async def test_types_come_from_the_content_and_limits_hold(nova: Nova) -> None:
    user = await nova.create_user("ada@example.com")
    headers = await bearer(nova, user.id)
    async with nova.client() as client:
        html = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
        assert refused(await upload(client, headers, "cat.png", html, "image/png")) == ["file"]
        page = await upload(client, headers, "page.html", html, "image/png")
        assert page.json()["content_type"] == "text/html"
        served = await client.get(f"/api/v1/files/{page.json()['id']}/content", headers=headers)
        assert served.headers["content-security-policy"] == "sandbox; default-src 'none'"
        assert served.headers["content-disposition"].startswith("attachment;")

        assert (await upload(client, headers, "x.bin", PNG_BYTES, "text/plain")).json()["content_type"] == "image/png"
        assert (await upload(client, headers, "d", docx_bytes("Hi"))).json()["content_type"].endswith("document")
        assert (await upload(client, headers, "p", pdf_bytes("Hi"))).json()["content_type"] == "application/pdf"
        assert (await upload(client, headers, "data", b'{"a": [1, 2]}')).json()["content_type"] == "application/json"
        assert refused(await upload(client, headers, "a.exe", b"MZ\x90\x00\x03\x00\x00\x00")) == ["file"]
        assert refused(await upload(client, headers, "zip.docx", b"PK\x03\x04" + b"\x00" * 40)) == ["file"]

        too_big = await upload(client, headers, "big.txt", b"a" * (12 * 1024 * 1024))
        assert too_big.status_code == 413
        assert "10 MB" in too_big.json()["detail"]

        sneaky = await upload(client, headers, "../../x", b"plain words\n")
        assert sneaky.status_code == 201
        assert sneaky.json()["name"] == "../../x"
        key = f"users/{user.id}/files/{sneaky.json()['id']}"
        assert stored_path(nova, key).read_bytes() == b"plain words\n"
        assert not (nova.ctx.settings.data_dir.parent / "x").exists()
        disposition = (await client.get(f"/api/v1/files/{sneaky.json()['id']}/content", headers=headers)).headers
        assert 'filename=".._.._x"' in disposition["content-disposition"]
        # httpx escapes a NUL in a file name; a raw body sends one as some clients would.
        body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="bad\x00name.txt"\r\n'
                b"Content-Type: text/plain\r\n\r\ntext\n\r\n--b--\r\n")  # fmt: skip
        raw = await client.post("/api/v1/files", content=body,
                                headers=headers | {"content-type": "multipart/form-data; boundary=b"})  # fmt: skip
        assert refused(raw) == ["file"]


# The SQL that differs between dialects: the quota's sum, the expiry's dates, owner scoping, cascades.
@pytest.mark.both_databases
async def test_the_quota_counts_every_file(database_url: str, tmp_path: Path) -> None:
    from tests.fixtures.nova import nova_settings

    async with open_nova(nova_settings(database_url, tmp_path, NOVA_USER_QUOTA_BYTES="2048")) as nova:
        user = await nova.create_user("ada@example.com")
        headers = await bearer(nova, user.id)
        async with nova.client() as client:
            assert (await upload(client, headers, "a.txt", b"a" * 1500)).status_code == 201
            over = await upload(client, headers, "b.txt", b"b" * 1000)
            assert over.status_code == 413
            assert "Delete some files" in over.json()["detail"]


@pytest.mark.both_databases
async def test_another_users_file_is_not_there(nova: Nova, llm: ScriptedLLM) -> None:
    owner = await nova.create_user("ada@example.com")
    stranger = await nova.create_user("eve@example.com", role=Role.USER)
    async with nova.client() as client:
        file_id = (await upload(client, await bearer(nova, owner.id), "a.txt", b"mine\n")).json()["id"]
        theirs = await bearer(nova, stranger.id)
        for method, url in [("GET", f"/api/v1/files/{file_id}"), ("GET", f"/api/v1/files/{file_id}/content"),
                            ("DELETE", f"/api/v1/files/{file_id}")]:  # fmt: skip
            problem(await client.request(method, url, headers=theirs), 404)
        await make_agent(nova, stranger.id, await make_provider(nova, stranger.id, llm.base_url))
        thread = await make_thread(nova, stranger.id)
        posted = await client.post(f"/api/v1/threads/{thread.id}/messages", headers=theirs,
                                   json={"content": "look", "files": [file_id]})  # fmt: skip
        assert refused(posted) == ["files"]
        assert (await client.get("/api/v1/files", headers=theirs)).json()["data"] == []


async def test_the_model_gets_the_text_and_the_image(nova: Nova, llm: ScriptedLLM) -> None:
    user = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
    thread = await make_thread(nova, user.id)
    headers = await bearer(nova, user.id)
    async with nova.client() as client:
        ids = [
            (await upload(client, headers, name, data)).json()["id"]
            for name, data in [("report.pdf", pdf_bytes("Quarterly revenue rose")), ("memo.docx",
                               docx_bytes("First point", "Second point")), ("table.csv", b"a,b\n1,2\n"),
                               ("pixel.png", PNG_BYTES)]
        ]  # fmt: skip
        llm.queue(ScriptedReply(text="Seen."))
        posted = await client.post(f"/api/v1/threads/{thread.id}/messages", headers=headers,
                                   json={"content": "Summarise these", "agent": agent.slug, "files": ids})  # fmt: skip
        assert posted.status_code == 201, posted.text
        run = await finished_run(nova, uuid.UUID(posted.json()["run_id"]))
        assert run.status.value == "completed"
        panel = (await client.get(f"/threads/{thread.id}", follow_redirects=True)).text

    user_message = llm.requests[-1]["messages"][-1]
    assert user_message["role"] == "user"
    parts = user_message["content"]
    text = parts[0]["text"]
    assert text.startswith("Summarise these")
    for expected in ("Quarterly revenue rose", "First point\nSecond point", "a,b\n1,2", "“report.pdf”"):
        assert expected in text
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 1 and images[0]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")
    del panel  # the page rendered (its markup is checked by the browser test)


async def test_a_long_text_is_cut_with_a_note(database_url: str, tmp_path: Path, llm: ScriptedLLM) -> None:
    from tests.fixtures.nova import nova_settings

    async with open_nova(nova_settings(database_url, tmp_path, NOVA_FILE_CONTEXT_CHARS="1000")) as nova:
        user = await nova.create_user("ada@example.com")
        agent = await make_agent(nova, user.id, await make_provider(nova, user.id, llm.base_url))
        thread = await make_thread(nova, user.id)
        headers = await bearer(nova, user.id)
        async with nova.client() as client:
            file_id = (await upload(client, headers, "long.txt", b"word " * 1000)).json()["id"]
            llm.queue(ScriptedReply(text="Ok."))
            posted = await client.post(f"/api/v1/threads/{thread.id}/messages", headers=headers,
                                       json={"content": "Read", "agent": agent.slug, "files": [file_id]})  # fmt: skip
            await finished_run(nova, uuid.UUID(posted.json()["run_id"]))
    content = llm.requests[-1]["messages"][-1]["content"]
    text = content if isinstance(content, str) else content[0]["text"]
    assert "[Truncated: the first 1,000 of" in text
    assert text.count("word") < 250


@pytest.mark.both_databases
async def test_deleting_a_thread_deletes_its_files_and_old_files_expire(database_url: str, tmp_path: Path) -> None:
    from tests.fixtures.nova import nova_settings

    async with open_nova(nova_settings(database_url, tmp_path, NOVA_FILE_EXPIRY_DAYS="2")) as nova:
        user = await nova.create_user("ada@example.com")
        thread = await make_thread(nova, user.id)
        headers = await bearer(nova, user.id)
        async with nova.client() as client:
            in_thread = (await upload(client, headers, "a.txt", b"a\n", thread_id=str(thread.id))).json()["id"]
            old = (await upload(client, headers, "b.txt", b"b\n")).json()["id"]
            kept = (await upload(client, headers, "c.txt", b"c\n")).json()["id"]
            assert (await client.delete(f"/api/v1/threads/{thread.id}", headers=headers)).status_code == 204
            assert not stored_path(nova, f"users/{user.id}/files/{in_thread}").exists()
            problem(await client.get(f"/api/v1/files/{in_thread}", headers=headers), 404)

            async with nova.ctx.db.transaction() as session:
                await session.execute(update(StoredFile).where(StoredFile.id == uuid.UUID(old))
                                      .values(created_at=utcnow() - timedelta(days=3)))  # fmt: skip
            assert await tasks.expire_files(nova.ctx) == 1
            assert not stored_path(nova, f"users/{user.id}/files/{old}").exists()
            listed = (await client.get("/api/v1/files", headers=headers)).json()["data"]
            assert [f["id"] for f in listed] == [kept]
