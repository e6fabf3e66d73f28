from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_the_embedded_mode(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, NOVA_DATA_DIR=str(tmp_path))
    assert settings.embedded
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'nova.db'}"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NOVA_PORT", "eighty"),
        ("DATABASE_URL", "mysql://localhost/nova"),
        ("REDIS_URL", "http://localhost:6379"),
        ("NOVA_ENCRYPTION_KEY", "not-a-fernet-key"),
        ("NOVA_ADMIN_EMAIL", "nobody"),
    ],
)
def test_malformed_setting_fails_with_one_line_naming_it(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **{name: value})
    message = str(caught.value)
    assert name in message
    assert "\n" not in message


def test_allowed_hosts_is_a_comma_separated_list() -> None:
    settings = load_settings(_env_file=None, ALLOWED_HOSTS="nova.lan, 127.0.0.1")
    assert settings.allowed_hosts == ["nova.lan", "127.0.0.1"]


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(
        re.findall(
            r"^#?\s*(?:\(same as:\)\s*)?([A-Z][A-Z0-9_]+)=",
            (ROOT / ".env.example").read_text(),
            re.M,
        )
    )
    names = set()
    for spec in Settings.model_fields.values():
        alias = spec.validation_alias
        names.update([alias] if isinstance(alias, str) else [str(c) for c in alias.choices])  # type: ignore[union-attr]
    assert names - documented == set()


def test_public_url_defaults_to_where_nova_listens() -> None:
    assert load_settings(_env_file=None).public_url == "http://127.0.0.1:8000"
    listening_everywhere = load_settings(_env_file=None, NOVA_HOST="0.0.0.0", NOVA_PORT="9000")
    assert listening_everywhere.public_url == "http://127.0.0.1:9000"
    assert load_settings(_env_file=None, NOVA_PUBLIC_URL="https://Nova.Example.org/").public_url == (
        "https://nova.example.org"
    )


def test_allowed_hosts_default_to_the_public_host_and_loopback() -> None:
    settings = load_settings(_env_file=None, NOVA_PUBLIC_URL="https://nova.example.org")
    assert settings.trusted_hosts == ["nova.example.org", "127.0.0.1", "localhost", "::1"]
    assert "*" not in load_settings(_env_file=None).trusted_hosts
    assert load_settings(_env_file=None, ALLOWED_HOSTS="nova.lan").trusted_hosts == ["nova.lan"]


@pytest.mark.parametrize(
    "value",
    ["nova.example.org", "ftp://nova.example.org", "https://nova.example.org/nova", "http://[::1", "http://h:99999"],
)
def test_public_url_must_be_an_origin(value: str) -> None:
    with pytest.raises(SettingsError, match="NOVA_PUBLIC_URL"):
        load_settings(_env_file=None, NOVA_PUBLIC_URL=value)
