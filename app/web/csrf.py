"""CSRF protection for every state-changing browser request.

Two checks, and a request must pass both:

- Where it comes from. A browser's `Sec-Fetch-Site` must say same-origin (or none: typed by
  the user), and its `Origin`, when sent, must be Nova's own: the public URL, or the origin
  the request was sent to. Clients that send neither are not browsers acting for someone.
- A token only Nova can compute, bound to who is asking: an HMAC, keyed with the secret
  key, of the server-side session id, or, for the anonymous forms (login, register), of a
  random pre-session cookie. A cookie set by a sibling site ("cookie tossing") does not
  help: no cookie value yields the token of the victim's session.

Forms send the token in the `csrf_token` field, htmx in the `X-CSRF-Token` header. The
API (/api, /v1, /mcp) is exempt: it authenticates with Bearer tokens only, never with cookies.
Over HTTPS the cookies get `__Host-` names, which only this host, over TLS, may set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.paths import is_api_path

PRE_SESSION_COOKIE = "nova_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
SAME_SITE_FETCHES = {"same-origin", "none"}
DEFAULT_PORTS = {"http": 80, "https": 443}
REFUSAL = "This form has expired or was sent from another site. Reload the page and try again."


def csrf_token(conn: HTTPConnection) -> str:
    token: str = conn.scope.get("state", {}).get("csrf_token", "")
    return token


def host_cookie(name: str, *, secure: bool) -> str:
    """The cookie's name: `__Host-` prefixed when served over HTTPS."""
    return f"__Host-{name}" if secure else name


def bind_to_session(conn: HTTPConnection, session_id: str) -> None:
    """Render the rest of this response with the token of the session a view just started."""
    conn.scope.setdefault("state", {})["csrf_token"] = _sign(_secret_key(conn.scope), "session", session_id)


class CSRFMiddleware:
    """Runs after authentication: a logged-in user's token depends on their session."""

    def __init__(self, app: ASGIApp, *, public_url: str, secure: bool = False) -> None:
        self.app = app
        self.public_origin = _origin(public_url)
        self.secure = secure
        self.cookie = host_cookie(PRE_SESSION_COOKIE, secure=secure)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        session_id = getattr(scope.get("user"), "session_id", None)
        pre_session = None if session_id else HTTPConnection(scope).cookies.get(self.cookie)
        new_pre_session = None if session_id or pre_session else secrets.token_urlsafe(32)
        if session_id:
            expected = _sign(_secret_key(scope), "session", session_id)
        else:
            expected = _sign(_secret_key(scope), "anonymous", pre_session or new_pre_session or "")
        scope.setdefault("state", {})["csrf_token"] = expected

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and new_pre_session:
                flags = "; Secure" if self.secure else ""
                cookie = f"{self.cookie}={new_pre_session}; Path=/; HttpOnly; SameSite=Lax{flags}"
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        if scope["method"] not in SAFE_METHODS:
            allowed = self._from_this_site(scope) and not new_pre_session
            if allowed and _header_matches(scope, expected):
                # The body is left unread: a file upload streams on to its view, never held here.
                await self.app(scope, receive, send_with_cookie)
                return
            body = await _read_body(receive)
            if not allowed or not await _token_matches(scope, body, expected):
                await PlainTextResponse(REFUSAL, status_code=403)(scope, receive, send_with_cookie)
                return
            receive = _replay(body)
        await self.app(scope, receive, send_with_cookie)

    def _from_this_site(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in SAME_SITE_FETCHES:
            return False
        origin = headers.get("origin")
        if origin is None:
            return True
        received = scope.get("state", {}).get("request_origin")
        return _origin(origin) in {self.public_origin, _origin(received) if received else None}


def _origin(url: str) -> str | None:
    """scheme://host[:port], lower-case, without the scheme's default port; None if malformed."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[parts.scheme] else "")


def _secret_key(scope: Scope) -> bytes:
    key: str = scope["app"].state.ctx.keys.secret_key
    return key.encode()


def _sign(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"nova.csrf:{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _header_matches(scope: Scope, expected: str) -> bool:
    wanted = expected.encode()
    return any(name == CSRF_HEADER and hmac.compare_digest(value, wanted) for name, value in scope["headers"])


async def _token_matches(scope: Scope, body: bytes, expected: str) -> bool:
    """The header htmx sends or the form field; either may carry the token."""
    wanted = expected.encode()
    for name, value in scope["headers"]:
        if name == CSRF_HEADER and hmac.compare_digest(value, wanted):
            return True
    request = Request(scope, _replay(body))
    try:
        form = await request.form()
    except Exception:
        return False
    try:
        sent = form.get(CSRF_FIELD)
        return isinstance(sent, str) and hmac.compare_digest(sent.encode("utf-8", "replace"), wanted)
    finally:
        await form.close()
