"""Prometheus metrics (plumbing): what Nova counts, and how one process or several publish it.

Embedded (one process) keeps them in memory. Scaled (`REDIS_URL`: web processes and arq
workers) uses prometheus-client's multiprocess mode: each process writes its values to files
in `NOVA_METRICS_DIR` (default `NOVA_DATA_DIR/metrics`, shared by every process on the host,
as compose's data volume is) and `/metrics` adds them up. Nothing here runs per token.
"""
