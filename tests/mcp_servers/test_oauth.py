"""OAuth 2.1 MCP servers against a real authlib authorization server: discovery, dynamic
registration, PKCE, the callback, refresh, reconnect, and every way a sign-in must be refused."""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.db import utcnow
from app.models import McpOAuthGrant, McpOAuthRequest
from tests.fixtures.mcp_oauth_server import AS_HOST, RS_HOST, OAuthState, oauth_servers_fixture
from tests.fixtures.mcp_oauth_server import Client as OAuthClient
from tests.fixtures.nova import Client, Nova, field_error, nova_settings, open_nova, submit

CALLBACK = "http://testserver/tools/mcp/oauth/callback"


@pytest.fixture(scope="module")
def oauth() -> Iterator[OAuthState]:
    yield from oauth_servers_fixture()


@pytest.fixture
async def nova_oauth(database_url: str, tmp_path: Path, oauth: OAuthState) -> AsyncIterator[Nova]:
    """Nova whose users may reach the two test servers (http, on loopback: both allow-listed)."""
    oauth.reset()
    settings = nova_settings(database_url, tmp_path, NOVA_EGRESS_ALLOWLIST=f"{AS_HOST},{RS_HOST}")
    async with open_nova(settings) as nova:
        yield nova


async def add_oauth_server(client: Client, url: str, **fields: str) -> uuid.UUID:
    data = {"name": "Vault", "transport": "http", "url": url, "auth_kind": "oauth"} | fields
    response = await submit(client, "/tools/mcp", data)
    assert response.status_code == 303, response.text
    return uuid.UUID(response.headers["location"].rsplit("/", 1)[1])


async def sign_in(client: Client, server_id: uuid.UUID) -> httpx.URL:
    """Connect, and the authorization server's answer: the callback URL the browser would open."""
    started = await submit(client, f"/tools/mcp/{server_id}/connect")
    assert started.status_code == 200, started.text
    async with httpx.AsyncClient() as browser:  # the user's browser at the authorization server
        answer = await browser.get(onward(started))
    assert answer.status_code == 302, answer.text
    return httpx.URL(answer.headers["location"])


def onward(page: httpx.Response) -> str:
    """Where Connect's page sends the browser on (its Refresh header, and its link)."""
    delay, _, url = page.headers["refresh"].partition("; url=")
    assert delay == "0" and f'href="{html.escape(url)}"' in page.text
    return url


async def grant_of(nova: Nova) -> McpOAuthGrant | None:
    async with nova.ctx.db.transaction() as session:
        return await session.scalar(select(McpOAuthGrant))


async def test_connect_discovers_registers_signs_in_and_lists_tools(nova_oauth: Nova, oauth: OAuthState) -> None:
    nova = nova_oauth
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        server_id = await add_oauth_server(client, oauth.mcp_url)
        before = await client.get(f"/tools/mcp/{server_id}")
        started = await submit(client, f"/tools/mcp/{server_id}/connect")
        authorize = httpx.URL(onward(started))
        async with httpx.AsyncClient() as browser:
            answer = await browser.get(authorize)
        callback = httpx.URL(answer.headers["location"])
        done = await client.get(str(callback))
        page = await client.get(done.headers["location"])
        tools_page = await client.get("/tools")
    assert "Not connected" in before.text and ">Connect</button>" in before.text
    # Discovery found the authorization server through the 401's resource_metadata.
    assert str(authorize).startswith(f"{oauth.issuer}/authorize?")
    params = authorize.params
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["resource"] == oauth.mcp_url and params["response_type"] == "code"
    assert params["redirect_uri"] == CALLBACK
    client_id = params["client_id"]
    assert oauth.clients[client_id].auth_method == "client_secret_basic"  # registered as a confidential client
    assert callback.path == "/tools/mcp/oauth/callback" and callback.params["state"] == params["state"]
    assert done.status_code == 303 and done.headers["location"].endswith(f"/tools/mcp/{server_id}?connected=1")
    assert "Connected: 2 tools." in page.text and "Say the text back, quietly" in page.text
    assert ">Connected</span>" in page.text and oauth.issuer in page.text
    assert oauth.log[:4] == ["register", "authorize", "token:authorization_code", "mcp:ok"]
    grant = await grant_of(nova)
    assert grant is not None and grant.client_id == client_id and grant.resource == oauth.mcp_url
    issued = next(t for t in oauth.tokens if t.client_id == client_id)
    assert issued.resource == oauth.mcp_url  # RFC 8707: the tokens are for this server only
    for secret in (issued.access_token, str(issued.refresh_token), oauth.clients[client_id].client_secret or ""):
        assert secret not in page.text and secret not in tools_page.text
        assert secret not in f"{grant.access_token_encrypted}{grant.refresh_token_encrypted}"
    assert nova.ctx.secretbox.decrypt(grant.access_token_encrypted or "") == issued.access_token
    assert "OAuth 2.1, Nova registers itself" in tools_page.text
    async with nova.ctx.db.transaction() as session:  # the sign-in under way is gone
        assert await session.scalar(select(McpOAuthRequest)) is None


@pytest.mark.both_databases  # the refresh locks the grant's row (FOR UPDATE on PostgreSQL)
async def test_expired_tokens_are_refreshed_and_refused_ones_renewed(nova_oauth: Nova, oauth: OAuthState) -> None:
    nova = nova_oauth
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        server_id = await add_oauth_server(client, oauth.mcp_url, scopes="tools.read tools.call")
        await client.get(str(await sign_in(client, server_id)))
        first = await grant_of(nova)
        # Time passes: the access token expires, at the authorization server and in Nova's records.
        oauth.expire_access_tokens()
        async with nova.ctx.db.transaction() as session:
            row = await session.scalar(select(McpOAuthGrant))
            assert row is not None
            row.expires_at = utcnow() - timedelta(seconds=5)
        mark = len(oauth.log)
        tested = await submit(client, f"/tools/mcp/{server_id}/test", headers={"HX-Request": "true"})
        proactive = oauth.log[mark:]
        refreshed = await grant_of(nova)
        # The server stops honouring a token Nova thinks is good (revoked): a 401, one renewal, a retry.
        oauth.expire_access_tokens()
        mark = len(oauth.log)
        again = await submit(client, f"/tools/mcp/{server_id}/test", headers={"HX-Request": "true"})
        reactive = oauth.log[mark:]
    assert "Connected: 2 tools." in tested.text and "Connected: 2 tools." in again.text
    assert first is not None and refreshed is not None and first.scopes == "tools.read tools.call"
    assert proactive[0] == "token:refresh_token" and "mcp:refused" not in proactive
    assert first.access_token_encrypted != refreshed.access_token_encrypted
    assert first.refresh_token_encrypted != refreshed.refresh_token_encrypted  # rotated, and the new one kept
    assert refreshed.expires_at is not None and refreshed.expires_at > utcnow() + timedelta(seconds=200)
    assert reactive[0] == "mcp:refused" and reactive.count("token:refresh_token") == 1
    assert reactive[reactive.index("token:refresh_token") + 1 :] and "mcp:refused" not in reactive[-1:]


@pytest.mark.both_databases
async def test_a_refused_refresh_needs_a_reconnect(nova_oauth: Nova, oauth: OAuthState) -> None:
    nova = nova_oauth
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        server_id = await add_oauth_server(client, oauth.mcp_url)
        await client.get(str(await sign_in(client, server_id)))
        oauth.refuse_refresh = True
        oauth.expire_access_tokens()
        failed = await submit(client, f"/tools/mcp/{server_id}/test", headers={"HX-Request": "true"})
        page = await client.get(f"/tools/mcp/{server_id}")
        tools_page = await client.get("/tools")
        oauth.refuse_refresh = False
        await client.get(str(await sign_in(client, server_id)))  # Reconnect
        back = await submit(client, f"/tools/mcp/{server_id}/test", headers={"HX-Request": "true"})
    assert "Vault needs you to sign in again (reconnect needed)" in failed.text
    assert "Reconnect needed" in page.text and ">Reconnect</button>" in page.text and "invalid_grant" in page.text
    assert "Failed" in tools_page.text
    assert "Connected: 2 tools." in back.text
    grant = await grant_of(nova)
    assert grant is not None and grant.status == "connected" and grant.error is None


async def test_a_replayed_late_or_foreign_callback_stores_nothing(nova_oauth: Nova, oauth: OAuthState) -> None:
    nova = nova_oauth
    await nova.create_user("ada@example.com")
    await nova.create_user("eve@example.com")
    async with await nova.login("ada@example.com") as ada, await nova.login("eve@example.com") as eve:
        server_id = await add_oauth_server(ada, oauth.mcp_url)
        callback = await sign_in(ada, server_id)
        foreign = await eve.get(str(callback))  # Eve has Ada's callback URL
        assert await grant_of(nova) is None
        done = await ada.get(str(callback))  # Ada's own state still works
        replayed = await ada.get(str(callback))
        forged = await ada.get("/tools/mcp/oauth/callback", params={"state": "made-up", "code": "x"})
        late = await sign_in(ada, server_id)
        async with nova.ctx.db.transaction() as session:
            pending = await session.scalar(select(McpOAuthRequest))
            assert pending is not None
            pending.expires_at = utcnow() - timedelta(seconds=1)
        expired = await ada.get(str(late))
    for refused in (foreign, replayed, forged, expired):
        assert refused.status_code == 400 and "expired, was already used, or was started by another account" in (
            refused.text
        )
        assert "Nothing was stored." in refused.text
    assert done.status_code == 303
    assert oauth.log.count("token:authorization_code") == 1  # only Ada's first callback reached the server
    async with nova.ctx.db.transaction() as session:
        grants = (await session.scalars(select(McpOAuthGrant))).all()
    assert len(grants) == 1 and grants[0].server_id == server_id


async def test_discovery_falls_back_to_the_well_known_metadata(nova_oauth: Nova, oauth: OAuthState) -> None:
    nova = nova_oauth
    await nova.create_user("ada@example.com")
    oauth.bare_challenge = True  # the 401 names no resource_metadata
    async with await nova.login("ada@example.com") as client:
        server_id = await add_oauth_server(client, oauth.mcp_url)
        done = await client.get(str(await sign_in(client, server_id)))
        page = await client.get(done.headers["location"])
    assert "Connected: 2 tools." in page.text


async def test_insecure_or_private_oauth_endpoints_are_refused(nova_oauth: Nova, oauth: OAuthState) -> None:
    nova = nova_oauth
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        # A client the server's administrator registered for Nova: no dynamic registration.
        oauth.clients["nova-static"] = OAuthClient("nova-static", "s3cret-value", [CALLBACK], "client_secret_basic")
        server_id = await add_oauth_server(client, oauth.mcp_url, client_id="nova-static", client_secret="s3cret-value")
        oauth.metadata_overrides["authorization_endpoint"] = "http://auth.example.com/authorize"
        insecure = await submit(client, f"/tools/mcp/{server_id}/connect")
        oauth.metadata_overrides["authorization_endpoint"] = "https://10.1.2.3/authorize"
        private = await submit(client, f"/tools/mcp/{server_id}/connect")
        oauth.metadata_overrides.clear()
        oauth.metadata_overrides["token_endpoint"] = "https://169.254.169.254/token"
        metadata_token = await submit(client, f"/tools/mcp/{server_id}/connect")
        callback = await sign_in(client, server_id)  # the authorize step is fine; the token endpoint is not
        refused_token = await client.get(str(callback))
    assert insecure.status_code == 400
    assert "authorization endpoint (http://auth.example.com/authorize) is not https" in insecure.text
    assert private.status_code == 400 and "10.1.2.3 is a private address" in private.text
    assert metadata_token.status_code == 200  # Nova does not call the token endpoint before the callback
    assert refused_token.status_code == 400 and "the cloud metadata address" in refused_token.text
    assert "register" not in oauth.log  # a client id was given: no dynamic registration
    assert await grant_of(nova) is None


async def test_without_allowlist_the_loopback_servers_are_refused(
    database_url: str, tmp_path: Path, oauth: OAuthState
) -> None:
    oauth.reset()
    # The MCP server is allowed, its authorization server (on another loopback address) is not.
    async with open_nova(nova_settings(database_url, tmp_path, NOVA_EGRESS_ALLOWLIST=RS_HOST)) as nova:
        await nova.create_user("ada@example.com")
        async with await nova.login("ada@example.com") as client:
            server_id = await add_oauth_server(client, oauth.mcp_url)
            refused = await submit(client, f"/tools/mcp/{server_id}/connect")
    assert refused.status_code == 400
    assert f"the authorization server (http://{AS_HOST}:{oauth.as_port}) is not https" in refused.text
    assert oauth.log == []


async def test_settings_disconnect_and_switching_away(nova_oauth: Nova, oauth: OAuthState) -> None:
    nova = nova_oauth
    await nova.create_user("ada@example.com")
    async with await nova.login("ada@example.com") as client:
        bad = await submit(client, "/tools/mcp", {"name": "X", "url": oauth.mcp_url, "auth_kind": "oauth",
                                                  "client_secret": "orphan-secret", "scopes": 'a "b'})  # fmt: skip
        server_id = await add_oauth_server(client, oauth.mcp_url)
        await client.get(str(await sign_in(client, server_id)))
        disconnected = await submit(client, f"/tools/mcp/{server_id}/disconnect")
        gone = await grant_of(nova)
        await client.get(str(await sign_in(client, server_id)))
        form = {"name": "Vault", "transport": "http", "url": oauth.mcp_url, "auth_kind": "none"}
        switched = await submit(client, f"/tools/mcp/{server_id}", form)
        after_switch = await grant_of(nova)
        not_oauth = await submit(client, f"/tools/mcp/{server_id}/connect")
    assert bad.status_code == 400 and field_error(bad.text, "client_secret") == "A client secret needs its client id."
    assert field_error(bad.text, "scopes") == "Scopes are words separated by spaces."
    assert "orphan-secret" not in bad.text
    assert disconnected.status_code == 303 and gone is None
    assert switched.status_code == 303 and after_switch is None
    assert not_oauth.status_code == 400 and "does not sign in with OAuth" in not_oauth.text
