"""Log lines: what each belongs to (request, run, user) and their shape, text or JSON.

Every record carries `request_id`, `run_id` and `user_id` ("-" where none applies), whatever
logger wrote it. `NOVA_LOG_FORMAT=json` writes one JSON object per line for a log collector.
Message text and secrets never reach a log call in the first place; the one place a secret
could slip in by itself, a URL in uvicorn's access line, is cut down by `AccessLineFilter`.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from app import request_ids

run_id: ContextVar[str | None] = ContextVar("run_id", default=None)
user_id: ContextVar[str | None] = ContextVar("user_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
FIELDS = ("request_id", "run_id", "user_id")

_factory = logging.getLogRecordFactory()


def _record_with_fields(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _factory(*args, **kwargs)
    record.request_id = request_ids.current.get() or "-"
    record.run_id = run_id.get() or "-"
    record.user_id = user_id.get() or "-"
    return record


def install_fields() -> None:
    """Every log record, of any logger, carries the request, run and user it belongs to."""
    if logging.getLogRecordFactory() is not _record_with_fields:
        logging.setLogRecordFactory(_record_with_fields)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, "-")
            if value != "-":
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


# Paths whose last segment is a secret (a password reset link), and any query string (an
# OpenID Connect callback carries the authorization code and state in it).
_SECRET_PATH = re.compile(r"^(/password-reset/)[^/?\s]+")


def safe_path(path: str) -> str:
    bare, _, query = path.partition("?")
    return _SECRET_PATH.sub(r"\1…", bare) + ("?…" if query else "")


class AccessLineFilter(logging.Filter):
    """uvicorn's access line without query strings or secret path segments."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's arguments: (client address, method, path with query, HTTP version, status).
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record.args = (client, method, safe_path(str(path)), version, status)
        return True


def configure(level: str, log_format: str) -> None:
    """The root logger writes to stderr in the chosen format; uvicorn's loggers go through it."""
    install_fields()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").addFilter(AccessLineFilter())


# uvicorn configures its loggers with handlers and formats of its own unless told otherwise:
# here they keep none and pass their records to the root logger configured above.
UVICORN_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
}
