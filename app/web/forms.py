"""Reading submitted forms as plain strings."""

from __future__ import annotations

from starlette.requests import Request


async def read_form(request: Request) -> dict[str, str]:
    """Text fields of a submitted form (files are read by the views that accept them)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def safe_next(url: str | None, default: str) -> str:
    """A local path to go to after login; anything else would be an open redirect."""
    if url and url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return default
