"""Public pages: home, services, departments (every URL starts with the language).

Pages are served through ``public_page`` (portal/views/live.py): conditional answers, a short
public cache lifetime and an in-process page cache keyed on the public data version. The
refresh script (static/js/refresh.js) polls ``live`` and swaps the ``[data-live]`` regions.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from portal.i18n import current_lang
from portal.models.catalogue import WORK_MODES
from portal.models.metrics import SERVICE_STATUSES
from portal.services.catalogue import arrangements, search
from portal.services.catalogue import directory as catalogue
from portal.services.catalogue.places import department_place, service_place
from portal.services.catalogue.public_figures import (
    DAILY_BAR_DAYS,
    oldest_status_time,
    province_overview,
    service_figures,
)
from portal.services.metrics.incidents import incident_list
from portal.services.metrics.status import STATUS_WINDOW_DAYS, status_reason_text
from portal.web import charts
from portal.web.formatting import (
    by_lang,
    commitment_text,
    date_long,
    updated_ago_forms,
    work_mode_label,
)
from portal.web.paging import page_number
from portal.web.public.live import live_version_response, public_page, updated_ago, version_etag

bp = Blueprint("public", __name__, url_prefix="/<lang>")
# The order in which pages list statuses: the judged ones first, then the exceptions.
STATUS_ORDER = ("meeting", "at_risk", "breaching", "disrupted", "insufficient_data", "no_data")
assert sorted(STATUS_ORDER) == sorted(SERVICE_STATUSES)


# Template globals (not a context processor: the macros of macros/metrics.html need them).
# Rates, durations and status names come from portal.web.formatting, which registers them.
for _name, _helper in {
    "updated_ago": updated_ago,
    "commitment_sentence": by_lang(commitment_text),
    "mode_label": by_lang(work_mode_label),
    "day_text": by_lang(date_long),
    "status_reason": status_reason_text,
    "live_version": version_etag,
    "ago_forms": updated_ago_forms,
    "service_statuses": STATUS_ORDER,
    # The windows the pages name ("over the last 30 days"), from the rules that set them.
    "status_window_days": STATUS_WINDOW_DAYS,
    "daily_bar_days": DAILY_BAR_DAYS,
}.items():
    bp.add_app_template_global(_helper, _name)
_day_sentence = by_lang(charts.day_sentence)


def _oldest(views) -> object:
    """Return the oldest computation time of some statuses (None when none was computed)."""
    times = [v.computed_at for v in views if v.computed_at is not None]
    return min(times) if times else None


@bp.get("/")
@public_page
def home() -> str:
    """Show the province at a glance: statuses by work mode, disruptions, and search."""
    return render_template(
        "public/home.html",
        counts=catalogue.work_mode_counts(),
        overview=province_overview(),
    )


# Services per page of the list unless ?per_page says otherwise (at most MAX_PER_PAGE).
SERVICES_PER_PAGE = 25


def _per_page(args) -> int:
    """Return ?per_page as a number from 1 to MAX_PER_PAGE (the default when unreadable)."""
    value = args.get("per_page", "")
    if value.isascii() and value.isdigit() and int(value) > 0:
        return min(int(value), search.MAX_PER_PAGE)
    return SERVICES_PER_PAGE


@bp.get("/services")
@public_page
def services() -> str:
    """List services a page at a time: searched (ranked), by department, work mode, status."""
    query = request.args.get("q", "").strip()[:100]
    department = request.args.get("department", "").strip()[:64]
    mode = request.args.get("mode", "").strip()
    if mode not in WORK_MODES:
        mode = ""
    status = request.args.get("status", "").strip()
    if status not in SERVICE_STATUSES:
        status = ""
    per_page = _per_page(request.args)
    found = search.service_search_page(
        query, department, mode, status, page=page_number(request.args), per_page=per_page,
        lang=current_lang(),
    )
    rows = found.page.items
    # The filters, kept on every page link (None: left out of the URL).
    filters = {"q": query or None, "department": department or None, "mode": mode or None,
               "status": status or None,
               "per_page": per_page if per_page != SERVICES_PER_PAGE else None}
    return render_template(
        "public/services.html",
        rows=rows,
        found=found,
        filters=filters,
        updated_at=_oldest(row.status for row in rows),
        departments=catalogue.department_list(),
        query=query,
        department=department,
        mode=mode,
        status=status,
    )


@bp.get("/services/<code>")
@public_page
def service(code: str) -> str:
    """Show one service: its status and figures, charts, incidents, commitment, histories."""
    found = catalogue.service_get(code)
    figures = service_figures(found)
    target = found.on_time_target
    return render_template(
        "public/service.html",
        service=found,
        place=service_place(found),
        figures=figures,
        daily_chart=charts.daily_bar(figures.daily, target, _day_sentence),
        daily_summary=charts.daily_summary(figures.daily, target),
        trend_chart=charts.trend_chart(figures.trend, target) if figures.trend else None,
        trend_summary=charts.trend_summary(figures.trend) if figures.trend else "",
    )


@bp.get("/departments")
@public_page
def departments() -> str:
    """List departments with their services counted by status."""
    rows = catalogue.department_list_with_status()
    return render_template(
        "public/departments.html",
        rows=rows,
        updated_at=oldest_status_time() if rows else None,
    )


@bp.get("/departments/<code>")
@public_page
def department(code: str) -> str:
    """Show one department: its status counts, open incidents and services with status."""
    overview = catalogue.department_overview(code)
    return render_template(
        "public/department.html",
        department=overview.department,
        overview=overview,
        place=department_place(overview.department),
        updated_at=_oldest(row.status for row in overview.rows),
        incidents=incident_list(department=overview.department, include_resolved=False),
        arrangement=arrangements.arrangement_current(overview.department),
        arrangement_history=arrangements.arrangement_history(overview.department),
        arrangement_measures=arrangements.arrangement_measures(overview.department),
    )


@bp.get("/live")
def live():
    """Answer the public data version (ETag); 304 while it is unchanged."""
    return live_version_response()
