"""Runs: a message becomes a run, executed by a worker, streamed as events."""
