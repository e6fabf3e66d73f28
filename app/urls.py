"""Reading the server addresses people type, without letting a parser's exception escape.

`urlsplit("http://[::1")` raises ValueError, and `.port` raises on "http://h:99999", so a
settings form that used them directly answered 500 on a typo.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

import httpx

# The longest address a settings column holds (providers.base_url is VARCHAR(500)).
MAX_URL_LENGTH = 500


def parse_http_url(url: str) -> SplitResult | None:
    """`url` split into parts if it is a usable http(s) address naming a host, else None."""
    if not url or len(url) > MAX_URL_LENGTH:
        return None
    if any(char.isspace() or not char.isprintable() for char in url):
        return None
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return parts
