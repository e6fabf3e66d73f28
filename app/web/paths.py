"""Which URLs belong to the machine-facing API (Bearer auth, JSON errors, no CSRF)."""

API_PREFIXES = ("/api/", "/v1/")
# Nova's MCP server (app/mcp_endpoint): machine-facing too, one URL.
MCP_PATH = "/mcp"


# Prometheus's scrape: an admin-scoped API token, like the admin API.
METRICS_PATH = "/metrics"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in (MCP_PATH, METRICS_PATH) or path.startswith(MCP_PATH + "/")
