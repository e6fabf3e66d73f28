"""The `nova` command as an operator uses it, each run as a real process."""

from __future__ import annotations

import re
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.nova import csrf_in
from tests.fixtures.server import ROOT, nova_command, nova_env, nova_serve

pytestmark = pytest.mark.live


def run_nova(data_dir: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        nova_command(*args), cwd=ROOT, env=nova_env(data_dir, **env), input=stdin,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    token = csrf_in(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_serve_prints_credentials_and_accepts_a_real_login(tmp_path: Path) -> None:
    with nova_serve(tmp_path, NOVA_ADMIN_EMAIL="boss@example.com") as nova:
        password = nova.admin_password()
        assert f"{nova.url}/login" in "".join(nova.output)
        assert "Nova asks for a new password at the first login." in "".join(nova.output)
        with httpx.Client(base_url=nova.url) as client:
            response = login(client, "boss@example.com", password)
            assert response.status_code == 303
            held = client.get("/admin/users")  # a printed password is replaced first
            form = {"current_password": password, "new_password": "boss's own password",
                    "confirm_password": "boss's own password", "csrf_token": csrf_in(client.get("/settings").text)}  # fmt: skip
            changed = client.post("/settings/password", data=form)
            page = client.get("/admin/users")
    assert (held.status_code, held.headers["location"]) == (303, f"{nova.url}/settings#password")
    assert changed.status_code == 303
    assert page.status_code == 200 and "boss@example.com" in page.text
    assert (tmp_path / "nova.db").exists()
    key_file = tmp_path / "encryption.key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_serve_twice_keeps_the_admin_and_prints_no_new_password(tmp_path: Path) -> None:
    with nova_serve(tmp_path, NOVA_ADMIN_PASSWORD="a strong admin password") as nova:
        assert "NOVA_ADMIN_PASSWORD" in "".join(nova.output)
    with nova_serve(tmp_path) as nova:
        text = "".join(nova.output)
        assert "Admin password" not in text
        with httpx.Client(base_url=nova.url) as client:
            assert login(client, "admin@nova.local", "a strong admin password").status_code == 303


def test_bad_setting_fails_with_one_clear_line(tmp_path: Path) -> None:
    result = run_nova(tmp_path, "migrate", NOVA_PORT="not-a-port")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "NOVA_PORT" in result.stderr


def test_user_and_token_commands(tmp_path: Path) -> None:
    assert run_nova(tmp_path, "migrate").returncode == 0
    created = run_nova(tmp_path, "user", "create", "Ops@Example.com", "--admin")
    assert created.returncode == 0, created.stderr
    generated = re.search(r"password: (\S+)", created.stdout)
    assert generated
    piped = run_nova(
        tmp_path,
        "user",
        "create",
        "dev@example.com",
        "--password-stdin",
        stdin="a piped password\n",
    )
    assert piped.returncode == 0 and "password:" not in piped.stdout
    duplicate = run_nova(
        tmp_path,
        "user",
        "create",
        "dev@example.com",
        "--password-stdin",
        stdin="another password\n",
    )
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    token = run_nova(tmp_path, "token", "create", "dev@example.com", "--name", "ci", "--scope", "read")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("nova_")

    with nova_serve(tmp_path) as nova:
        headers = {"authorization": f"Bearer {secret}"}
        me = httpx.get(nova.url + "/api/v1/me", headers=headers)
        assert me.json()["email"] == "dev@example.com" and me.json()["scope"] == "read"
        suspended = run_nova(tmp_path, "user", "suspend", "dev@example.com")
        assert suspended.returncode == 0, suspended.stderr
        assert httpx.get(nova.url + "/api/v1/me", headers=headers).status_code == 401
        with httpx.Client(base_url=nova.url) as client:
            assert login(client, "ops@example.com", generated.group(1)).status_code == 303

    assert run_nova(tmp_path, "user", "suspend", "ghost@example.com").returncode == 1


def test_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    result = run_nova(tmp_path, "worker")
    assert result.returncode == 1
    assert "REDIS_URL" in result.stderr


def test_serve_on_a_taken_port_fails_at_once_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = run_nova(tmp_path, "serve", NOVA_PORT=str(port))
        elapsed = time.monotonic() - started
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "NOVA_PORT" in lines[0] and "in use" in lines[0]
    assert "Admin password" not in result.stdout  # a first start's password is not printed, then lost
    assert not (tmp_path / "nova.db").exists()  # it stopped before migrating
    assert elapsed < 30


def test_data_directory_and_everything_in_it_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # as an older Nova left it
    data.chmod(0o755)
    for args in (("migrate",), ("user", "create", "ops@example.com")):
        result = subprocess.run(
            nova_command(*args), cwd=ROOT, env=nova_env(data), capture_output=True, text=True,
            timeout=120, check=False, umask=0o022,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert {path.name for path in data.iterdir()} >= {"nova.db", "secret.key", "encryption.key"}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
