"""The app's one provider client, made on first use.

Imported lazily: authlib and joserfc cost a web process ~70 ms and a few MB at start, which
a Nova that never uses single sign-on should not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from app.web.deps import app_context

if TYPE_CHECKING:
    from app.accounts.oidc.provider import OidcProvider


def provider_for(conn: HTTPConnection) -> OidcProvider:
    """One per app, so discovery and the signing keys are fetched once and then kept."""
    from app.accounts.oidc.provider import OidcProvider, ProviderConfig

    state = conn.app.state
    provider: OidcProvider | None = getattr(state, "oidc_provider", None)
    if provider is None:
        provider = state.oidc_provider = OidcProvider(ProviderConfig.from_settings(app_context(conn).settings))
    return provider
