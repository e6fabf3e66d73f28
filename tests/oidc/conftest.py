"""The local OpenID provider (one per test process, reset for each test) and Novas pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from tests.fixtures.nova import Nova, nova_settings, open_nova
from tests.fixtures.oidc_provider import Provider, ProviderServer

OpenNova = Callable[..., AbstractAsyncContextManager[Nova]]


@pytest.fixture(scope="session")
def provider_server() -> Iterator[Provider]:
    server = ProviderServer()
    yield server.start()
    server.stop()


@pytest.fixture
def provider(provider_server: Provider) -> Iterator[Provider]:
    """The provider with its switches off, signing in the default person (ada@example.com)."""
    provider_server.reset()
    yield provider_server
    provider_server.reset()


@pytest.fixture
def sso_nova(database_url: str, tmp_path: Path, provider: Provider) -> OpenNova:
    """`async with sso_nova(OIDC_AUTO_CREATE="true") as nova:` a Nova using the provider,
    with these settings on top (each Nova discovers and fetches keys afresh)."""

    def open_with(**settings: str) -> AbstractAsyncContextManager[Nova]:
        return open_nova(nova_settings(database_url, tmp_path, **provider.nova_settings(**settings)))

    return open_with
