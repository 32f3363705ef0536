"""The periodic commands as jobs: one run at a time across servers, each run recorded.

Every periodic command (README, "Operations") runs through :func:`job_run`, which

- takes the job's lock, so that the same job never runs twice at once, whichever servers'
  timers start it: a PostgreSQL session-level advisory lock (``pg_try_advisory_lock``) held on
  a connection of its own for the whole run, and freed by the database if the process dies.
  A run that finds the lock taken does not wait: it is recorded as skipped, the other run
  does the work. SQLite serves one server only, so there the lock is a no-op;
- skips a run that would repeat work another server did moments ago, for the one job whose
  repetition changes figures: two availability checks of a service a minute apart would count
  twice in its availability, so ``checks run`` runs at most once in half its cadence. The
  other jobs are idempotent, and a later run simply finds nothing left to do;
- records the run (:class:`~portal.models.ops.JobRun`: start, end, outcome, server) and writes
  one JSON log line with its outcome and duration.

What two servers could still both attempt inside a job is guarded where it happens:
``outbox send`` takes no lock at all, since each message is claimed by a conditional UPDATE
(a lease) and several senders share the queue; ``feedback tick`` changes each feedback by a
conditional UPDATE only one runner wins; ``feedback digest`` inserts one row per department
and day under a unique key.

A job that has not succeeded within twice its cadence is overdue: the staff jobs page, the
readiness check and the metrics show it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, select, text, update

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.feedback import OutboxMessage
from portal.models.ops import MAX_HOST, MAX_RUN_DETAIL, JobRun
from portal.services.auth import CLI_OPERATOR, Permission, require_permission
from portal.services.feedback.handling import feedback_overdue_count
from portal.services.metrics.status import status_counts
from portal.services.paging import LIST_PAGE_MAX, Pagination, paginate

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """A periodic command: its name (the command's words) and how often its timer runs it."""

    name: str
    cadence: timedelta
    # Runs take the job's lock: one at a time across every server.
    exclusive: bool = True
    # A run is skipped when another succeeded less than half the cadence before it.
    spaced: bool = False


# The cadences of the README's "Operations" table (tests/ops/test_jobs.py compares them).
JOBS: tuple[Job, ...] = (
    Job("status refresh", timedelta(minutes=10)),
    Job("checks run", timedelta(minutes=5), spaced=True),
    Job("outbox send", timedelta(minutes=1), exclusive=False),
    Job("feedback tick", timedelta(minutes=15)),
    Job("feedback digest", timedelta(days=1)),
    Job("subscriptions digest", timedelta(days=7)),
)
JOBS_BY_NAME = {job.name: job for job in JOBS}
# A job is overdue when it has not succeeded for this many cadences.
OVERDUE_AFTER_CADENCES = 2
# Runs are kept this long (and the last success of each job for ever).
RUN_HISTORY = timedelta(days=7)
RECENT_RUNS_SHOWN = 30
# Why a run was skipped: the code stored in JobRun.detail, and its explanation (log, CLI).
SKIPPED_LOCKED = "locked"
SKIPPED_RECENT = "recent"
SKIP_REASONS = {
    SKIPPED_LOCKED: "another run of this job held its lock",
    SKIPPED_RECENT: "it succeeded less than half its cadence ago",
}


@dataclass
class JobResult(Generic[T]):
    """How one run of a job ended, and what its work returned (None unless it succeeded)."""

    job: str
    outcome: str
    detail: str = ""
    value: T | None = None

    @property
    def skipped(self) -> bool:
        """Tell whether the run did not do the job (another server held it or just did it)."""
        return self.outcome == "skipped"


@dataclass(frozen=True)
class JobState:
    """A job's last run, its last success, and whether it is overdue."""

    job: Job
    last_run: JobRun | None
    last_success_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class JobOverview:
    """What the staff jobs page shows: each job's state, then the latest runs of all."""

    states: list[JobState]
    recent_runs: Pagination


@dataclass(frozen=True)
class OperationsFigures:
    """What the periodic jobs have left to do, and the statuses they keep, for the metrics."""

    outbox_queued: int
    outbox_oldest_age_seconds: float
    feedback_overdue: int
    services_by_status: dict[str, int] = field(default_factory=dict)


def _lock_key(name: str) -> int:
    """Return the job's advisory-lock key: a signed 64-bit number derived from its name."""
    digest = hashlib.sha256(f"pantau-layanan job {name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def job_lock(name: str) -> Iterator[bool]:
    """Hold the job's lock for the block; yield False (at once) when another run holds it."""
    if db.engine.dialect.name != "postgresql":
        yield True  # SQLite: one server, and its own write lock serialises the writes
        return
    key = _lock_key(name)
    # A connection of its own: the session's connection goes back to the pool at each commit,
    # and a session-level lock belongs to the connection that took it.
    connection = db.engine.connect()
    acquired = False
    try:
        acquired = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                          {"key": key}))
        connection.commit()  # the lock outlives the transaction: none stays open meanwhile
        yield acquired
    finally:
        try:
            if acquired:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
        except Exception:
            # Never hand a connection that may still hold the lock back to the pool.
            connection.invalidate()
            raise
        finally:
            connection.close()


@contextmanager
def _no_lock() -> Iterator[bool]:
    """Stand in for job_lock for a job whose runs may overlap."""
    yield True


def _host() -> str:
    return socket.gethostname()[:MAX_HOST]


def _log_run(job: str, outcome: str, duration: float, detail: str, host: str) -> None:
    """Write the run's JSON log line (no personal data: names, counts and times only)."""
    fields: dict[str, Any] = {
        "event": "job", "job": job, "outcome": outcome,
        "duration_ms": round(duration * 1000), "host": host, "pid": os.getpid(),
    }
    if detail:
        fields["detail"] = detail
    level = logging.WARNING if outcome == "failed" else logging.INFO
    log.log(level, json.dumps(fields), extra={"fields": fields})


def _prune(job: str, now: datetime) -> None:
    """Delete the job's runs older than RUN_HISTORY, except its last success."""
    last_success = (
        select(func.max(JobRun.id))
        .where(JobRun.job == job, JobRun.outcome == "succeeded")
        .scalar_subquery()
    )
    db.session.execute(
        delete(JobRun).where(
            JobRun.job == job,
            JobRun.started_at < now - RUN_HISTORY,
            JobRun.id != func.coalesce(last_success, 0),
        )
    )


def _skip(job: Job, host: str, reason: str) -> JobResult:
    """Record a run that did not do the job, and why (a SKIP_REASONS code)."""
    now = utc_now()
    db.session.add(JobRun(job=job.name, started_at=now, finished_at=now, outcome="skipped",
                          detail=reason, host=host))
    _prune(job.name, now)
    db.session.commit()
    _log_run(job.name, "skipped", 0.0, reason, host)
    return JobResult(job.name, "skipped", reason)


def _finish(run_id: int, job: str, outcome: str, detail: str, started: float, host: str) -> None:
    """Record how a run ended, and log it."""
    now = utc_now()
    db.session.execute(
        update(JobRun).where(JobRun.id == run_id)
        .values(finished_at=now, outcome=outcome, detail=detail[:MAX_RUN_DETAIL])
        .execution_options(synchronize_session=False)
    )
    _prune(job, now)
    db.session.commit()
    _log_run(job, outcome, time.monotonic() - started, detail, host)


def _last_success_start(job: str) -> datetime | None:
    """Return when the job's latest successful run started, if it ever succeeded."""
    return db.session.scalar(
        select(func.max(JobRun.started_at)).where(JobRun.job == job,
                                                  JobRun.outcome == "succeeded")
    )


def job_run(name: str, work: Callable[[], T]) -> JobResult[T]:
    """Run a periodic job's work under its lock and record the run; re-raise its error."""
    job = JOBS_BY_NAME[name]
    host = _host()
    lock = job_lock(job.name) if job.exclusive else _no_lock()
    with lock as acquired:
        if not acquired:
            return _skip(job, host, SKIPPED_LOCKED)
        if job.spaced:
            last = _last_success_start(job.name)
            if last is not None and utc_now() - last < job.cadence / 2:
                return _skip(job, host, SKIPPED_RECENT)
        run = JobRun(job=job.name, started_at=utc_now(), outcome="running", host=host)
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        started = time.monotonic()
        try:
            value = work()
        except BaseException as error:
            db.session.rollback()
            if isinstance(error, SystemExit) and error.code in (0, None):
                _finish(run_id, job.name, "succeeded", "", started, host)
                raise
            try:
                # The error's class only: its message may quote an address or a text.
                _finish(run_id, job.name, "failed", type(error).__name__, started, host)
            except Exception:
                log.exception("the failed run of %s could not be recorded", job.name)
            raise
        _finish(run_id, job.name, "succeeded", "", started, host)
        return JobResult(job.name, "succeeded", value=value)


def job_states(now: datetime | None = None) -> list[JobState]:
    """Return each periodic job's last run, last success and whether it is overdue."""
    now = now or utc_now()
    latest_ids = select(func.max(JobRun.id)).group_by(JobRun.job)
    last_runs = {run.job: run for run in db.session.scalars(
        select(JobRun).where(JobRun.id.in_(latest_ids)))}
    last_success = dict(db.session.execute(
        select(JobRun.job, func.max(JobRun.finished_at))
        .where(JobRun.outcome == "succeeded").group_by(JobRun.job)
    ).all())
    states = []
    for job in JOBS:
        succeeded_at = last_success.get(job.name)
        overdue = (succeeded_at is None
                   or now - succeeded_at > job.cadence * OVERDUE_AFTER_CADENCES)
        states.append(JobState(job, last_runs.get(job.name), succeeded_at, overdue))
    return states


def job_overview(
    actor: Any, now: datetime | None = None, page: int = 1, per_page: int = RECENT_RUNS_SHOWN
) -> JobOverview:
    """Return every job's state and a page of the runs, latest first, for the administrators."""
    # The administrators run the installation; nobody else needs its timers.
    require_permission(actor, Permission.ACCOUNTS_MANAGE)
    recent = paginate(
        select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()),
        page, per_page, LIST_PAGE_MAX,
    )
    return JobOverview(job_states(now), recent)


def operations_figures(now: datetime | None = None) -> OperationsFigures:
    """Return the mail queue, the overdue feedback and the services by status, right now."""
    now = now or utc_now()
    queued, oldest = db.session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.sent_at.is_(None))
    ).one()
    return OperationsFigures(
        outbox_queued=queued or 0,
        outbox_oldest_age_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        # Every department's, as the installation's operator sees them.
        feedback_overdue=feedback_overdue_count(CLI_OPERATOR, now),
        services_by_status=dict(status_counts(now=now)),
    )
