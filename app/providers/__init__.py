"""LLM providers: per-user and system-wide connections to model servers."""
