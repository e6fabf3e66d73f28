"""Reading submitted forms as plain strings, refusing what no field may hold."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

from app.errors import ValidationFailed
from app.web.params import field_problem, text_problem


class FormRejected(ValidationFailed):
    """A field holds what no field may; `form` is the submission without those values."""

    def __init__(self, errors: dict[str, str], form: dict[str, str]) -> None:
        super().__init__(errors)
        self.form = form


async def read_form(request: Request) -> dict[str, str]:
    """Text fields of a submitted form (files are read by the views that accept them)."""
    form, _lists = await read_form_lists(request)
    return form


async def read_form_lists(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Text fields, plus every value of repeated fields (checkbox groups)."""
    lists = _text_fields(await request.form())
    errors = {}
    for key, values in lists.items():
        for value in values:
            if problem := field_problem(key, value):
                errors[_printable(key)] = problem
    form = {key: values[-1] for key, values in lists.items()}
    if errors:
        raise FormRejected(errors, {key: value for key, value in form.items() if _printable(key) not in errors})
    return form, lists


def _printable(name: str) -> str:
    """The field's name as it can be shown back (a multipart form in UTF-7 can name a field
    with a lone surrogate, which no page or JSON could encode)."""
    if len(name) <= 100 and text_problem(name, 100) is None:
        return name
    return name[:100].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _text_fields(form: FormData) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            lists.setdefault(key, []).append(value)
    return lists


def safe_next(url: str | None, default: str) -> str:
    """A local path to go to after login; anything else would be an open redirect."""
    if url and url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return default
