"""/api/v1 threads (paged, searched), runs (paged, filtered) and agents (with tools and sub-agents)."""

from __future__ import annotations

import pytest

from tests.api.support import bearer, problem, refused, statuses
from tests.fixtures.factories import make_agent, make_finished_run, make_provider, make_thread
from tests.fixtures.llm_server import ScriptedLLM
from tests.fixtures.nova import Nova


@pytest.mark.both_databases  # keyset pages and the search are SQL that differs by dialect
async def test_threads_page_by_cursor_without_repeats_and_search_titles_and_messages(
    nova: Nova, llm: ScriptedLLM
) -> None:
    ada = await nova.create_user("ada@example.com")
    agent = await make_agent(nova, ada.id, await make_provider(nova, ada.id, llm.base_url))
    made = [await make_thread(nova, ada.id, f"Thread {i}") for i in range(5)]
    await make_finished_run(nova, made[1], agent, reply="The 100% answer about TEA_time.")
    auth = await bearer(nova, ada.id, "read")
    async with nova.client() as client:
        pages, cursor = [], None
        while True:
            query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/api/v1/threads", params=query, headers=auth)).json()
            pages.append(page)
            cursor = page["next_cursor"]
            if not cursor:
                break
        by_message = (await client.get("/api/v1/threads", params={"q": "tea_TIME"}, headers=auth)).json()
        by_title = (await client.get("/api/v1/threads", params={"q": "thread 3"}, headers=auth)).json()
        wildcard = (await client.get("/api/v1/threads", params={"q": "%"}, headers=auth)).json()
        bad_cursor = await client.get("/api/v1/threads", params={"cursor": "not-a-cursor"}, headers=auth)
    listed = [t["id"] for page in pages for t in page["data"]]
    assert [len(page["data"]) for page in pages] == [2, 2, 1]
    assert sorted(listed) == sorted(str(t.id) for t in made) and len(set(listed)) == 5
    assert [t["id"] for t in by_message["data"]] == [str(made[1].id)]
    assert [t["title"] for t in by_title["data"]] == ["Thread 3"]
    assert [t["id"] for t in wildcard["data"]] == [str(made[1].id)]  # `%` is text, not a pattern
    assert refused(bad_cursor) == ["cursor"]


async def test_runs_are_listed_by_thread_and_status(nova: Nova, llm: ScriptedLLM) -> None:
    ada = await nova.create_user("ada@example.com")
    bob = await nova.create_user("bob@example.com")
    agent = await make_agent(nova, ada.id, await make_provider(nova, ada.id, llm.base_url))
    first, second = await make_thread(nova, ada.id), await make_thread(nova, ada.id)
    runs = [await make_finished_run(nova, thread, agent) for thread in (first, second, second)]
    auth, bobs = await bearer(nova, ada.id, "read"), await bearer(nova, bob.id, "read")
    async with nova.client() as client:
        everything = (await client.get("/api/v1/runs", headers=auth)).json()
        of_second = (await client.get("/api/v1/runs", params={"thread_id": str(second.id)}, headers=auth)).json()
        page = (await client.get("/api/v1/runs", params={"limit": "1", "status": "completed"}, headers=auth)).json()
        waiting = (await client.get("/api/v1/runs", params={"status": "waiting"}, headers=auth)).json()
        bad_status = await client.get("/api/v1/runs", params={"status": "sleeping"}, headers=auth)
        strangers = (await client.get("/api/v1/runs", headers=bobs)).json()
    assert [r["id"] for r in everything["data"]] == [str(r.id) for r in reversed(runs)]
    assert everything["data"][0]["status"] == "completed" and everything["data"][0]["message"] is None
    assert {r["thread_id"] for r in of_second["data"]} == {str(second.id)} and len(of_second["data"]) == 2
    assert len(page["data"]) == 1 and page["has_more"]
    assert waiting["data"] == [] and strangers["data"] == []
    assert refused(bad_status) == ["status"]


async def test_agents_are_made_changed_and_deleted_with_tools_and_sub_agents(nova: Nova, llm: ScriptedLLM) -> None:
    ada = await nova.create_user("ada@example.com")
    bob = await nova.create_user("bob@example.com")
    provider = await make_provider(nova, ada.id, llm.base_url)
    auth = await bearer(nova, ada.id)
    helper = {"name": "Researcher", "provider_id": str(provider.id), "usable_as_tool": True,
              "tool_description": "Looks things up.", "tools": [{"name": "web_search", "ask_first": True}]}  # fmt: skip
    async with nova.client() as client:
        researcher = await client.post("/api/v1/agents", json=helper, headers=auth)
        boss = await client.post("/api/v1/agents", headers=auth, json={
            "name": "Boss", "provider_id": str(provider.id), "temperature": 0.2,
            "tools": [{"name": "datetime_now"}], "subagents": [researcher.json()["id"]]})  # fmt: skip
        url = f"/api/v1/agents/{boss.json()['id']}"
        renamed = await client.patch(url, json={"name": "Chief", "tools": []}, headers=auth)
        cycle = await client.patch(f"/api/v1/agents/{researcher.json()['id']}",
                                   json={"subagents": [boss.json()["id"]]}, headers=auth)  # fmt: skip
        unknown_tool = await client.post("/api/v1/agents", headers=auth, json={
            "name": "X", "provider_id": str(provider.id), "tools": [{"name": "teleport"}]})  # fmt: skip
        loose_types = await client.post("/api/v1/agents", headers=auth, json={
            "name": "Y", "provider_id": str(provider.id), "usable_as_tool": 0, "temperature": "0.5"})  # fmt: skip
        extra = await client.patch(url, json={"nmae": "typo"}, headers=auth)
        strangers = await statuses(client, await bearer(nova, bob.id), [
            ("GET", url, None), ("PATCH", url, {"name": "Mine"}), ("DELETE", url, None)])  # fmt: skip
        listed = (await client.get("/api/v1/agents", headers=auth)).json()
        deleted = await client.delete(url, headers=auth)
        gone = await client.get(url, headers=auth)
    assert researcher.status_code == 201, researcher.text
    assert researcher.json()["tools"] == [{"name": "web_search", "ask_first": True}]
    assert boss.status_code == 201 and boss.json()["subagents"] == [researcher.json()["id"]]
    assert boss.json()["tools"] == [{"name": "datetime_now", "ask_first": False}]
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Chief" and renamed.json()["slug"] == "boss"  # the slug stays
    assert renamed.json()["tools"] == [] and renamed.json()["temperature"] == 0.2  # unsent fields stay
    assert refused(cycle) == ["subagents"]
    assert refused(unknown_tool) == ["tools"]
    assert refused(loose_types) == ["temperature", "usable_as_tool"]
    assert refused(extra) == ["nmae"]
    assert strangers == [404, 404, 404]
    assert {a["name"] for a in listed["data"]} == {"Researcher", "Chief"}
    assert deleted.status_code == 204
    problem(gone, 404)
