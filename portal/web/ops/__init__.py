"""Operations: readiness, metrics, structured logs and error reporting, wired by init_ops.

- ``/readyz`` (readiness.py): database, schema at the migration head, Redis, rate limits,
  the version, and the overdue periodic jobs;
- ``/metrics`` (metrics.py): Prometheus' text format, correct under several workers;
- one JSON log line per request and per job run, with a request id (logs.py);
- error reports to Sentry without personal data, when SENTRY_DSN is set (error_reports.py).
"""

from __future__ import annotations

from flask import Flask, request_started

from portal.services.metrics.service_requests import report_stored
from portal.web.ops import metrics, readiness  # noqa: F401  (register their routes)
from portal.web.ops.blueprint import bp
from portal.web.ops.error_reports import init_error_reporting
from portal.web.ops.logs import (
    RequestObserver,
    configure_logging,
    log_request,
    remember_endpoint,
)

__all__ = ["bp", "init_ops"]


def init_ops(app: Flask) -> None:
    """Register /readyz and /metrics, the request id, the JSON logs and error reporting.

    Call it after the static files are wrapped, so that they are logged and counted too.
    """
    # An address list that does not parse stops the start (a typo must not open the metrics).
    metrics.allowed_networks(app.config.get("PORTAL_METRICS_ALLOW", ""))
    app.register_blueprint(bp)
    report_stored.connect(metrics.count_report)
    request_started.connect(remember_endpoint, app)
    app.wsgi_app = RequestObserver(  # type: ignore[method-assign]
        app.wsgi_app, [log_request, metrics.observe_request]
    )
    if not app.testing:
        configure_logging()
    init_error_reporting(app)
