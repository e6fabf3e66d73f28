"""The Dockerfile and compose.yaml cannot run here (no Docker engine): keep them honest."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from app.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
NOVA_SERVICES = {"nova-web", "nova-worker"}


def nova_subcommands() -> set[str]:
    parser = _parser()
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return set(actions[0].choices)  # type: ignore[attr-defined]


def test_compose_services_run_real_nova_subcommands() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert NOVA_SERVICES <= set(services)
    assert {"postgres", "redis", "minio"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in NOVA_SERVICES:
        command = services[name]["command"]
        assert command[0] == "nova" and command[1] in nova_subcommands(), name
        assert "healthcheck" in services[name]
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert environment["REDIS_URL"].startswith("redis://")
    assert services["nova-worker"]["healthcheck"]["test"] == ["CMD", "nova", "worker", "--check"]
    for name, service in services.items():
        if name not in NOVA_SERVICES and "profiles" not in service:
            assert "healthcheck" in service, name


def test_dockerfile_runs_a_real_subcommand_as_non_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r'^CMD \["nova", "(\w+)"\]', dockerfile, re.M)
    assert cmd and cmd.group(1) in nova_subcommands()
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    for directory in ("migrations", "templates", "static", "app"):
        assert f"COPY {directory} " in dockerfile
