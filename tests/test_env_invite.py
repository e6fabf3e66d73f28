from __future__ import annotations

from pathlib import Path

from app.main import create_app
from tests.fixtures.nova import PASSWORD, Nova, nova_settings, submit


async def test_env_invite_code_is_accepted(database_url: str, tmp_path: Path) -> None:
    app = create_app(nova_settings(database_url, tmp_path, REGISTRATION_INVITE_CODE="homelab-2026"))
    async with app.router.lifespan_context(app):
        nova = Nova(app=app, ctx=app.state.ctx)
        try:
            async with nova.client() as client:
                response = await submit(
                    client, "/register",
                    {"email": "friend@example.com", "password": PASSWORD, "invite_code": "homelab-2026"},
                )  # fmt: skip
            assert response.status_code == 303
        finally:
            await nova.wipe()
