"""Reading JSON request bodies, with a 422 that names the problem.

The body's size is capped by BodySizeLimitMiddleware. Its depth is capped here: json.loads
recurses, and its C decoder stops cleanly with RecursionError near the interpreter's limit;
anything shallower is parsed, then walked without recursion to refuse more than MAX_DEPTH
levels. Every string in it, keys included, must be text a field may hold.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from app.errors import ValidationFailed
from app.web.params import FIELD_LIMIT, field_problem, text_problem

MAX_DEPTH = 32
DEPTH_MESSAGE = f"The JSON is nested more than {MAX_DEPTH} levels deep."


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; anything else is a 422 naming the problem."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValidationFailed({"body": DEPTH_MESSAGE}) from None
    except ValueError:
        raise ValidationFailed({"body": "The body is not valid JSON."}) from None
    if not isinstance(body, dict):
        raise ValidationFailed({"body": "The body must be a JSON object."})
    _check_text(body)
    return body


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_text(body: dict[str, Any]) -> None:
    """Walk the document without recursion: depth, and every string's content and length."""
    stack: list[tuple[str, Any, int]] = [("", body, 1)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValidationFailed({"body": DEPTH_MESSAGE})
        if isinstance(value, dict):
            for key, item in value.items():
                if problem := text_problem(key, FIELD_LIMIT):
                    raise ValidationFailed({_join(path, "(key)"): problem})
                stack.append((_join(path, key), item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item, depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str):
            if problem := field_problem(path, value):
                raise ValidationFailed({path: problem})


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
