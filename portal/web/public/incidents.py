"""Public incident pages: open incidents, history, planned maintenance, one incident.

Served from the page cache like the other public pages (portal/web/public/live.py): the
public data version counts incidents, their updates, maintenance and audited staff edits,
so a new incident or update shows at once. Their Atom feed is served by
portal/web/public/feeds.py.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from portal.services.metrics import incidents as incident_service
from portal.web.public.live import public_page

bp = Blueprint("incidents", __name__, url_prefix="/<lang>")

IMPACT_LABELS = {
    "minor": _l("Minor disruption"),
    "major": _l("Major disruption"),
    "outage": _l("Outage"),
}
STATE_LABELS = {
    "investigating": _l("Investigating"),
    "identified": _l("Cause identified"),
    "monitoring": _l("Monitoring a fix"),
    "resolved": _l("Resolved"),
}
HISTORY_LIMIT = 50


@bp.app_template_global()
def incident_impact_label(impact: str) -> str:
    """Return the translated name of an incident's impact."""
    return str(IMPACT_LABELS.get(impact, impact))


@bp.app_template_global()
def incident_state_label(state: str) -> str:
    """Return the translated name of an incident's state."""
    return str(STATE_LABELS.get(state, state))


@bp.get("/incidents")
@public_page
def index() -> str:
    """List open incidents, current and upcoming maintenance, then past incidents."""
    service_code = request.args.get("service", "").strip()[:64] or None
    return render_template(
        "public/incidents/index.html",
        open_incidents=incident_service.incident_list(
            service=service_code, include_resolved=False, limit=None
        ),
        resolved_incidents=incident_service.incident_list(
            service=service_code, only_resolved=True, limit=HISTORY_LIMIT
        ),
        maintenance=incident_service.maintenance_list(service=service_code, when="current"),
        service_code=service_code,
    )


@bp.get("/incidents/<int:incident_id>")
@public_page
def detail(incident_id: int) -> str:
    """Show one incident and its timeline of updates, newest first."""
    incident = incident_service.incident_get(incident_id)
    return render_template("public/incidents/detail.html", incident=incident)
