"""The single sign-on settings: the login mode follows the issuer, and a half configuration
stops Nova at start with one line naming what is missing."""

from __future__ import annotations

import pytest

from app.settings import SettingsError, load_settings

ISSUER = {"OIDC_ISSUER": "https://auth.example.org/application/o/nova/", "OIDC_CLIENT_ID": "nova"}


def test_the_login_mode_is_both_once_an_issuer_is_set() -> None:
    assert load_settings(_env_file=None).login_mode == "local"
    assert load_settings(_env_file=None, **ISSUER).login_mode == "both"
    assert load_settings(_env_file=None, NOVA_LOGIN_MODE="OIDC", **ISSUER).login_mode == "oidc"
    assert load_settings(_env_file=None, NOVA_LOGIN_MODE="local", **ISSUER).login_mode == "local"


def test_scopes_are_space_or_comma_separated() -> None:
    settings = load_settings(_env_file=None, OIDC_SCOPES="openid, email groups", **ISSUER)
    assert settings.oidc_scopes == ["openid", "email", "groups"]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"OIDC_ISSUER": "https://auth.example.org"}, "OIDC_ISSUER"),  # without a client id
        ({"NOVA_LOGIN_MODE": "oidc"}, "NOVA_LOGIN_MODE"),  # without an issuer
        ({"NOVA_LOGIN_MODE": "sometimes"}, "NOVA_LOGIN_MODE"),
        ({**ISSUER, "OIDC_ISSUER": "auth.example.org"}, "OIDC_ISSUER"),
        ({**ISSUER, "OIDC_ISSUER": "https://auth.example.org/?tenant=1"}, "OIDC_ISSUER"),
        ({**ISSUER, "OIDC_SCOPES": "email profile"}, "OIDC_SCOPES"),
        ({**ISSUER, "OIDC_REQUIRED_CLAIM": "nova_access"}, "OIDC_REQUIRED_CLAIM"),
    ],
)
def test_a_half_configuration_is_refused_naming_the_setting(values: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named) as caught:
        load_settings(_env_file=None, **values)
    assert "\n" not in str(caught.value)
