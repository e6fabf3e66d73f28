"""The web app manifest: what a phone needs to put Nova on its home screen.

Served without login (browsers fetch it without cookies). There is no service worker: an
installed Nova is the same live site in its own window, and nothing private is cached offline.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# The light theme's accent and page colours (static/app.css): the splash screen and title bar.
THEME_COLOR = "#3a5bd9"
BACKGROUND_COLOR = "#f6f7f9"


def _icon(request: Request, name: str, size: str, purpose: str, kind: str = "image/png") -> dict[str, str]:
    src = str(request.url_for("static", path=f"icons/{name}").path)
    return {"src": src, "sizes": size, "type": kind, "purpose": purpose}


async def manifest(request: Request) -> Response:
    home = request.url_for("home").path
    body = {
        "id": home,
        "name": "Nova",
        "short_name": "Nova",
        "description": "Your self-hosted AI agent workspace.",
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            _icon(request, "nova-192.png", "192x192", "any"),
            _icon(request, "nova-512.png", "512x512", "any"),
            _icon(request, "nova-maskable-192.png", "192x192", "maskable"),
            _icon(request, "nova-maskable-512.png", "512x512", "maskable"),
            _icon(request, "nova.svg", "any", "any", "image/svg+xml"),
        ],
    }
    headers = {"Cache-Control": "public, max-age=3600"}
    return JSONResponse(body, media_type="application/manifest+json", headers=headers)


routes = [Route("/manifest.webmanifest", manifest, methods=["GET"], name="manifest")]
