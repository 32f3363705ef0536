"""Availability of the services' online channels: probe them, store and measure the checks."""

from __future__ import annotations

import http.client
import logging
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, exists, func, select

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.incidents import AvailabilityCheck, Maintenance, maintenance_service

log = logging.getLogger(__name__)

# docs/definitions.md: "a check succeeds on an HTTP 2xx or 3xx within 10 s".
DEFAULT_TIMEOUT = 10.0
# Probes wait on the network, not the CPU; this bounds sockets and threads held at once.
MAX_WORKERS = 16
USER_AGENT = "PantauLayanan-availability/1.0"
MAX_ERROR = 200


@dataclass(frozen=True)
class ProbeResult:
    """What one probe of one address found."""

    ok: bool
    status_code: int | None
    elapsed_ms: int | None
    error: str = ""


@dataclass
class CheckRunSummary:
    """What a run of the checks stored: one entry per service probed."""

    checked_at: datetime
    results: list[tuple[str, str, ProbeResult]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Return the number of services probed."""
        return len(self.results)

    @property
    def succeeded(self) -> int:
        """Return the number of successful checks."""
        return sum(1 for _, _, result in self.results if result.ok)

    @property
    def failed(self) -> int:
        """Return the number of failed checks."""
        return self.total - self.succeeded


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stop at the first answer: a redirect is itself a successful answer."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _short(text: str) -> str:
    """Trim an error message to what fits in the check's error column."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def _describe(error: BaseException) -> str:
    """Say in a few words why a probe failed."""
    reason = getattr(error, "reason", None)
    if isinstance(error, urllib.error.URLError) and isinstance(reason, BaseException):
        error = reason
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "name not resolved"
    if isinstance(error, http.client.HTTPException):
        return _short(f"bad HTTP answer: {type(error).__name__}")
    return _short(str(error) or type(error).__name__)


def probe(url: str, timeout: float = DEFAULT_TIMEOUT) -> ProbeResult:
    """GET an address once without following redirects; 2xx or 3xx within timeout succeed."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT}, method="GET")
    started = time.monotonic()
    status: int | None = None
    try:
        # Only the status line and headers are read: the body does not matter.
        # Built per probe so that proxy settings come from the environment of the moment.
        opener = urllib.request.build_opener(_NoRedirect)
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        # 3xx (not followed) and 4xx/5xx answers arrive here with their code.
        status = error.code
        error.close()
    except (OSError, http.client.HTTPException, ValueError) as error:
        elapsed = round((time.monotonic() - started) * 1000)
        return ProbeResult(False, None, elapsed, _describe(error))
    elapsed = round((time.monotonic() - started) * 1000)
    if elapsed > timeout * 1000:
        return ProbeResult(False, status, elapsed, "timeout")
    if status is not None and 200 <= status < 400:
        return ProbeResult(True, status, elapsed, "")
    return ProbeResult(False, status, elapsed, f"HTTP {status}")


def _probe_safely(url: str, timeout: float) -> ProbeResult:
    """Probe, turning an unexpected error into a failed check so one bad address spoils no run."""
    try:
        return probe(url, timeout)
    except Exception as error:  # logged; the other services are still stored
        log.exception("availability probe of %s failed unexpectedly", url)
        return ProbeResult(False, None, None, _short(f"error: {type(error).__name__}"))


def checks_run(timeout: float = DEFAULT_TIMEOUT, now: datetime | None = None) -> CheckRunSummary:
    """Probe every service with an online address concurrently and store one check each."""
    checked_at = now or utc_now()
    targets = [
        (service_id, code, url.strip())
        for service_id, code, url in db.session.execute(
            select(Service.id, Service.code, Service.online_url)
            .where(Service.online_url != "")
            .order_by(Service.code)
        )
        if url and url.strip()
    ]
    summary = CheckRunSummary(checked_at=checked_at)
    if not targets:
        return summary
    # Threads only touch the network; the database session stays in this thread.
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(targets))) as pool:
        results = list(pool.map(lambda target: _probe_safely(target[2], timeout), targets))
    for (service_id, code, url), result in zip(targets, results, strict=True):
        db.session.add(
            AvailabilityCheck(
                service_id=service_id,
                checked_at=checked_at,
                ok=result.ok,
                status_code=result.status_code,
                elapsed_ms=result.elapsed_ms,
                error=result.error,
            )
        )
        summary.results.append((code, url, result))
    db.session.commit()
    log.info("availability checks: %d probed, %d failed", summary.total, summary.failed)
    return summary


def availability_counts(
    service_ids: list[int], start_utc: datetime, end_utc: datetime
) -> tuple[int, int]:
    """Return (all, successful) checks of these services in [start, end), outside maintenance.

    A check made at a maintenance window's start is excluded, one made at its end counts
    (windows are [starts_at, ends_at) like metric windows).
    """
    if not service_ids:
        return 0, 0
    values = {"ids": list(service_ids), "start": start_utc, "end": end_utc}
    total, succeeded = db.session.execute(availability_counts_statement(), values).one()
    return int(total), int(succeeded)


@lru_cache(maxsize=1)
def availability_counts_statement() -> Select:
    """Build availability_counts' statement once (its values bound when it runs)."""
    return availability_counts_query(bindparam("ids", expanding=True))


def availability_counts_query(service_ids: Any) -> Select:
    """Select (all, successful) checks of some services in [start, end), outside maintenance,
    as :func:`availability_counts` counts them: one row.

    ``service_ids``: what ``IN`` takes, a list parameter or a statement selecting the ids (a
    department's page counts its online channels' checks inside its own statement); the
    window bound as ``start`` and ``end`` when the statement runs.
    """
    check = AvailabilityCheck
    during_maintenance = exists(
        select(maintenance_service.c.maintenance_id)
        .join(Maintenance, Maintenance.id == maintenance_service.c.maintenance_id)
        .where(
            maintenance_service.c.service_id == check.service_id,
            Maintenance.starts_at <= check.checked_at,
            Maintenance.ends_at > check.checked_at,
        )
    )
    return select(
        func.count(),
        func.coalesce(func.sum(case((check.ok.is_(True), 1), else_=0)), 0),
    ).where(
        and_(
            check.service_id.in_(service_ids),
            check.checked_at >= bindparam("start", type_=check.checked_at.type),
            check.checked_at < bindparam("end", type_=check.checked_at.type),
            ~during_maintenance,
        )
    )


def availability_for_service(
    service: Service | int, start_utc: datetime, end_utc: datetime
) -> float | None:
    """Return successful / all checks of a service in [start, end), outside its maintenance.

    None when no check counts.
    """
    service_id = service if isinstance(service, int) else service.id
    total, succeeded = availability_counts([service_id], start_utc, end_utc)
    if not total:
        return None
    return succeeded / total


__all__ = [
    "availability_counts",
    "availability_counts_query",
    "availability_for_service",
    "checks_run",
    "probe",
]
