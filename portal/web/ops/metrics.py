"""/metrics in Prometheus' text format: requests, ingest, the mail queue, feedback, jobs.

Two kinds of figures:

- counted by the workers as they serve: requests by endpoint, method and status (a counter
  and a latency histogram), and the service-request reports stored (batches by department,
  requests by what they did). Under gunicorn each worker counts in its own file in
  ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, set up by
  gunicorn.conf.py), and a scrape adds up every worker's, whichever worker answers it;
- read from the database at each scrape, so the same on every worker and server: mail
  waiting in the outbox and the age of the oldest, feedback past a deadline, services by
  shown status, and each periodic job's last success and whether it is overdue.

The figures hold no personal data; PORTAL_METRICS_ALLOW can still keep them to the
monitoring system's addresses.

This module imports prometheus-client, which chooses per-process or multiprocess storage
when first imported: only ``init_ops`` imports it, once the app is built in a worker.
"""

from __future__ import annotations

import functools
import glob
import ipaddress
import os
from collections.abc import Iterator
from typing import Any

from flask import Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from portal.extensions import db
from portal.models.catalogue import Department
from portal.services.jobs import job_states, operations_figures
from portal.services.metrics.service_requests import ReportSummary
from portal.web.ops.blueprint import bp
from portal.web.ops.logs import KNOWN_METHODS, FinishedRequest
from portal.web.ops.version import application_version

# No "_created" series beside each counter: nothing here reads them, and they double the output.
disable_created_metrics()
LABELS = ("endpoint", "method", "status")
REQUESTS = Counter(
    "portal_http_requests", "HTTP requests answered, by Flask endpoint, method and status.",
    LABELS,
)
REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "Time from a request's arrival to its last byte handed to the server, in seconds.",
    LABELS,
)
INGEST_BATCHES = Counter(
    "portal_ingest_batches", "Service-request reports stored, by reporting department.",
    ("department",),
)
INGEST_REQUESTS = Counter(
    "portal_ingest_requests",
    "Service requests in stored reports, by result (created, updated, unchanged).",
    ("result",),
)


def observe_request(finished: FinishedRequest) -> None:
    """Count a finished request and its duration."""
    method = finished.method if finished.method in KNOWN_METHODS else "other"
    labels = (finished.endpoint, method, str(finished.status))
    REQUESTS.labels(*labels).inc()
    REQUEST_SECONDS.labels(*labels).observe(finished.duration)


def count_report(department: Department, summary: ReportSummary) -> None:
    """Count one stored report and its requests (connected to ``report_stored``)."""
    INGEST_BATCHES.labels(department.code).inc()
    for result in ("created", "updated", "unchanged"):
        INGEST_REQUESTS.labels(result).inc(getattr(summary, result))


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _DatabaseFigures:
    """The figures read from the database at each scrape (prometheus-client collector)."""

    def collect(self) -> Iterator[Metric]:
        """Yield the operational figures, and whether the database could be read."""
        info = GaugeMetricFamily("portal_build_info", "The running version (always 1).",
                                 labels=["version"])
        info.add_metric([application_version()], 1)
        yield info
        try:
            figures = operations_figures()
            states = job_states()
        except Exception:  # the database is down: say so, and the rest is unknown
            db.session.rollback()
            yield _gauge("portal_database_up", "1 when the database answered this scrape.", 0)
            return
        yield _gauge("portal_database_up", "1 when the database answered this scrape.", 1)
        yield _gauge("portal_outbox_queued_messages", "Mail waiting in the outbox.",
                     figures.outbox_queued)
        yield _gauge("portal_outbox_oldest_queued_age_seconds",
                     "Age of the oldest mail still waiting in the outbox (0 when none).",
                     figures.outbox_oldest_age_seconds)
        yield _gauge("portal_feedback_overdue",
                     "Open feedback that missed a deadline it still waits on.",
                     figures.feedback_overdue)
        services = GaugeMetricFamily("portal_services", "Services by shown status.",
                                     labels=["status"])
        for status, count in sorted(figures.services_by_status.items()):
            services.add_metric([status], count)
        yield services
        last = GaugeMetricFamily(
            "portal_job_last_success_timestamp_seconds",
            "When each periodic job last finished successfully (Unix time; absent if never).",
            labels=["job"])
        overdue = GaugeMetricFamily(
            "portal_job_overdue",
            "1 when the periodic job has not succeeded within twice its cadence.",
            labels=["job"])
        for state in states:
            if state.last_success_at is not None:
                last.add_metric([state.job.name], state.last_success_at.timestamp())
            overdue.add_metric([state.job.name], int(state.overdue))
        yield last
        yield overdue


class _ThisProcess:
    """The metrics this process counted itself (when not in multiprocess mode)."""

    def collect(self) -> Iterator[Metric]:
        """Yield the default registry's metrics."""
        yield from REGISTRY.collect()


class _Workers(MultiProcessCollector):
    """Every worker's files, the dead ones' counters too, less the files not yet sized.

    prometheus-client creates a worker's file before it sizes it, so a scrape while a
    worker starts can find it empty, and its reader then fails the whole scrape
    (prometheus/client_python#1199, open in 0.26). An empty file has counted nothing yet.
    """

    def collect(self) -> Iterator[Metric]:
        """Yield the metrics merged from every file that holds any."""
        files = [path for path in glob.glob(os.path.join(self._path, "*.db"))
                 if _sized(path)]
        return self.merge(files, accumulate=True)


def _sized(path: str) -> bool:
    """Tell whether a worker's file has been sized (a vanished one is left to the merge)."""
    try:
        return os.path.getsize(path) > 0
    except FileNotFoundError:
        return True


@functools.cache
def allowed_networks(allowed: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Parse PORTAL_METRICS_ALLOW ("127.0.0.1, 10.0.0.0/8"); raise ValueError when invalid."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in allowed.split(",") if part.strip())


def metrics_allowed(address: str | None, allowed: str) -> bool:
    """Tell whether a client address may read the metrics (everyone when allowed is empty)."""
    networks = allowed_networks(allowed)
    if not networks:
        return True
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(client in network for network in networks)


def _registry() -> CollectorRegistry:
    """Return a registry of everything one scrape reports."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _Workers(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_DatabaseFigures())
    return registry


@bp.get("/metrics")
def metrics() -> Any:
    """Answer the metrics in Prometheus' text format (403 outside PORTAL_METRICS_ALLOW)."""
    if not metrics_allowed(request.remote_addr, current_app.config["PORTAL_METRICS_ALLOW"]):
        abort(403)
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
