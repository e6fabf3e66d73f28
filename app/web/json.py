"""Reading JSON request bodies, with a 422 that names the problem."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from app.errors import ValidationFailed


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; anything else is a 422 naming the problem."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ValidationFailed({"body": "The body is not valid JSON."}) from None
    if not isinstance(body, dict):
        raise ValidationFailed({"body": "The body must be a JSON object."})
    return body
