"""Log records: their request/run/user fields, the JSON shape, and access lines without secrets."""

from __future__ import annotations

import json
import logging

from app import logs, request_ids


def _record(message: str, *args: object, name: str = "app.test") -> logging.LogRecord:
    logs.install_fields()
    return logging.getLogger(name).makeRecord(name, logging.WARNING, __file__, 1, message, args, None)


def test_a_record_names_its_request_run_and_user_and_json_keeps_them() -> None:
    tokens = [request_ids.current.set("req-1"), logs.run_id.set("run-2"), logs.user_id.set("user-3")]
    try:
        record = _record("run %s failed", "run-2")
    finally:
        logs.user_id.reset(tokens[2])
        logs.run_id.reset(tokens[1])
        request_ids.current.reset(tokens[0])
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "run run-2 failed" and line["level"] == "WARNING" and line["logger"] == "app.test"
    assert (line["request_id"], line["run_id"], line["user_id"]) == ("req-1", "run-2", "user-3")
    outside = json.loads(logs.JsonFormatter().format(_record("idle")))
    assert not {"request_id", "run_id", "user_id"} & set(outside)  # nothing to name outside a request
    assert logging.Formatter(logs.TEXT_FORMAT).format(_record("idle")).endswith("WARNING [-] app.test: idle")


def test_access_lines_lose_query_strings_and_reset_tokens() -> None:
    assert logs.safe_path("/threads/1?q=private") == "/threads/1?…"
    assert logs.safe_path("/login/oidc/callback?code=c&state=s") == "/login/oidc/callback?…"
    assert logs.safe_path("/password-reset/s3cret") == "/password-reset/…"
    assert logs.safe_path("/healthz") == "/healthz"
    record = _record('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/password-reset/s3cret?x=1", "1.1", 200)
    assert logs.AccessLineFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /password-reset/…?… HTTP/1.1" 200'
