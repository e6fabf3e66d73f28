"""The `nova` command: serve, worker, migrate, user and token management."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import errno
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from app import logs, shutdown
from app.security.files import PRIVATE_UMASK
from app.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:  # imported when needed: `nova serve` checks its port before the heavy imports
    from types import FrameType

    import uvicorn

    from app.context import AppContext

T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"nova: {exc}", file=sys.stderr)
        return 2
    os.umask(PRIVATE_UMASK)  # the data directory and everything in it: 0700 and 0600
    logs.configure(settings.log_level, settings.log_format)
    try:
        result: int = args.handler(settings, args)
    except CommandError as exc:
        print(f"nova: {exc}", file=sys.stderr)
        return 1
    return result


class CommandError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nova", description="Nova AI agent workspace")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, ensure an admin, and start the web server")
    serve.set_defaults(handler=_serve)
    worker = commands.add_parser("worker", help="run jobs from Redis (needs REDIS_URL)")
    worker.add_argument("--check", action="store_true", help="exit 0 if a worker is alive")
    worker.set_defaults(handler=_worker)
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)

    user = commands.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user")
    create.add_argument("email")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.set_defaults(handler=_user_create)
    suspend = user.add_parser("suspend", help="suspend a user and end their sessions")
    suspend.add_argument("email")
    suspend.set_defaults(handler=_user_suspend)

    token = commands.add_parser("token", help="manage API tokens").add_subparsers(dest="action", required=True)
    token_create = token.add_parser("create", help="create an API token (printed once)")
    token_create.add_argument("email")
    token_create.add_argument("--name", required=True)
    token_create.add_argument("--scope", choices=["read", "write", "admin"], default="write")
    token_create.add_argument("--expires-in-days", type=int, default=None, help="7, 30, 90 or 365 (default: never)")
    token_create.set_defaults(handler=_token_create)
    return parser


def _with_context(settings: Settings, work: Callable[[AppContext], Awaitable[T]]) -> T:
    from app.context import open_context

    async def run() -> T:
        ctx = open_context(settings)
        try:
            return await work(ctx)
        finally:
            await ctx.close()

    return asyncio.run(run())


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from app.migrate import upgrade_to_head

    upgrade_to_head(settings.resolved_database_url)
    print("nova: database is up to date")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    # Bound before anything else, so a taken port stops Nova at once (and before it prints
    # a first-start admin password that would then be lost).
    with _bind(settings.host, settings.port) as listener:
        _count_metrics_with_other_processes(settings)
        import uvicorn

        from app.bootstrap import prepare_server

        _migrate(settings, args)
        messages = _with_context(settings, prepare_server)
        for line in messages:
            print(line, flush=True)
        config = uvicorn.Config(
            "app.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=logs.UVICORN_LOG_CONFIG,
            proxy_headers=True,
            lifespan="on",
        )
        server = _server(config)
        server.run(sockets=[listener])
    return 0 if server.started else 1


def _server(config: uvicorn.Config) -> uvicorn.Server:
    import uvicorn

    class NovaServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            shutdown.request()  # before uvicorn closes the connections still open (app/shutdown.py)
            super().handle_exit(sig, frame)

    return NovaServer(config)


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to Nova's address (uvicorn listens on it), or one line saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            reason = "it is already in use (is another Nova running?)"
        else:
            reason = exc.strerror or str(exc)
        raise CommandError(
            f"cannot listen on {address}: {reason}; set NOVA_PORT (or NOVA_HOST) to listen elsewhere"
        ) from None
    return listener


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.redis_url:
        raise CommandError("nova worker needs REDIS_URL (without it, nova serve runs jobs itself)")
    from app.worker import check_worker, run_worker

    if args.check:
        return check_worker(settings)
    _count_metrics_with_other_processes(settings)
    run_worker(settings)
    return 0


def _count_metrics_with_other_processes(settings: Settings) -> None:
    """Scaled: web processes and workers write their metrics where `/metrics` adds them up."""
    if settings.redis_url:
        from app.metrics import process

        process.share_with_other_processes(settings.metrics_dir or settings.data_dir / "metrics")
        atexit.register(process.forget_this_process)


def _user_create(settings: Settings, args: argparse.Namespace) -> int:
    from app.accounts import service
    from app.errors import ValidationFailed
    from app.models import Role

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    generated = None
    if password is None:
        import secrets

        password = generated = secrets.token_urlsafe(12)

    async def work(ctx: AppContext) -> None:
        role = Role.ADMIN if args.admin else Role.USER
        async with ctx.db.transaction() as session:
            await service.create_user(session, args.email, password or "", role)

    try:
        _with_context(settings, work)
    except ValidationFailed as exc:
        raise CommandError(str(exc)) from None
    print(f"nova: created {args.email.strip().lower()}" + (" (admin)" if args.admin else ""))
    if generated:
        print(f"password: {generated}")
    return 0


def _user_suspend(settings: Settings, args: argparse.Namespace) -> int:
    from app.accounts import service
    from app.errors import NotFound, ValidationFailed
    from app.runs import control

    async def work(ctx: AppContext) -> None:
        async with ctx.db.transaction() as session:
            user = await service.suspend_by_email(session, args.email)
        await control.stop_all(ctx, user.id)

    try:
        _with_context(settings, work)
    except NotFound:
        raise CommandError(f"no user {args.email}") from None
    except ValidationFailed as exc:
        raise CommandError(str(exc)) from None
    print(f"nova: suspended {args.email}, ended their sessions and stopped their runs")
    return 0


def _token_create(settings: Settings, args: argparse.Namespace) -> int:
    from app.accounts import repository
    from app.errors import ValidationFailed
    from app.tokens import service

    async def work(ctx: AppContext) -> str:
        async with ctx.db.transaction() as session:
            user = await repository.get_user_by_email(session, args.email)
            if user is None:
                raise CommandError(f"no user {args.email}")
            issued = await service.create_token(session, user.id, args.name, args.scope, args.expires_in_days)
            return issued.secret

    try:
        secret = _with_context(settings, work)
    except ValidationFailed as exc:
        raise CommandError(str(exc)) from None
    print(secret)
    return 0


if __name__ == "__main__":
    sys.exit(main())
