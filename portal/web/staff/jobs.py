"""The periodic jobs page: when each command last ran, how it ended, and which are overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template, request
from flask_babel import format_datetime, format_decimal, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.services.auth import Permission
from portal.services.jobs import SKIPPED_LOCKED, SKIPPED_RECENT, job_overview
from portal.web import paging
from portal.web.staff.blueprint import bp, dashboard_link

dashboard_link(
    "staff.jobs", _l("Periodic jobs"),
    _l("When each periodic command last ran, how long it took, and whether it succeeded."),
    Permission.ACCOUNTS_MANAGE, order=90,
)

# What each job does, as the README's "Operations" table says it.
JOB_DESCRIPTIONS = {
    "status refresh": _l("Recomputes every service's status."),
    "checks run": _l("Probes each service's online channel."),
    "outbox send": _l("Sends the queued mail; failures are retried later."),
    "feedback tick": _l("Closes resolved feedback past its automatic close and queues "
                        "overdue reminders."),
    "feedback digest": _l("Queues each department's daily digest of overdue feedback."),
}


def _outcome_labels() -> dict[str, str]:
    """Name each outcome of a run in the reader's language."""
    return {"running": _("Running"), "succeeded": _("Succeeded"), "failed": _("Failed"),
            "skipped": _("Skipped")}


def _detail_text(outcome: str, detail: str) -> str:
    """Explain why a run was skipped; a failure's detail is its error's name, shown as is."""
    if outcome == "skipped" and detail == SKIPPED_LOCKED:
        return _("Another server was running this job.")
    if outcome == "skipped" and detail == SKIPPED_RECENT:
        return _("It had succeeded less than half its interval before.")
    return detail


def _time_text(value: datetime | None) -> str:
    """Format a time in WIB to the second (jobs run every minute)."""
    return f"{format_datetime(value, 'd MMMM y, HH.mm.ss')} WIB" if value else ""


def _seconds_text(seconds: float | None) -> str:
    """Format a duration in seconds (the SI symbol reads the same in every language)."""
    return "" if seconds is None else f"{format_decimal(round(seconds, 1))} s"


def _interval_text(cadence: timedelta) -> str:
    """Say how often a job runs ("every 10 minutes")."""
    return _("every %(interval)s", interval=format_timedelta(cadence, threshold=1))


@bp.get("/jobs")
@login_required
def jobs():
    """Show each periodic job's last run and last success, and the runs a page at a time."""
    overview = job_overview(current_user, page=paging.page_number(request.args))
    return render_template(
        "staff/jobs.html", overview=overview, descriptions=JOB_DESCRIPTIONS,
        outcome_labels=_outcome_labels(), detail_text=_detail_text, time_text=_time_text,
        seconds_text=_seconds_text, interval_text=_interval_text,
    )
