"""The JSON API's contract, declared once per view and published as OpenAPI 3.1.

A view states its contract with `@operation(...)`: its scope, and the pydantic models of its
query, body and answers. It reads its input with `parse_query`/`parse_body` and answers with
`respond`, through those same models, so the document cannot drift from the code.
`build_document` walks the app's routes; a route under the API prefixes without a contract
is a bug that tests/api/test_openapi.py catches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.errors import ValidationFailed
from app.web.json import json_body
from app.web.params import MAX_NUMBER_DIGITS, MAX_QUERY_TEXT, text_problem

Scope = Literal["read", "write", "admin"]
ModelT = TypeVar("ModelT", bound=BaseModel)
View = Callable[[Request], Any]

REF_TEMPLATE = "#/components/schemas/{model}"
STREAM = "text/event-stream"


def _ascii_digits(value: Any) -> Any:
    """Query numbers as Nova writes them: ASCII digits only (no sign, no "²", no "1_000")."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) <= MAX_NUMBER_DIGITS):
        raise ValueError("Send a whole number written in digits")
    return value


# An int in a query string; pydantic alone would also take "+1", " 1" and "1_000".
QueryInt = Annotated[int, BeforeValidator(_ascii_digits)]


class RequestModel(BaseModel):
    """A request body or query: unknown members are refused, so a typo is a 422, not ignored."""

    model_config = ConfigDict(extra="forbid")


class QueryModel(BaseModel):
    """Query parameters: unknown ones are ignored (caches and proxies add their own)."""

    model_config = ConfigDict(extra="ignore")


class Problem(BaseModel):
    """RFC 9457 problem details, as every /api/v1 error answers."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: dict[str, str] | None = None


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """How /v1 (the OpenAI-compatible routes) answers errors, as OpenAI's clients expect."""

    error: OpenAIErrorDetail


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    scope: Scope
    responses: Mapping[int, type[BaseModel] | None]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    # Problem statuses beyond the ones every operation can answer.
    problems: tuple[int, ...] = ()
    # A status whose answer is a stream of server-sent events instead of JSON.
    stream_status: int | None = None
    # A status whose answer is a file's bytes, of whatever type the file is.
    binary_status: int | None = None
    idempotency_key: bool = False
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def operation(**contract: Any) -> Callable[[View], View]:
    """Attach the contract to a view (login_required's functools.wraps carries it along)."""

    def mark(view: View) -> View:
        view.openapi = Operation(**contract)  # type: ignore[attr-defined]
        return view

    return mark


def contract_of(route: BaseRoute) -> Operation | None:
    return getattr(route.endpoint, "openapi", None) if isinstance(route, Route) else None


async def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    """The JSON body as `model`; anything else is a 422 naming each field."""
    return validate(model, await json_body(request))


def parse_query(request: Request, model: type[ModelT]) -> ModelT:
    """Query parameters as `model`: text converted to the declared types ("20" → 20)."""
    values: dict[str, str] = {}
    for name, value in request.query_params.items():
        if problem := text_problem(value, MAX_QUERY_TEXT):
            raise ValidationFailed({name: problem})
        values[name] = value
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from None


def validate(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """A parsed JSON body as `model`, strictly: JSON's own types only, so `0` is not `false`
    and `"1"` is not a number (ids and times still come as strings, as JSON has no others)."""
    try:
        return model.model_validate_json(orjson.dumps(data), strict=True)
    except orjson.JSONEncodeError:  # json.loads reads integers of any size; no field takes them
        raise ValidationFailed({"body": "A number is too large."}) from None
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from None


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        errors.setdefault(name, _sentence(error["msg"]))
    return errors


def _sentence(message: str) -> str:
    message = message[0].upper() + message[1:] if message else "Invalid value"
    return message if message.endswith(".") else message + "."


def respond(model: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(model.model_dump(mode="json"), status_code=status_code, headers=headers)


# ----------------------------------------------------------------------------- the document

COMMON_PROBLEMS = {401: "No valid API token.", 403: "The token's scope or the user's role does not allow this.",
                   429: "Too many requests: wait for Retry-After seconds."}  # fmt: skip
PROBLEM_TEXT = {400: "Bad request.", 404: "No such resource (or it belongs to someone else).",
                409: "The resource is busy or in another state.", 413: "The body is too large.",
                422: "The input was refused; `errors` names each field.", 423: "The thread is busy.",
                424: "The run failed.", 503: "A dependency (the job queue) is unavailable.",
                504: "The run ended without a result."}  # fmt: skip
_PATH_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")


def build_document(routes: Iterable[BaseRoute], *, title: str, version: str, description: str) -> dict[str, Any]:
    contracts = [(route, contract) for route in routes if (contract := contract_of(route))]
    schemas, refs = _component_schemas(contract for _, contract in contracts)
    paths: dict[str, dict[str, Any]] = {}
    for route, contract in contracts:
        assert isinstance(route, Route)
        path = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation_object(route, contract, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A Nova API token."}},
        },
        "security": [{"bearer": []}],
    }


def _component_schemas(contracts: Iterable[Operation]) -> tuple[dict[str, Any], dict[tuple[type, str], Any]]:
    wanted: set[tuple[type[BaseModel], Literal["validation", "serialization"]]] = {
        (Problem, "serialization"),
        (OpenAIError, "serialization"),
    }
    for contract in contracts:
        wanted.update((m, "validation") for m in (contract.query, contract.body) if m)
        wanted.update((m, "serialization") for m in contract.responses.values() if m)
    ordered = sorted(wanted, key=lambda item: (item[0].__name__, item[1]))
    refs, top = models_json_schema(ordered, ref_template=REF_TEMPLATE)
    return top.get("$defs", {}), {(model, mode): ref for (model, mode), ref in refs.items()}


def _operation_object(route: Route, contract: Operation, refs: Mapping[tuple[type, str], Any]) -> dict[str, Any]:
    scope_text = f"Scope: `{contract.scope}`."
    found: dict[str, Any] = {
        "operationId": route.name.replace(":", "_"),
        "summary": contract.summary,
        "description": f"{contract.description}\n\n{scope_text}".strip(),
        "tags": [contract.tag],
        "parameters": _parameters(route.path, contract),
        "responses": _responses(route.path, contract, refs),
        "x-scope": contract.scope,
    }
    if contract.body:
        found["requestBody"] = {
            # A body whose every member is optional may be left out (as `{}`).
            "required": any(f.is_required() for f in contract.body.model_fields.values()),
            "content": {"application/json": {"schema": refs[(contract.body, "validation")]}},
        }
    return found | contract.extra


def _parameters(path: str, contract: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name, converter in _PATH_PARAM.findall(path):
        kind = {"type": "string", "format": "uuid"} if converter == "uuid" else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": kind})
    if contract.query:
        schema: dict[str, Any] = contract.query.model_json_schema(ref_template=REF_TEMPLATE)
        required = set(schema.get("required", []))
        properties: dict[str, dict[str, Any]] = schema.get("properties", {})
        for name, prop in properties.items():
            prop = _plain_parameter(prop)
            description = prop.pop("description", None)
            parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
            parameters.append(parameter | ({"description": description} if description else {}))
    if contract.idempotency_key:
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "description": "Retrying with the same key and body returns the first result.",
                           "schema": {"type": "string", "maxLength": 255}})  # fmt: skip
    return parameters


def _plain_parameter(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without pydantic's `null` branch and title: a query
    string can only leave a parameter out, never send null."""
    plain = {key: value for key, value in schema.items() if key not in ("title", "anyOf")}
    branches = [branch for branch in schema.get("anyOf", []) if branch.get("type") != "null"]
    if len(branches) == 1:
        plain |= branches[0]
    elif branches:
        plain["anyOf"] = branches
    if plain.get("default") is None:
        plain.pop("default", None)
    return plain


def _responses(path: str, contract: Operation, refs: Mapping[tuple[type, str], Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status, model in contract.responses.items():
        entry: dict[str, Any] = {"description": "OK" if status < 300 else "See the body."}
        content: dict[str, Any] = {}
        if model is not None:
            content["application/json"] = {"schema": refs[(model, "serialization")]}
        if status == contract.stream_status:
            content[STREAM] = {"schema": {"type": "string"}}
        if status == contract.binary_status:
            content["*/*"] = {"schema": {"type": "string", "format": "binary"}}
        if content:
            entry["content"] = content
        answers[str(status)] = entry
    if path.startswith("/v1/"):
        problem_ref = {"application/json": {"schema": refs[(OpenAIError, "serialization")]}}
    else:
        problem_ref = {"application/problem+json": {"schema": refs[(Problem, "serialization")]}}
    statuses = dict(COMMON_PROBLEMS)
    if "{" in path:
        statuses[404] = PROBLEM_TEXT[404]
    if contract.body or contract.query:
        statuses[422] = PROBLEM_TEXT[422]
    if contract.body:
        statuses[413] = PROBLEM_TEXT[413]
    statuses.update({status: PROBLEM_TEXT[status] for status in contract.problems})
    for status, text in sorted(statuses.items()):
        answers.setdefault(str(status), {"description": text, "content": problem_ref})
    return answers
