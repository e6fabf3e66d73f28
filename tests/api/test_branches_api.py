"""/api/v1 branches: edit a message, regenerate a reply, switch version, delete from a message on."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api.test_views import user_with_token, wait_terminal
from tests.fixtures.llm_server import ScriptedLLM, ScriptedReply
from tests.fixtures.nova import Nova
from tests.threads.test_branches import writing


async def _messages(client: httpx.AsyncClient, thread_id: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    listed = await client.get(f"/api/v1/threads/{thread_id}/messages", headers=auth)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["data"])


async def test_edit_regenerate_select_and_delete(nova: Nova, llm: ScriptedLLM) -> None:
    auth = await user_with_token(nova, llm, "ada@example.com")
    llm.queue(*(ScriptedReply(text=t) for t in ("A1", "A2", "A2 edited", "A2 again")))
    async with nova.client() as client:
        thread = (await client.post("/api/v1/threads", json={"title": "Branches"}, headers=auth)).json()
        base = f"/api/v1/threads/{thread['id']}/messages"
        for question in ("Q1", "Q2"):
            posted = await client.post(base, json={"content": question}, headers=auth)
            await wait_terminal(client, posted.json()["run_id"], auth)
        q1, a1, q2, a2 = await _messages(client, thread["id"], auth)
        assert (q2["parent_id"], q2["version"], q2["version_ids"]) == (a1["id"], 1, [q2["id"]])

        edited = await client.post(f"{base}/{q2['id']}/edit", json={"content": "Q2 edited"}, headers=auth)
        assert edited.status_code == 201, edited.text
        await wait_terminal(client, edited.json()["run_id"], auth)
        sent = [m["content"] for m in llm.requests[-1]["messages"] if m["role"] != "system"]
        assert sent == ["Q1", "A1", "Q2 edited"]
        shown = await _messages(client, thread["id"], auth)
        assert [m["content"] for m in shown] == ["Q1", "A1", "Q2 edited", "A2 edited"]
        assert shown[2]["id"] == edited.json()["message_id"]
        assert (shown[2]["version"], shown[2]["version_ids"]) == (2, [q2["id"], shown[2]["id"]])

        regenerated = await client.post(f"{base}/{shown[3]['id']}/regenerate", headers=auth)
        assert regenerated.status_code == 201, regenerated.text
        run = await wait_terminal(client, regenerated.json()["run_id"], auth)
        assert run["message"]["content"] == "A2 again"
        last = (await _messages(client, thread["id"], auth))[-1]
        assert (last["content"], last["version"], last["version_ids"][0]) == ("A2 again", 2, shown[3]["id"])

        selected = await client.post(f"{base}/{q2['id']}/select", headers=auth)
        assert selected.status_code == 200 and selected.json()["current_message_id"] == a2["id"]
        assert [m["content"] for m in await _messages(client, thread["id"], auth)] == ["Q1", "A1", "Q2", "A2"]

        deleted = await client.delete(f"{base}/{q2['id']}", headers=auth)
        assert deleted.status_code == 204
        after = await _messages(client, thread["id"], auth)  # its sibling, the edit, shows instead
        assert [m["content"] for m in after] == ["Q1", "A1", "Q2 edited", "A2 again"]
        assert after[2]["version_ids"] == [after[2]["id"]]
        gone = await client.post(f"{base}/{q2['id']}/select", headers=auth)
        assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")
        assert q1["version"] == 1


async def test_refusals_are_problems(nova: Nova, llm: ScriptedLLM) -> None:
    auth = await user_with_token(nova, llm, "ada@example.com")
    stranger = await user_with_token(nova, llm, "eve@example.com")
    llm.queue(ScriptedReply(text="A1"), ScriptedReply(text=" ".join(["slowly"] * 2000), tokens_per_second=20))
    async with nova.client() as client:
        thread = (await client.post("/api/v1/threads", json={"title": "Busy"}, headers=auth)).json()
        base = f"/api/v1/threads/{thread['id']}/messages"
        posted = await client.post(base, json={"content": "Q1"}, headers=auth)
        await wait_terminal(client, posted.json()["run_id"], auth)
        q1, a1 = await _messages(client, thread["id"], auth)

        assert (await client.post(f"{base}/{a1['id']}/edit", json={"content": "No"}, headers=auth)).status_code == 409
        empty = await client.post(f"{base}/{q1['id']}/edit", json={"content": ""}, headers=auth)
        assert empty.status_code == 422 and "content" in empty.json()["errors"]
        for method, url, body in [("POST", f"{base}/{q1['id']}/edit", {"content": "Mine"}),
                                  ("POST", f"{base}/{a1['id']}/regenerate", {}),
                                  ("POST", f"{base}/{q1['id']}/select", None),
                                  ("DELETE", f"{base}/{q1['id']}", None)]:  # fmt: skip
            response = await client.request(method, url, json=body, headers=stranger)
            assert response.status_code == 404, (url, response.text)

        hanging = await client.post(base, json={"content": "Q2"}, headers=auth)
        run_id = hanging.json()["run_id"]
        await writing(nova, uuid.UUID(run_id))
        busy = await client.post(f"{base}/{q1['id']}/edit", json={"content": "Q1 again"}, headers=auth)
        refused_delete = await client.delete(f"{base}/{q1['id']}", headers=auth)
        await client.post(f"/api/v1/runs/{run_id}/cancel", headers=auth)
        await wait_terminal(client, run_id, auth)
    assert busy.status_code == 409 and busy.headers["content-type"].startswith("application/problem+json")
    assert run_id in busy.json()["detail"] and refused_delete.status_code == 409
