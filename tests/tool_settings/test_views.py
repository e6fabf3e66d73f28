"""The Tools page: custom tools, per-user tool settings, and what never leaves the server."""

from __future__ import annotations

import re
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.agents.tools.context import ToolContext, ToolEnvironment
from app.egress import EgressPolicy
from app.models import Role, ToolSetting, User
from tests.fixtures.nova import Nova, field_error, submit


async def test_custom_tools_are_admin_only_and_must_import(nova: Nova) -> None:
    await nova.create_user("root@example.com", role=Role.ADMIN)
    async with await nova.login("root@example.com") as admin:
        bad = await submit(admin, "/tools/custom", {"dotted_path": "tests.fixtures.custom_tools.NOT_A_TOOL"})
        missing = await submit(admin, "/tools/custom", {"dotted_path": "nowhere.at.all"})
        clash = await submit(admin, "/tools/custom", {"dotted_path": "tests.fixtures.custom_tools.word_count"})
        page = await admin.get("/tools")
        agent_form = await admin.get("/agents/new")
    assert bad.status_code == 400 and field_error(bad.text, "dotted_path")
    assert missing.status_code == 400 and "Cannot import" in (field_error(missing.text, "dotted_path") or "")
    assert clash.status_code == 303
    assert "word_count" in page.text and "word_count" in agent_form.text


async def test_tool_settings_are_encrypted_and_never_shown(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        invalid = await submit(client, "/tools/settings/calendar", {"url": "ftp://x", "username": "", "password": "pw"})
        saved = await submit(client, "/tools/settings/calendar", {
            "url": "https://dav.example.com/", "username": "ada", "password": "hunter2-secret"})  # fmt: skip
        page = await client.get("/tools")
        kept = await submit(client, "/tools/settings/calendar", {
            "url": "https://dav.example.com/", "username": "ada2", "password": ""})  # fmt: skip
        timezone = await submit(client, "/tools/timezone", {"timezone": "Europe/Paris"})
        bad_zone = await submit(client, "/tools/timezone", {"timezone": "Mars/Olympus"})
    assert invalid.status_code == 400
    assert field_error(invalid.text, "calendar-url") == "Enter the server's http(s) address."
    assert field_error(invalid.text, "calendar-username") == "Enter your CalDAV user name."
    assert saved.status_code == 303 and kept.status_code == 303
    assert "hunter2-secret" not in page.text and "…cret" in page.text
    async with nova.ctx.db.transaction() as session:
        row = await session.scalar(select(ToolSetting))
        user = await session.scalar(select(User).where(User.email == "ada@example.com"))
    assert row is not None and "hunter2" not in row.values_encrypted
    assert '"password": "hunter2-secret"' in nova.ctx.secretbox.decrypt(row.values_encrypted)
    assert '"username": "ada2"' in nova.ctx.secretbox.decrypt(row.values_encrypted)
    assert timezone.status_code == 303 and bad_zone.status_code == 400
    assert user is not None and user.timezone == "Europe/Paris"


def test_secrets_are_redacted_from_step_previews() -> None:
    ctx = ToolContext(
        user_id=uuid.uuid4(), run_id=uuid.uuid4(), timezone=ZoneInfo("UTC"),
        env=ToolEnvironment(None, None, None), egress=EgressPolicy(), memory=None,  # type: ignore[arg-type]
        emit=None, approve=None, ask=None, secrets=("s3cret-pass",),  # type: ignore[arg-type]
    )  # fmt: skip
    assert ctx.redact("login with s3cret-pass please") == "login with ••• please"


async def test_the_timezone_is_picked_from_a_searchable_list_of_iana_zones(nova: Nova) -> None:
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        page = await client.get("/tools")
    field = re.search(r'<input id="field-timezone"[^>]*>', page.text)
    assert field is not None and 'list="timezone-names"' in field.group() and 'type="text"' in field.group()
    zones = re.search(r'<datalist id="timezone-names">(.*?)</datalist>', page.text, re.S)
    assert zones is not None
    assert '<option value="Europe/Paris">' in zones.group(1) and '<option value="UTC">' in zones.group(1)
    assert zones.group(1).count("<option") > 300
