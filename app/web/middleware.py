"""Pure ASGI middleware: body size limit, security headers, the public URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.paths import is_api_path

# Scripts only from our own origin: even if sanitising failed, injected markup could not run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


UPLOAD_FORM_ROOM = 64 * 1024


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse request bodies over the limit with 413, whether declared or streamed."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        upload_paths: tuple[str, ...] = (),
        upload_max_bytes: int = 0,
        import_paths: tuple[str, ...] = (),
        import_max_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # File uploads (exact paths, POST) may be as large as a file may be, plus the form around it;
        # thread imports (app/transfer) as large as an import may be.
        self.upload_paths = frozenset(upload_paths)
        self.upload_max_bytes = upload_max_bytes + UPLOAD_FORM_ROOM
        self.import_paths = frozenset(import_paths)
        self.import_max_bytes = import_max_bytes + UPLOAD_FORM_ROOM

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_upload = scope["method"] == "POST" and scope["path"] in self.upload_paths
        is_import = scope["method"] == "POST" and scope["path"] in self.import_paths
        limit = self.upload_max_bytes if is_upload else self.import_max_bytes if is_import else self.max_bytes
        kind = "Files" if is_upload else "Imports" if is_import else None
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            await self._refuse(scope, receive, send, limit, kind)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit, kind)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int, kind: str | None) -> None:
        if kind:
            detail = f"{kind} are limited to {(limit - UPLOAD_FORM_ROOM) / 1048576:.1f} MB.".replace(".0 MB", " MB")
        else:
            detail = f"The request body is larger than the {limit // 1024} KiB limit."
        response: Response = PlainTextResponse(detail, status_code=413)
        if is_api_path(scope["path"]):
            body = {"type": "about:blank", "title": "Content Too Large", "status": 413}
            response = JSONResponse(body | {"detail": detail}, status_code=413, media_type="application/problem+json")
        await response(scope, receive, send)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "same-origin")
                headers.setdefault("x-frame-options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PublicURLMiddleware:
    """Absolute URLs (`url_for`, redirects) come from the configured public URL.

    The request's Host header is whatever the client sent; behind it only the public URL's
    scheme and host remain, so nothing a client sends ends up in a link or a Location.
    The received origin stays in `scope["state"]["request_origin"]` for the CSRF check.
    """

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.scheme = parts.scheme
        self.netloc = parts.netloc.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received_host = next((value for name, value in scope["headers"] if name == b"host"), b"")
        received_origin = f"{scope.get('scheme', 'http')}://{received_host.decode('latin-1').lower()}"
        headers = [(name, value) for name, value in scope["headers"] if name != b"host"]
        scope = {**scope, "scheme": self.scheme, "headers": [(b"host", self.netloc), *headers]}
        scope.setdefault("state", {})["request_origin"] = received_origin
        await self.app(scope, receive, send)
