"""Every metric Nova publishes, in one place (label values are bounded: route names, statuses,
agent ids, model names, tool names, failure kinds — never user input or text)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
RUN_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

http_requests = Counter(
    "nova_http_requests", "HTTP requests answered, by route name, method and status.", ["route", "method", "status"]
)
http_latency = Histogram(
    "nova_http_request_duration_seconds",
    "Time to the end of the answer (an event stream: its whole life), by route name.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
runs_finished = Counter("nova_runs_finished", "Runs that ended, by status and agent id.", ["status", "agent"])
run_duration = Histogram(
    "nova_run_duration_seconds", "From a run's start to its end, by status.", ["status"], buckets=RUN_BUCKETS
)
first_token = Histogram(
    "nova_run_first_token_seconds", "From a run's start to its first token.", buckets=(*LATENCY_BUCKETS, 30, 60)
)
job_wait = Histogram(
    "nova_run_wait_seconds",
    "From a message being posted to its run starting (queue and turn waiting).",
    buckets=(*LATENCY_BUCKETS, 30, 60, 300),
)
tokens = Counter(
    "nova_model_tokens", "Tokens of model calls, by direction (in, out), provider and model.",
    ["direction", "provider", "model"],
)  # fmt: skip
tool_calls = Counter("nova_tool_calls", "Tool calls of ended runs, by tool and outcome.", ["tool", "outcome"])
provider_errors = Counter(
    "nova_provider_errors", "Failed provider calls (retried ones too), by kind of failure.", ["kind"]
)
# 1 while a provider's circuit breaker is open (or probing); written by the process that saw the
# change, and the most recent write wins across processes (the state itself is in Redis).
provider_circuit_open = Gauge(
    "nova_provider_circuit_open", "Whether calls to a provider are paused after failures, by provider id.",
    ["provider"], multiprocess_mode="mostrecent",
)  # fmt: skip
sse_open = Gauge("nova_sse_connections", "Event streams open now (runs' and /v1's).", multiprocess_mode="livesum")
