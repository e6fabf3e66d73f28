"""Which URLs belong to the machine-facing API (Bearer auth, JSON errors, no CSRF)."""

API_PREFIXES = ("/api/", "/v1/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)
