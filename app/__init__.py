"""Nova: a self-hosted, multi-user AI agent workspace."""

__version__ = "0.1.0"
