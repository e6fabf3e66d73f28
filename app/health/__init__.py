"""Liveness and readiness for load balancers and compose healthchecks."""
