"""The text Prometheus scrapes: this process's metrics (or every process's, when shared), and
what only the database knows at scrape time (runs waiting in the queue)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.metrics import catalog, process

__all__ = ["CONTENT_TYPE_LATEST", "scrape"]


class _Snapshot(Collector):
    def __init__(self, runs_by_status: dict[str, int]) -> None:
        self.runs_by_status = runs_by_status

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "nova_runs_in_progress", "Runs not ended yet, by status (queued: the queue's depth).", labels=["status"]
        )
        for status, count in sorted(self.runs_by_status.items()):
            family.add_metric([status], count)
        yield family


def scrape(runs_by_status: dict[str, int]) -> bytes:
    assert catalog.http_requests  # the catalog is imported, so every metric exists before the scrape
    registry = CollectorRegistry()
    if process.is_shared():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    snapshot = CollectorRegistry()
    snapshot.register(_Snapshot(runs_by_status))
    return body + generate_latest(snapshot)
