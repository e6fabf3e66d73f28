"""The ID token is believed only when the provider's published key signed it, for this client,
for this sign-in (nonce), and recently; a rotated key is fetched once, never more."""

from __future__ import annotations

from app.accounts.oidc.views import TOKEN_EXPIRED, UNVERIFIED
from tests.fixtures.oidc_provider import Provider
from tests.oidc.conftest import OpenNova
from tests.oidc.flow import browser, error_on, sign_in, users


async def test_a_bad_signature_is_refused(sso_nova: OpenNova, provider: Provider) -> None:
    provider.bad_signature = True  # the published key's id, another key's signature
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova, browser(nova) as client:
        page = await sign_in(client)
        assert (page.status_code, error_on(page)) == (400, UNVERIFIED)
        assert await users(nova) == {}
        assert (await client.get("/threads")).status_code == 303  # no session


async def test_rotated_keys_are_fetched_once(sso_nova: OpenNova, provider: Provider) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova:
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200
        fetches = provider.jwks_fetches
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200
        assert provider.jwks_fetches == fetches  # the keys are kept

        provider.rotate_keys()
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200
        assert provider.jwks_fetches == fetches + 1


async def test_an_unknown_key_is_refused_after_one_fresh_fetch(sso_nova: OpenNova, provider: Provider) -> None:
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova:
        async with browser(nova) as client:
            assert (await sign_in(client)).status_code == 200
        fetches = provider.jwks_fetches
        provider.unknown_key = True  # a key id the JWKS never lists
        async with browser(nova) as client:
            assert error_on(await sign_in(client)) == UNVERIFIED
        assert provider.jwks_fetches == fetches + 1


async def test_a_wrong_nonce_is_refused(sso_nova: OpenNova, provider: Provider) -> None:
    provider.wrong_nonce = True
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova, browser(nova) as client:
        assert error_on(await sign_in(client)) == UNVERIFIED
        assert await users(nova) == {}


async def test_an_expired_token_is_refused(sso_nova: OpenNova, provider: Provider) -> None:
    provider.expired = True
    async with sso_nova(OIDC_AUTO_CREATE="true") as nova, browser(nova) as client:
        assert error_on(await sign_in(client)) == TOKEN_EXPIRED
        assert await users(nova) == {}
