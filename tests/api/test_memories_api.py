"""/api/v1/memories: listed and searched page by page, added, edited, deleted; only the owner's."""

from __future__ import annotations

import pytest

from tests.api.support import bearer, problem, refused, statuses
from tests.fixtures.nova import Nova

URL = "/api/v1/memories"


@pytest.mark.both_databases  # search is full-text: tsvector on PostgreSQL, FTS5 on SQLite
async def test_memories_are_added_paged_searched_edited_and_deleted(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    auth = await bearer(nova, ada.id)
    notes = ["Ada drinks green tea.", "Ada lives in   London.", "Ada's cat is called Tea Cake."]
    async with nova.client() as client:
        created = [await client.post(URL, json={"content": note}, headers=auth) for note in notes]
        again = await client.post(URL, json={"content": "Ada drinks green tea."}, headers=auth)
        first = (await client.get(f"{URL}?limit=2", headers=auth)).json()
        second = (await client.get(f"{URL}?limit=2&cursor={first['next_cursor']}", headers=auth)).json()
        found = (await client.get(f"{URL}?q=tea", headers=auth)).json()
        found_paged = (await client.get(f"{URL}?q=tea&limit=1", headers=auth)).json()
        nothing = (await client.get(f"{URL}?q=%2A%2A%2A", headers=auth)).json()
        url = f"{URL}/{created[1].json()['id']}"
        read = await client.get(url, headers=auth)
        edited = await client.patch(url, json={"content": "Ada lives in Paris now."}, headers=auth)
        after_edit = (await client.get(f"{URL}?q=paris", headers=auth)).json()
        deleted = await client.delete(url, headers=auth)
        gone = await client.get(url, headers=auth)
        left = (await client.get(URL, headers=auth)).json()
    assert [r.status_code for r in created] == [201, 201, 201]
    assert [r.json()["content"] for r in created][1] == "Ada lives in London."  # whitespace collapsed
    assert again.status_code == 201 and again.json()["id"] == created[0].json()["id"]  # kept once
    newest_first = [r.json()["id"] for r in reversed(created)]
    assert [m["id"] for m in first["data"] + second["data"]] == newest_first
    assert first["has_more"] and not second["has_more"] and second["next_cursor"] is None
    assert sorted(m["content"] for m in found["data"]) == ["Ada drinks green tea.", "Ada's cat is called Tea Cake."]
    assert len(found_paged["data"]) == 1 and found_paged["has_more"]
    assert nothing == {"data": [], "next_cursor": None, "has_more": False}
    assert read.status_code == 200 and read.json()["content"] == "Ada lives in London."
    assert edited.status_code == 200 and edited.json()["content"] == "Ada lives in Paris now."
    assert edited.json()["updated_at"] >= edited.json()["created_at"]
    assert [m["id"] for m in after_edit["data"]] == [created[1].json()["id"]]
    assert deleted.status_code == 204 and gone.status_code == 404
    assert len(left["data"]) == 2


async def test_another_users_memory_is_not_found_and_a_read_token_cannot_write(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    eve = await nova.create_user("eve@example.com")
    auth, stranger, reader = await bearer(nova, ada.id), await bearer(nova, eve.id), await bearer(nova, ada.id, "read")
    async with nova.client() as client:
        memory = (await client.post(URL, json={"content": "Ada's secret."}, headers=auth)).json()
        url = f"{URL}/{memory['id']}"
        hidden = await statuses(client, stranger, [("GET", url, None), ("PATCH", url, {"content": "Mine."}),
                                                   ("DELETE", url, None)])  # fmt: skip
        theirs = (await client.get(URL, headers=stranger)).json()
        searched = (await client.get(f"{URL}?q=secret", headers=stranger)).json()
        read_only = await statuses(client, reader, [("POST", URL, {"content": "New."}),
                                                    ("PATCH", url, {"content": "Changed."}), ("DELETE", url, None)])  # fmt: skip
        readable = await client.get(url, headers=reader)
        kept = await client.get(url, headers=auth)
    assert hidden == [404, 404, 404]
    assert theirs["data"] == [] and searched["data"] == []
    assert read_only == [403, 403, 403]
    assert readable.status_code == 200
    assert kept.json()["content"] == "Ada's secret."


async def test_bad_input_is_a_422_naming_the_field(nova: Nova) -> None:
    ada = await nova.create_user("ada@example.com")
    auth = await bearer(nova, ada.id)
    async with nova.client() as client:
        url = f"{URL}/{(await client.post(URL, json={'content': 'Kept.'}, headers=auth)).json()['id']}"
        answers = [
            await client.post(URL, json={}, headers=auth),
            await client.post(URL, json={"content": 7}, headers=auth),
            await client.post(URL, json={"content": "   "}, headers=auth),
            await client.post(URL, json={"content": "x" * 2001}, headers=auth),
            await client.post(URL, json={"content": "Fine.", "tags": []}, headers=auth),
            await client.patch(url, json={"content": ""}, headers=auth),
            await client.get(f"{URL}?limit=0", headers=auth),
            await client.get(f"{URL}?cursor=not-a-cursor", headers=auth),
        ]
        not_json = await client.post(URL, content=b"{", headers=auth | {"content-type": "application/json"})
        kept = await client.get(url, headers=auth)
    assert [refused(r) for r in answers] == [
        ["content"], ["content"], ["content"], ["content"], ["tags"], ["content"], ["limit"], ["cursor"],
    ]  # fmt: skip
    assert problem(answers[2], 422)["errors"]["content"] == "A memory cannot be empty."
    assert refused(not_json) == ["body"]
    assert kept.json()["content"] == "Kept."
