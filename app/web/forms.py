"""Reading submitted forms as plain strings."""

from __future__ import annotations

from starlette.requests import Request


async def read_form(request: Request) -> dict[str, str]:
    """Text fields of a submitted form (files are read by the views that accept them)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def read_form_lists(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Text fields, plus every value of repeated fields (checkbox groups)."""
    form = await request.form()
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            lists.setdefault(key, []).append(value)
    return {key: values[-1] for key, values in lists.items()}, lists


def safe_next(url: str | None, default: str) -> str:
    """A local path to go to after login; anything else would be an open redirect."""
    if url and url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return default
